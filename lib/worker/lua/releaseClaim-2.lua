--[[
  Give back a claim whose call was not made (too late to respect the rate limit), so a deferred delivery can run it.

  The rate-limit entries of the claim stay: a released claim costs capacity, never adds any.

  Input:
    KEYS[1] job hash
    KEYS[2] metrics hash

    ARGV[1] now (epoch ms)
    ARGV[2] attempt that is given back (fencing token)
    ARGV[3] task id

  Output:
    JSON {deferrals, replays}, or nil when the attempt no longer owns the job
]]
local cur = redis.call('HMGET', KEYS[1], 'attempts', 'state', 'replays')
if cur[1] ~= ARGV[2] or cur[2] ~= 'running' then return nil end
redis.call('HINCRBY', KEYS[1], 'attempts', -1)
redis.call('HSET', KEYS[1], 'state', 'deferred', 'updatedAt', ARGV[1])
redis.call('HDEL', KEYS[1], 'leaseUntil')
local deferrals = redis.call('HINCRBY', KEYS[1], 'deferrals', 1)
redis.call('HINCRBY', KEYS[2], ARGV[3] .. ':late', 1)
return cjson.encode({ deferrals = deferrals, replays = tonumber(cur[3]) or 0 })
