--[[
  A QStash failure callback turns the job into a dead letter, unless it already succeeded or was replayed since.

  Input:
    KEYS[1] job hash
    KEYS[2] dead-letter zset (id -> time)
    KEYS[3] dead-letter hash of this job
    KEYS[4] metrics hash
    KEYS[5] period stats hash of (task, period): counted only if the job's start created it

    ARGV[1]  now (epoch ms)
    ARGV[2]  job id (dead-letter id)
    ARGV[3]  job message (JSON text) decoded from the callback's sourceBody
    ARGV[4]  origin of that message
    ARGV[5]  createdAt of the failed QStash message (epoch ms, 0 = unknown)
    ARGV[6]  status QStash saw last (used when the worker recorded none)
    ARGV[7]  error text from the callback (used when the worker recorded none)
    ARGV[8]  QStash message id
    ARGV[9]  QStash DLQ id ('' = none)
    ARGV[10] job hash retention (ms)
    ARGV[11] replay tolerance (ms): clock difference allowed between QStash and us
    ARGV[12] task id

  Output:
    'stored' | 'updated' (already a dead letter) | 'ignored' (succeeded or skipped) | 'stale' (from before a replay)
]]
local job = KEYS[1]
local cur = redis.call('HMGET', job, 'state', 'replayedAt', 'lastStatus', 'lastError', 'attempts')
local state = cur[1]
if state == 'succeeded' or state == 'skipped' then return 'ignored' end
local replayedAt = tonumber(cur[2])
local createdAt = tonumber(ARGV[5])
if replayedAt and (ARGV[4] ~= 'replay' or (createdAt > 0 and createdAt < replayedAt - tonumber(ARGV[11]))) then
  return 'stale'
end

local lastStatus = cur[3] or ARGV[6]
local lastError = cur[4] or ARGV[7]
local attempts = cur[5] or '0'
local fresh = redis.call('ZADD', KEYS[2], 'NX', ARGV[1], ARGV[2]) == 1
if fresh then
  redis.call('HSET', KEYS[3], 'jobId', ARGV[2], 'message', ARGV[3], 'lastStatus', lastStatus,
    'lastError', lastError, 'attempts', attempts, 'deadAt', ARGV[1], 'reason', 'retries_exhausted', 'status', 'dead')
  redis.call('HINCRBY', KEYS[4], ARGV[12] .. ':dlq_retries_exhausted', 1)
  -- Only where the worker created it (with its retention): manual runs keep no period stats.
  if redis.call('EXISTS', KEYS[5]) == 1 then redis.call('HINCRBY', KEYS[5], 'dead', 1) end
end
redis.call('HSET', KEYS[3], 'qstashMessageId', ARGV[8])
if ARGV[9] ~= '' then redis.call('HSET', KEYS[3], 'qstashDlqId', ARGV[9]) end
if state ~= 'dead' then
  redis.call('HSET', job, 'jobId', ARGV[2], 'state', 'dead', 'deadAt', ARGV[1], 'updatedAt', ARGV[1],
    'lastStatus', lastStatus, 'lastError', lastError)
  redis.call('HDEL', job, 'leaseUntil')
  redis.call('PEXPIRE', job, ARGV[10])
end
if fresh then return 'stored' end
return 'updated'
