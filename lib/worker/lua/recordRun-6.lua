--[[
  The end of one attempt — job state, capped run history, metrics and (when dead) the dead letter, atomically.

  The attempt number fences the write: a delivery whose claim expired and was taken over by a
  later attempt still leaves its run in the history and metrics, but no longer owns the job state.

  Input:
    KEYS[1] job hash
    KEYS[2] run history list of (user, task), newest first
    KEYS[3] metrics hash
    KEYS[4] dead-letter zset (id -> time)
    KEYS[5] dead-letter hash of this job
    KEYS[6] period stats hash of (task, period) (lib/metrics)

    ARGV[1]  now (epoch ms)
    ARGV[2]  attempt that ran (fencing token)
    ARGV[3]  outcome: succeeded | failed | dead
    ARGV[4]  HTTP status of the target (0 = none: timeout, network error, refused before calling)
    ARGV[5]  duration (ms)
    ARGV[6]  error text, at most 500 characters ('' = none)
    ARGV[7]  run entry (JSON text) for the history
    ARGV[8]  history cap
    ARGV[9]  task id
    ARGV[10] job hash retention (ms)
    ARGV[11] job id (dead-letter id)
    ARGV[12] job message (JSON text), kept in the dead letter for replay
    ARGV[13] dead-letter reason
    ARGV[14] duration histogram bucket label of ARGV[5] (lib/metrics/buckets.ts)
    ARGV[15] period stats retention (ms); 0 = keep no period stats (manual runs)

  Metrics (no extra round trip): <task>:<outcome>, the duration histogram <task>:dur:<le>|sum,
  <task>:dlq_<reason> when this run made the dead letter; the period stats count the outcome.

  Output:
    1 recorded, 0 stale (a later attempt owns the job)
]]
local job = KEYS[1]
local outcome, taskId = ARGV[3], ARGV[9]
redis.call('LPUSH', KEYS[2], ARGV[7])
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[8]) - 1)
redis.call('HINCRBY', KEYS[3], taskId .. ':' .. outcome, 1)
redis.call('HINCRBY', KEYS[3], taskId .. ':dur:' .. ARGV[14], 1)
redis.call('HINCRBY', KEYS[3], taskId .. ':dur:sum', ARGV[5])
if tonumber(ARGV[15]) > 0 then
  redis.call('HINCRBY', KEYS[6], outcome, 1)
  redis.call('PEXPIRE', KEYS[6], ARGV[15])
end

if redis.call('HGET', job, 'attempts') ~= ARGV[2] then return 0 end

redis.call('HSET', job, 'state', outcome, 'lastStatus', ARGV[4], 'durationMs', ARGV[5],
  'finishedAt', ARGV[1], 'updatedAt', ARGV[1])
redis.call('HDEL', job, 'leaseUntil')
if ARGV[6] == '' then redis.call('HDEL', job, 'lastError') else redis.call('HSET', job, 'lastError', ARGV[6]) end
redis.call('PEXPIRE', job, ARGV[10])

if outcome == 'dead' then
  redis.call('HSET', job, 'deadAt', ARGV[1])
  if redis.call('ZADD', KEYS[4], 'NX', ARGV[1], ARGV[11]) == 1 then
    redis.call('HINCRBY', KEYS[3], taskId .. ':dlq_' .. ARGV[13], 1)
  end
  redis.call('HSET', KEYS[5], 'jobId', ARGV[11], 'message', ARGV[12], 'lastStatus', ARGV[4],
    'lastError', ARGV[6], 'attempts', ARGV[2], 'deadAt', ARGV[1], 'reason', ARGV[13], 'status', 'dead')
elseif outcome == 'succeeded' then
  -- A failure callback may have dead-lettered the job while this attempt was still running.
  if redis.call('ZREM', KEYS[4], ARGV[11]) == 1 then redis.call('DEL', KEYS[5]) end
end
return 1
