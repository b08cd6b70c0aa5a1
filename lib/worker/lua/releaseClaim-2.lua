--[[
  Give back a claim whose call was not made (too late to respect the rate limit), so it can start again.

  Its reservation leaves every rate-limit log with it: the call was never sent, so the capacity returns
  for the next start (this one's, or any other job's).

  Input:
    KEYS[1] job hash
    KEYS[2] metrics hash
    KEYS[3..] rate-limit logs the claim was written to (members as startJob names them)

    ARGV[1] now (epoch ms)
    ARGV[2] attempt that is given back (fencing token)
    ARGV[3] task id
    ARGV[4] job id

  Output:
    JSON {deferrals, replays}, or nil when the attempt no longer owns the job
]]
local cur = redis.call('HMGET', KEYS[1], 'attempts', 'state', 'replays')
if cur[1] ~= ARGV[2] or cur[2] ~= 'running' then return nil end
local replays = tonumber(cur[3]) or 0
local member = ARGV[4] .. '#' .. ARGV[2]
if replays > 0 then member = ARGV[4] .. '#r' .. replays .. '.' .. ARGV[2] end
for i = 3, #KEYS do redis.call('ZREM', KEYS[i], member) end
redis.call('HINCRBY', KEYS[1], 'attempts', -1)
redis.call('HSET', KEYS[1], 'state', 'deferred', 'updatedAt', ARGV[1])
redis.call('HDEL', KEYS[1], 'leaseUntil')
local deferrals = redis.call('HINCRBY', KEYS[1], 'deferrals', 1)
redis.call('HINCRBY', KEYS[2], ARGV[3] .. ':late', 1)
return cjson.encode({ deferrals = deferrals, replays = replays })
