--[[
  Undo replayDeadLetter when the replay could not be published, so the dead letter is not lost.

  Input:
    KEYS[1] dead-letter zset (id -> time)
    KEYS[2] dead-letter hash
    KEYS[3] job hash

    ARGV[1] now (epoch ms)
    ARGV[2] dead-letter id

  Output:
    1 restored, 0 nothing to restore
]]
local deadAt = redis.call('HGET', KEYS[2], 'deadAt')
if not deadAt then return 0 end
redis.call('ZADD', KEYS[1], deadAt, ARGV[2])
redis.call('HSET', KEYS[2], 'status', 'dead')
redis.call('HDEL', KEYS[2], 'replayedAt')
redis.call('HSET', KEYS[3], 'state', 'dead', 'deadAt', deadAt, 'updatedAt', ARGV[1])
return 1
