--[[
  One delivery's start — idempotency claim, eligibility and an exact sliding-log rate reservation, atomically.

  Takes 7 fixed keys, then one rate-limit log per limit (variadic: the header's `KEYS[8..]`).
  Rate limits are sliding logs: a zset of send instants per limit. The job gets the earliest instant at or after
  the script's time (plus the caller's lead) that every log allows (reserveSlot: no window of `window + guard` then
  holds more than `limit` entries, and none lies within `(window + guard) / limit` of it), and is written to all of
  them at that instant, so no window of that length ever holds more than `limit` sends, and a burst is paced at the
  limit's rate. The claim's lease covers the wait. When that instant is further than the caller's wait budget, the job is refused and nothing is consumed
  from any limit; it gets the next free deferral slot of the limit that pushed it out: slots are
  `(window + guard) / limit` apart, so a burst of deferred jobs comes back at the rate the limit allows.

  Input:
    KEYS[1]  job hash
    KEYS[2]  user hash (enabled: 1 | 0)
    KEYS[3]  user's tasks hash (taskId -> params JSON)
    KEYS[4]  paused task types set
    KEYS[5]  metrics hash
    KEYS[6]  deferral horizons hash (limit name -> next free deferral slot, epoch ms)
    KEYS[7]  period stats hash of (task, period): outcomes and start-time buckets (lib/metrics)
    KEYS[8..] rate-limit logs (zset member job#attempt, or job#r<replays>.attempt -> send instant), one per limit triple in ARGV

    ARGV[1]  now (epoch ms): job times; also the floor of the script's time (see below)
    ARGV[2]  job id
    ARGV[3]  task id
    ARGV[4]  user id
    ARGV[5]  period key
    ARGV[6]  planned notBefore (epoch ms)
    ARGV[7]  origin
    ARGV[8]  lease (ms): how long a claim stays exclusive once its wait is over
    ARGV[9]  skip reason from the catalog ('' = none)
    ARGV[10] job hash retention (ms)
    ARGV[11] rate-limit guard (ms) added to every window
    ARGV[12] Upstash-Retried of this delivery
    ARGV[13] start-time bucket width (ms) of the period stats; 0 = keep no period stats (manual runs)
    ARGV[14] period stats retention (ms)
    ARGV[15] wait budget (ms): the longest wait for a reservation the caller accepts; later is refused
    ARGV[16] lead (ms): reserve no earlier than this after the script's time (the reply's way back); <= budget
    ARGV[17..] name, limit, window ms: one triple per KEYS[8..]

  Metrics (no extra round trip): counters <task>:duplicate|busy|skipped|deferred|started and
  limit:<name>:denied; on a job's first start ever (field firstStartedAt) the lateness histogram
  <task>:lat:<le>|sum, lateness being its reserved send instant minus the job's first planned notBefore.

  Output: JSON
    {r='duplicate', state}           succeeded, dead or skipped already: nothing done
    {r='busy', leaseUntil}           another delivery holds an unexpired claim: nothing done
    {r='skipped', reason}            recorded as skipped (no such user or task, paused, disabled)
    {r='denied', retryAt, limit, deferrals, replays}  no instant within the budget; nothing claimed or consumed;
                                     retryAt = this job's deferral slot
    {r='claimed', attempt, params, admittedAt, waitMs, serverAt}  claimed: state running, attempts + 1, every
                                     limit holds the send instant admittedAt (text, exact); waitMs = admittedAt
                                     minus the script's time, so a caller's clock skew does not move the send;
                                     serverAt = the server clock (ms) the script read, for the caller to place
                                     serverAt + waitMs on its own clock
]]
local job, metrics = KEYS[1], KEYS[5]
local now = tonumber(ARGV[1])
local jobId, taskId = ARGV[2], ARGV[3]
local leaseMs, skip, retention, guard = tonumber(ARGV[8]), ARGV[9], ARGV[10], tonumber(ARGV[11])
local statsBucket = tonumber(ARGV[13])
local FIRST_LIMIT_KEY, FIRST_LIMIT_ARG = 8, 17
local LATENESS_BOUNDS = { 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 900000, 3600000 } -- lib/metrics/buckets.ts LATENESS_BOUNDS_MS (a test compares)
--- @include "bucketLabel"
--- @include "reserveSlot"
local function periodStat(field, n)
  if statsBucket <= 0 then return end
  redis.call('HINCRBY', KEYS[7], field, n)
  redis.call('PEXPIRE', KEYS[7], ARGV[14])
end

local cur = redis.call('HMGET', job, 'state', 'leaseUntil', 'replays')
local state = cur[1]
if state == 'succeeded' or state == 'dead' or state == 'skipped' then
  redis.call('HINCRBY', metrics, taskId .. ':duplicate', 1)
  return cjson.encode({ r = 'duplicate', state = state })
end
if state == 'running' and tonumber(cur[2]) and tonumber(cur[2]) > now then
  redis.call('HINCRBY', metrics, taskId .. ':busy', 1)
  return cjson.encode({ r = 'busy', leaseUntil = tonumber(cur[2]) })
