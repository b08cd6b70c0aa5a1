--[[
  Take the scheduler lock if it is free and hand the new holder the next fencing number.

  Input:
    KEYS[1] scheduler lock (string: owner token, PX)
    KEYS[2] fence counter (every grant and every slot hand-over takes the next number)
    KEYS[3] scheduler status hash

    ARGV[1] owner token (random, known only to the holder)
    ARGV[2] time to live (ms)
    ARGV[3] holder label shown by the status API (not a secret)
    ARGV[4] now (epoch ms)

  Output:
    the fence (>= 1) when granted; -1 when another owner holds the lock
]]
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return -1 end
local fence = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[3], 'holder', ARGV[3], 'holderFence', fence, 'lockedAt', ARGV[4])
return fence
