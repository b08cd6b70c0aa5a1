--[[
  A QStash failure callback of a batch message: each of its jobs not settled becomes a dead letter of its own, stored
  with its single-job message (so it replays as any job does), exactly as deadLetterJob decides for one job, except
  that a job already dead is settled too (the worker dead-lettered it, or its own message's failure did).

  Input:
    KEYS[1] dead-letter zset (id -> time)
    KEYS[2] metrics hash
    KEYS[3] period stats hash of the batch's (task, period): counted only if the jobs' starts created it
    KEYS[4..] per job, in order: its job hash, then its dead-letter hash

    ARGV[1]  now (epoch ms)
    ARGV[2]  origin of the batch (always scheduled)
    ARGV[3]  createdAt of the failed QStash message (epoch ms, 0 = unknown)
    ARGV[4]  status QStash saw last (used where the worker recorded none)
    ARGV[5]  error text from the callback (used where the worker recorded none)
    ARGV[6]  QStash message id
    ARGV[7]  QStash DLQ id ('' = none)
    ARGV[8]  job hash retention (ms)
    ARGV[9]  replay tolerance (ms): clock difference allowed between QStash and us
    ARGV[10] task id
    ARGV[11..] per job, in the order of KEYS[4..]: its job id (dead-letter id), then its single-job message (JSON)

  Output:
    one outcome per job, in order: 'stored' | 'updated' | 'ignored' (succeeded, skipped or dead) | 'stale'
]]
--- @include "deadLetterOne"
local out = {}
for i = 4, #KEYS, 2 do
  local n = (i - 4) / 2
  out[#out + 1] = deadLetterOne(
    { job = KEYS[i], zset = KEYS[1], record = KEYS[i + 1], metrics = KEYS[2], stats = KEYS[3] },
    { now = ARGV[1], jobId = ARGV[11 + 2 * n], message = ARGV[12 + 2 * n], origin = ARGV[2], createdAt = ARGV[3],
      status = ARGV[4], error = ARGV[5], messageId = ARGV[6], dlqId = ARGV[7], retentionMs = ARGV[8],
      toleranceMs = ARGV[9], taskId = ARGV[10] },
    true)
end
return out
