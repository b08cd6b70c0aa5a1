--[[
  Take a dead letter out of the list and reset its job so the replayed message can run.

  The job is reset before the message is published: a replay delivered at once must not find
  the job still dead. If publishing fails, restoreDeadLetter puts both back.

  Input:
    KEYS[1] dead-letter zset (id -> time)
    KEYS[2] dead-letter hash
    KEYS[3] job hash

    ARGV[1] now (epoch ms)
    ARGV[2] dead-letter id
    ARGV[3] job hash retention (ms)

  Output:
    the stored job message (JSON text), or nil when there is no such dead letter in the list
]]
if redis.call('ZREM', KEYS[1], ARGV[2]) == 0 then return nil end
local message = redis.call('HGET', KEYS[2], 'message')
redis.call('HSET', KEYS[2], 'status', 'replaying', 'replayedAt', ARGV[1])
redis.call('HSET', KEYS[3], 'state', 'queued', 'attempts', 0, 'deferrals', 0, 'replayedAt', ARGV[1], 'updatedAt', ARGV[1])
redis.call('HINCRBY', KEYS[3], 'replays', 1)
redis.call('HDEL', KEYS[3], 'leaseUntil', 'deadAt')
redis.call('PEXPIRE', KEYS[3], ARGV[3])
return message