end

redis.call('HSET', job, 'jobId', jobId, 'taskId', taskId, 'userId', ARGV[4], 'periodKey', ARGV[5],
  'origin', ARGV[7], 'updatedAt', ARGV[1])
-- The first planned time stays: deferred messages carry a later notBefore of their own.
redis.call('HSETNX', job, 'notBefore', ARGV[6])
redis.call('PEXPIRE', job, retention)

local params = false
if skip == '' then
  local enabled = redis.call('HGET', KEYS[2], 'enabled')
  if not enabled then skip = 'user_unknown'
  elseif enabled ~= '1' then skip = 'user_disabled'
  elseif redis.call('SISMEMBER', KEYS[4], taskId) == 1 then skip = 'task_paused'
  else
    params = redis.call('HGET', KEYS[3], taskId)
    if not params then skip = 'task_not_enabled' end
  end
end
if skip ~= '' then
  redis.call('HSET', job, 'state', 'skipped', 'skipReason', skip, 'finishedAt', ARGV[1])
  redis.call('HDEL', job, 'leaseUntil')
  redis.call('HINCRBY', metrics, taskId .. ':skipped', 1)
  periodStat('skipped', 1)
  return cjson.encode({ r = 'skipped', reason = skip })
end

-- The script's time is when it runs, not when a worker read its clock: the server's TIME, never before the
-- caller's now. Reservations start there, so a worker that was slow to get here cannot slip an entry into a
-- window that has moved on, and the wait it gets back is measured on this one clock.
local at, serverAt = now, now
local ok, t = pcall(redis.call, 'TIME')
if ok then
  -- To the microsecond: the caller places serverAt + wait on its clock, which must be this very instant.
  serverAt = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
  at = math.max(at, serverAt)
end
local logs = {}
for i = FIRST_LIMIT_KEY, #KEYS do
  local a = FIRST_LIMIT_ARG + (i - FIRST_LIMIT_KEY) * 3
  logs[#logs + 1] = reserveLog(KEYS[i], ARGV[a], tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), guard)
end
reserveTrim(logs, at)

-- Every limit is searched before any is consumed.
local budget = tonumber(ARGV[15])
local sendAt, blocked = reserveSlot(logs, at + math.min(tonumber(ARGV[16]), budget), at + budget)
if blocked then
  local retryAt = math.ceil(sendAt)
  local horizon = tonumber(redis.call('HGET', KEYS[6], blocked.name))
  if horizon and horizon > retryAt then retryAt = horizon end
  redis.call('HSET', KEYS[6], blocked.name, string.format('%d', math.ceil(retryAt + blocked.gap)))
  local deferrals = redis.call('HINCRBY', job, 'deferrals', 1)
  redis.call('HSET', job, 'state', 'deferred')
  redis.call('HINCRBY', metrics, taskId .. ':deferred', 1)
  redis.call('HINCRBY', metrics, 'limit:' .. blocked.name .. ':denied', 1)
  periodStat('deferred', 1)
  return cjson.encode({ r = 'denied', retryAt = retryAt, limit = blocked.name, deferrals = deferrals,
    replays = tonumber(cur[3]) or 0 })
end

local attempt = redis.call('HINCRBY', job, 'attempts', 1)
-- A replay counts attempts from 1 again: its entries must not overwrite those of the calls before it.
local member = jobId .. '#' .. attempt
local replays = tonumber(cur[3]) or 0
if replays > 0 then member = jobId .. '#r' .. replays .. '.' .. attempt end
reserveWrite(logs, sendAt, member, at)
local waitMs = sendAt - at
-- The job's clock: the caller's now, moved by the wait (the lease, the lateness and the start buckets).
local startsAt = math.ceil(now + waitMs)
redis.call('HSET', job, 'state', 'running', 'leaseUntil', string.format('%d', startsAt + leaseMs),
  'startedAt', ARGV[1], 'retried', ARGV[12])
redis.call('HINCRBY', metrics, taskId .. ':started', 1)
-- Once per job, not per attempt: retries and replays would measure backoff or an outage, not the schedule.
if redis.call('HSETNX', job, 'firstStartedAt', string.format('%d', startsAt)) == 1 then
  local late = math.max(0, startsAt - (tonumber(redis.call('HGET', job, 'notBefore')) or startsAt))
  redis.call('HINCRBY', metrics, taskId .. ':lat:' .. bucketLabel(LATENESS_BOUNDS, late), 1)
  redis.call('HINCRBY', metrics, taskId .. ':lat:sum', string.format('%d', late))
  if statsBucket > 0 then
    redis.call('HINCRBY', KEYS[7], 'started', 1)
    redis.call('HINCRBY', KEYS[7], 's:' .. string.format('%d', math.floor(startsAt / statsBucket) * statsBucket), 1)
    redis.call('PEXPIRE', KEYS[7], ARGV[14])
  end
end
return cjson.encode({ r = 'claimed', attempt = attempt, params = params, admittedAt = string.format('%.17g', sendAt),
  waitMs = waitMs, serverAt = serverAt })
