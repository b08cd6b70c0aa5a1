--[[
  The end of several attempts of one task and period in one call: each run is recorded exactly as recordRun
  records one (the same code, recordOne), in order: history, metrics, period stats, the job state fenced by its
  attempt, the dead letter when dead, and a dead letter taken back on success.

  Takes 3 fixed keys, then three keys per run (variadic: `KEYS[4..]`).

  Input:
    KEYS[1]  metrics hash
    KEYS[2]  dead-letter zset (id -> time)
    KEYS[3]  period stats hash of (task, period) (lib/metrics)
    KEYS[4..] per run: its job hash, its run history list of (user, task), its job's dead-letter hash

    ARGV[1]  task id
    ARGV[2]  history cap
    ARGV[3]  job hash retention (ms)
    ARGV[4..] per run, 12 values: now (epoch ms), attempt that ran (fencing token), outcome (succeeded | failed |
             dead), HTTP status of the target (0 = none), duration (ms), error text ('' = none), run entry (JSON
             text), job id (dead-letter id), job message (JSON text), dead-letter reason, duration histogram
             bucket label, period stats retention (ms; 0 = keep no period stats)

  Metrics: per run, as recordRun counts them.

  Output:
    an array of 1 (recorded) or 0 (stale: a later attempt owns the job), one per run, in order
]]
--- @include "recordOne"
local RUN_ARGS, FIRST_RUN_KEY, FIRST_RUN_ARG = 12, 4, 4
local runs = (#KEYS - FIRST_RUN_KEY + 1) / 3
if runs < 1 or runs % 1 ~= 0 or #ARGV ~= FIRST_RUN_ARG - 1 + RUN_ARGS * runs then
  return redis.error_reply('ERR recordBatch: keys and arguments do not match')
end

local shared = { cap = ARGV[2], taskId = ARGV[1], retention = ARGV[3] }
local recorded = {}
for n = 0, runs - 1 do
  local k, a = FIRST_RUN_KEY + 3 * n, FIRST_RUN_ARG + RUN_ARGS * n
  recorded[n + 1] = recordOne({ job = KEYS[k], runs = KEYS[k + 1], metrics = KEYS[1], deadLetters = KEYS[2],
    deadLetter = KEYS[k + 2], stats = KEYS[3] }, recordFields(ARGV, a, a + 7, shared))
end
return recorded
