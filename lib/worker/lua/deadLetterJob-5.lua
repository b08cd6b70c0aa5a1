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
--- @include "deadLetterOne"
return deadLetterOne(
  { job = KEYS[1], zset = KEYS[2], record = KEYS[3], metrics = KEYS[4], stats = KEYS[5] },
  { now = ARGV[1], jobId = ARGV[2], message = ARGV[3], origin = ARGV[4], createdAt = ARGV[5], status = ARGV[6],
    error = ARGV[7], messageId = ARGV[8], dlqId = ARGV[9], retentionMs = ARGV[10], toleranceMs = ARGV[11],
    taskId = ARGV[12] },
  false)
