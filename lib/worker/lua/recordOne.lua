-- One attempt's end, shared by recordRun and recordBatch so that a run is recorded by the same rules alone or in a
-- batch: capped history, metrics, period stats, the job state fenced by the attempt, the dead letter.
--
-- k: keys job, runs (history list), metrics, deadLetters (zset), deadLetter (this job's hash), stats.
-- a: the run, as recordFields reads it: now, attempt, outcome, status, durationMs, error, run (history entry),
--    cap, taskId, retention, jobId, message, reason, bucket (duration histogram label), statsTtl (0 = none).

-- The run's own arguments: seven from argv[i] (now, attempt, outcome, status, duration, error, run entry) and five
-- from argv[j] (job id, message, dead-letter reason, duration bucket label, period stats retention); cap, task id
-- and retention are shared by a batch and come with `shared`.
local function recordFields(argv, i, j, shared)
  return { now = argv[i], attempt = argv[i + 1], outcome = argv[i + 2], status = argv[i + 3],
    durationMs = argv[i + 4], error = argv[i + 5], run = argv[i + 6],
    jobId = argv[j], message = argv[j + 1], reason = argv[j + 2], bucket = argv[j + 3], statsTtl = argv[j + 4],
    cap = shared.cap, taskId = shared.taskId, retention = shared.retention }
end

-- Records one run; 1 recorded, 0 stale (a later attempt owns the job: history and metrics only).
local function recordOne(k, a)
  local job, metrics, outcome, taskId = k.job, k.metrics, a.outcome, a.taskId
  redis.call('LPUSH', k.runs, a.run)
  redis.call('LTRIM', k.runs, 0, tonumber(a.cap) - 1)
  redis.call('HINCRBY', metrics, taskId .. ':' .. outcome, 1)
  redis.call('HINCRBY', metrics, taskId .. ':dur:' .. a.bucket, 1)
  redis.call('HINCRBY', metrics, taskId .. ':dur:sum', a.durationMs)
  if tonumber(a.statsTtl) > 0 then
    redis.call('HINCRBY', k.stats, outcome, 1)
    redis.call('PEXPIRE', k.stats, a.statsTtl)
  end

  if redis.call('HGET', job, 'attempts') ~= a.attempt then return 0 end

  redis.call('HSET', job, 'state', outcome, 'lastStatus', a.status, 'durationMs', a.durationMs,
    'finishedAt', a.now, 'updatedAt', a.now)
  redis.call('HDEL', job, 'leaseUntil')
  if a.error == '' then redis.call('HDEL', job, 'lastError') else redis.call('HSET', job, 'lastError', a.error) end
  redis.call('PEXPIRE', job, a.retention)

  if outcome == 'dead' then
    redis.call('HSET', job, 'deadAt', a.now)
    if redis.call('ZADD', k.deadLetters, 'NX', a.now, a.jobId) == 1 then
      redis.call('HINCRBY', metrics, taskId .. ':dlq_' .. a.reason, 1)
    end
    redis.call('HSET', k.deadLetter, 'jobId', a.jobId, 'message', a.message, 'lastStatus', a.status,
      'lastError', a.error, 'attempts', a.attempt, 'deadAt', a.now, 'reason', a.reason, 'status', 'dead')
  elseif outcome == 'succeeded' then
    -- A failure callback may have dead-lettered the job while this attempt was still running.
    if redis.call('ZREM', k.deadLetters, a.jobId) == 1 then redis.call('DEL', k.deadLetter) end
  end
  return 1
end
