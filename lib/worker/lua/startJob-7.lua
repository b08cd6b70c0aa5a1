--[[
  One delivery's start — idempotency claim, eligibility and exact sliding-log rate admission, atomically.

  Takes 7 fixed keys, then one rate-limit log per limit (variadic: the header's `KEYS[8..]`).
  Rate limits are sliding logs: a zset of admission times per limit. A job is admitted only when
  every log holds fewer than `limit` entries younger than `window + guard`, and is then written
  to all of them, so no window of that length ever holds more than `limit` admissions. Nothing is
  consumed from any limit when one of them refuses. A refused job gets the next free deferral slot
  of the limit that refused it: slots are `(window + guard) / limit` apart, so a burst of deferred
  jobs comes back at the rate the limit allows instead of all at once (and mostly runs then).

  Input:
    KEYS[1]  job hash
    KEYS[2]  user hash (enabled: 1 | 0)
    KEYS[3]  user's tasks hash (taskId -> params JSON)
    KEYS[4]  paused task types set
    KEYS[5]  metrics hash
    KEYS[6]  deferral horizons hash (limit name -> next free deferral slot, epoch ms)
    KEYS[7]  period stats hash of (task, period): outcomes and start-time buckets (lib/metrics)
    KEYS[8..] rate-limit logs (zset member job#attempt, or job#r<replays>.attempt -> admission time), one per limit triple in ARGV

    ARGV[1]  now (epoch ms): job times; also the floor of the admission time (see below)
    ARGV[2]  job id
    ARGV[3]  task id
    ARGV[4]  user id
    ARGV[5]  period key
    ARGV[6]  planned notBefore (epoch ms)
    ARGV[7]  origin
    ARGV[8]  lease (ms): how long a claim stays exclusive
    ARGV[9]  skip reason from the catalog ('' = none)
    ARGV[10] job hash retention (ms)
    ARGV[11] rate-limit guard (ms) added to every window
    ARGV[12] Upstash-Retried of this delivery
    ARGV[13] start-time bucket width (ms) of the period stats; 0 = keep no period stats (manual runs)
    ARGV[14] period stats retention (ms)
    ARGV[15..] name, limit, window ms: one triple per KEYS[8..]

  Metrics (no extra round trip): counters <task>:duplicate|busy|skipped|deferred|started and
  limit:<name>:denied; on a job's first start ever (field firstStartedAt) the lateness histogram
  <task>:lat:<le>|sum, lateness being that start minus the job's first planned notBefore.

  Output: JSON
    {r='duplicate', state}           succeeded, dead or skipped already: nothing done
    {r='busy', leaseUntil}           another delivery holds an unexpired claim: nothing done
    {r='skipped', reason}            recorded as skipped (no such user or task, paused, disabled)
    {r='denied', retryAt, limit, deferrals, replays}  a limit is full; nothing claimed or consumed;
                                     retryAt = this job's deferral slot
    {r='claimed', attempt, params, admittedAt}   claimed: state running, attempts + 1, every limit consumed
]]
local job, metrics = KEYS[1], KEYS[5]
local now = tonumber(ARGV[1])
local jobId, taskId = ARGV[2], ARGV[3]
local leaseMs, skip, retention, guard = tonumber(ARGV[8]), ARGV[9], ARGV[10], tonumber(ARGV[11])
local statsBucket = tonumber(ARGV[13])
local FIRST_LIMIT_KEY, FIRST_LIMIT_ARG = 8, 15
local LATENESS_BOUNDS = { 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 900000, 3600000 } -- lib/metrics/buckets.ts LATENESS_BOUNDS_MS (a test compares)
--- @include "bucketLabel"
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

-- The admission time is when this script runs, not when a worker read its clock: the server's TIME,
-- never before the caller's now, never before the newest entry. Entries are then in execution order,
-- so a worker that was slow to get here cannot slip an entry into a window that has moved on.
local at = now
local ok, t = pcall(redis.call, 'TIME')
if ok then at = math.max(at, tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)) end
for i = FIRST_LIMIT_KEY, #KEYS do
  local newest = redis.call('ZRANGE', KEYS[i], -1, -1, 'WITHSCORES')
  if newest[2] then at = math.max(at, tonumber(newest[2])) end
end

-- Every limit is checked before any is consumed.
local retryAt, blocked, blockedGap = nil, nil, nil
for i = FIRST_LIMIT_KEY, #KEYS do
  local a = FIRST_LIMIT_ARG + (i - FIRST_LIMIT_KEY) * 3
  local name, limit, span = ARGV[a], tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]) + guard
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', at - span)
  local count = redis.call('ZCARD', KEYS[i])
  if count >= limit then
    -- Capacity returns when the entry that makes the log full leaves the window.
    local e = redis.call('ZRANGE', KEYS[i], count - limit, count - limit, 'WITHSCORES')
    local free = tonumber(e[2]) + span
    if retryAt == nil or free > retryAt then retryAt, blocked, blockedGap = free, name, span / limit end
  end
end
if retryAt ~= nil then
  local horizon = tonumber(redis.call('HGET', KEYS[6], blocked))
  if horizon and horizon > retryAt then retryAt = horizon end
  redis.call('HSET', KEYS[6], blocked, string.format('%d', math.ceil(retryAt + blockedGap)))
  local deferrals = redis.call('HINCRBY', job, 'deferrals', 1)
  redis.call('HSET', job, 'state', 'deferred')
  redis.call('HINCRBY', metrics, taskId .. ':deferred', 1)
  redis.call('HINCRBY', metrics, 'limit:' .. blocked .. ':denied', 1)
  periodStat('deferred', 1)
  return cjson.encode({ r = 'denied', retryAt = retryAt, limit = blocked, deferrals = deferrals,
    replays = tonumber(cur[3]) or 0 })
end

local attempt = redis.call('HINCRBY', job, 'attempts', 1)
-- A replay counts attempts from 1 again: its admissions must not overwrite those of the calls before it.
local member = jobId .. '#' .. attempt
local replays = tonumber(cur[3]) or 0
if replays > 0 then member = jobId .. '#r' .. replays .. '.' .. attempt end
for i = FIRST_LIMIT_KEY, #KEYS do
  local a = FIRST_LIMIT_ARG + (i - FIRST_LIMIT_KEY) * 3
  redis.call('ZADD', KEYS[i], string.format('%d', at), member)
  redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[a + 2]) + guard)
end
redis.call('HSET', job, 'state', 'running', 'leaseUntil', string.format('%d', now + leaseMs),
  'startedAt', ARGV[1], 'retried', ARGV[12])
redis.call('HINCRBY', metrics, taskId .. ':started', 1)
-- Once per job, not per attempt: retries and replays would measure backoff or an outage, not the schedule.
if redis.call('HSETNX', job, 'firstStartedAt', ARGV[1]) == 1 then
  local late = math.max(0, now - (tonumber(redis.call('HGET', job, 'notBefore')) or now))
  redis.call('HINCRBY', metrics, taskId .. ':lat:' .. bucketLabel(LATENESS_BOUNDS, late), 1)
  redis.call('HINCRBY', metrics, taskId .. ':lat:sum', string.format('%d', late))
  if statsBucket > 0 then
    redis.call('HINCRBY', KEYS[7], 'started', 1)
    redis.call('HINCRBY', KEYS[7], 's:' .. string.format('%d', math.floor(now / statsBucket) * statsBucket), 1)
    redis.call('PEXPIRE', KEYS[7], ARGV[14])
  end
end
return cjson.encode({ r = 'claimed', attempt = attempt, params = params, admittedAt = at })
