-- One job into the dead letters from a QStash failure: the decision deadLetterJob makes for a job message and
-- deadLetterBatch for each job of a batch message.
--
-- k: keys {job, zset, record, metrics, stats}: the job hash, the dead-letter zset, this job's dead-letter hash, the
--    metrics hash, the period stats hash of (task, period) (counted only if the job's start created it).
-- a: {now, jobId, message, origin, createdAt, status, error, messageId, dlqId, retentionMs, toleranceMs, taskId}
--    as deadLetterJob's ARGV 1..12 describe them.
-- deadSettled: true for a batch's job, whose own dead letter (or a single-job message's) settled it already: a
--    job already dead is then left as it is ('ignored') instead of taking this failure's message id ('updated').
-- Returns 'stored' | 'updated' (already a dead letter) | 'ignored' (settled) | 'stale' (from before a replay).
local function deadLetterOne(k, a, deadSettled)
  local cur = redis.call('HMGET', k.job, 'state', 'replayedAt', 'lastStatus', 'lastError', 'attempts')
  local state = cur[1]
  if state == 'succeeded' or state == 'skipped' then return 'ignored' end
  if deadSettled and state == 'dead' then return 'ignored' end
  local replayedAt = tonumber(cur[2])
  local createdAt = tonumber(a.createdAt)
  if replayedAt and (a.origin ~= 'replay' or (createdAt > 0 and createdAt < replayedAt - tonumber(a.toleranceMs))) then
    return 'stale'
  end

  local lastStatus = cur[3] or a.status
  local lastError = cur[4] or a.error
  local attempts = cur[5] or '0'
  local fresh = redis.call('ZADD', k.zset, 'NX', a.now, a.jobId) == 1
  if fresh then
    redis.call('HSET', k.record, 'jobId', a.jobId, 'message', a.message, 'lastStatus', lastStatus,
      'lastError', lastError, 'attempts', attempts, 'deadAt', a.now, 'reason', 'retries_exhausted', 'status', 'dead')
    redis.call('HINCRBY', k.metrics, a.taskId .. ':dlq_retries_exhausted', 1)
    -- Only where the worker created it (with its retention): manual runs keep no period stats.
    if redis.call('EXISTS', k.stats) == 1 then redis.call('HINCRBY', k.stats, 'dead', 1) end
  end
  redis.call('HSET', k.record, 'qstashMessageId', a.messageId)
  if a.dlqId ~= '' then redis.call('HSET', k.record, 'qstashDlqId', a.dlqId) end
  if state ~= 'dead' then
    redis.call('HSET', k.job, 'jobId', a.jobId, 'state', 'dead', 'deadAt', a.now, 'updatedAt', a.now,
      'lastStatus', lastStatus, 'lastError', lastError)
    redis.call('HDEL', k.job, 'leaseUntil')
    redis.call('PEXPIRE', k.job, a.retentionMs)
  end
  if fresh then return 'stored' end
  return 'updated'
end
