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
--- @include "recordOne"
return recordOne(
  { job = KEYS[1], runs = KEYS[2], metrics = KEYS[3], deadLetters = KEYS[4], deadLetter = KEYS[5], stats = KEYS[6] },
  recordFields(ARGV, 1, 11, { cap = ARGV[8], taskId = ARGV[9], retention = ARGV[10] }))
