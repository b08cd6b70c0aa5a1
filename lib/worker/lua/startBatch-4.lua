--[[
  The start of every job of one batch (one slot: same task, period and origin) in one call: each job is started
  exactly as startJob starts one (the same code, startOne), in order, so a later job sees the reservations of the
  earlier ones. The script's time is read once and the rate-limit logs are trimmed once, before the first job.

  One difference from startJob: a job's reservation is never before its own planned notBefore. It is the earliest
  instant at or after max(script time + min(lead, budget), notBefore) that every limit allows, and it is refused
  (denied: nothing claimed or consumed, the deferral slot as in startJob) when that instant is later than
  max(script time, notBefore) + budget. The claim's lease runs from the reserved instant, as in startJob.

  Takes 4 fixed keys, then one rate-limit log per limit, then three keys per job (variadic: `KEYS[5..]`).

  Input:
    KEYS[1]  paused task types set
    KEYS[2]  metrics hash
    KEYS[3]  deferral horizons hash (limit name -> next free deferral slot, epoch ms)
    KEYS[4]  period stats hash of (task, period): outcomes and start-time buckets (lib/metrics)
    KEYS[5..] the rate-limit logs, one per limit triple in ARGV (as startJob's), then per job: its job hash, its
             user's hash, its user's tasks hash

    ARGV[1]  now (epoch ms): job times; also the floor of the script's time
    ARGV[2]  task id
    ARGV[3]  period key
    ARGV[4]  origin
    ARGV[5]  lease (ms): how long a claim stays exclusive once its wait is over
    ARGV[6]  skip reason from the catalog ('' = none)
    ARGV[7]  job hash retention (ms)
    ARGV[8]  rate-limit guard (ms) added to every window
    ARGV[9]  Upstash-Retried of this delivery
    ARGV[10] start-time bucket width (ms) of the period stats; 0 = keep no period stats
    ARGV[11] period stats retention (ms)
    ARGV[12] wait budget (ms), counted from max(script time, the job's notBefore); later is refused
    ARGV[13] lead (ms): reserve no earlier than this after the script's time; <= budget
    ARGV[14] number of limits n
    ARGV[15] hold (ms): every job may also be reserved until the script's time plus this (0 = none): the
             invocation waits for its last job anyway
    ARGV[16..] name, limit, window ms: one triple per limit (3n values), then per job: job id, user id, planned
             notBefore (epoch ms)

  Metrics and period stats: per job, as startJob counts them.

  Output: JSON {serverAt, serverEnd, results}
    serverAt  the server clock (ms) the script read; each claimed job's waitMs counts from the script's time
    serverEnd the server clock (ms) at the script's end (serverAt when TIME is unavailable)
    results   one reply per job, in order, each in one of startJob's shapes (duplicate, busy, skipped, denied,
              claimed with admittedAt as text)
]]
--- @include "startOne"
local FIRST_LIMIT_KEY, FIRST_LIMIT_ARG = 5, 16
local limits = tonumber(ARGV[14])
local firstJobKey, firstJobArg = FIRST_LIMIT_KEY + limits, FIRST_LIMIT_ARG + 3 * limits
local jobs = (#KEYS - firstJobKey + 1) / 3
if jobs < 1 or jobs % 1 ~= 0 or #ARGV ~= firstJobArg - 1 + 3 * jobs then
  return redis.error_reply('ERR startBatch: keys and arguments do not match ' .. limits .. ' limits')
end

local logKeys = {}
for n = 1, limits do logKeys[n] = KEYS[FIRST_LIMIT_KEY + n - 1] end
local s = startPolicy({ paused = KEYS[1], metrics = KEYS[2], horizons = KEYS[3], stats = KEYS[4],
  now = tonumber(ARGV[1]), nowText = ARGV[1], taskId = ARGV[2], periodKey = ARGV[3], origin = ARGV[4] }, ARGV, 5)
s.hold = tonumber(ARGV[15])
s.logs = startLogs(logKeys, ARGV, FIRST_LIMIT_ARG, s.guard)
startReady(s)

local results = {}
for n = 0, jobs - 1 do
  local k, a = firstJobKey + 3 * n, firstJobArg + 3 * n
  results[n + 1] = startOne(s, { job = KEYS[k], user = KEYS[k + 1], tasks = KEYS[k + 2], jobId = ARGV[a],
    userId = ARGV[a + 1], notBefore = ARGV[a + 2], from = tonumber(ARGV[a + 2]) })
end
-- The server clock once more at the end: a long batch's reply comes back that much after its first reading, which
-- the caller takes off the round trip when it places the reservations on its own clock.
local serverEnd = s.serverAt
local ok, t = pcall(redis.call, 'TIME')
if ok then serverEnd = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000 end
return cjson.encode({ serverAt = s.serverAt, serverEnd = serverEnd, results = results })
