-- One job's start, shared by startJob and startBatch so that a job starts by the same rules alone or in a batch:
-- the claim, duplicate | busy | skipped | denied | claimed, metrics, period stats, lateness, deferral slots and
-- the rate-limit reservation.
--
-- A start `s` holds what its jobs share:
--   keys      paused (set), metrics (hash), horizons (deferral horizons hash), stats (period stats hash)
--   arguments now (number) and nowText (the caller's text, written as is), taskId, periodKey, origin, and the
--             policy run startPolicy reads (lease, skip reason, retention, guard, retried, stats bucket and
--             retention, wait budget, lead)
--   logs      the rate-limit logs (startLogs); at, serverAt: the script's time and the server clock read, set by
--             startReady on first need (a batch calls it once before its first job)
-- A job `j`: keys job, user, tasks (the user's tasks hash); jobId, userId, notBefore (text, the planned start);
-- from (number or nil): a floor for its reservation.
--- @include "bucketLabel"
--- @include "reserveSlot"
local LATENESS_BOUNDS = { 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 900000, 3600000 } -- lib/metrics/buckets.ts LATENESS_BOUNDS_MS (a test compares)

-- The policy arguments, in this order from argv[i]: lease (ms), skip reason, job hash retention (ms), rate-limit
-- guard (ms), Upstash-Retried, period stats bucket (ms; 0 = none), period stats retention (ms), wait budget (ms),
-- lead (ms).
local function startPolicy(s, argv, i)
  s.leaseMs, s.skip, s.retention, s.guard = tonumber(argv[i]), argv[i + 1], argv[i + 2], tonumber(argv[i + 3])
  s.retried, s.statsBucket, s.statsTtl = argv[i + 4], tonumber(argv[i + 5]), argv[i + 6]
  s.budget, s.lead = tonumber(argv[i + 7]), tonumber(argv[i + 8])
  return s
end

-- One log per key in logKeys, its limit triple (name, limit, window ms) at argv[firstArg + 3 * (n - 1)].
local function startLogs(logKeys, argv, firstArg, guard)
  local logs = {}
  for n, key in ipairs(logKeys) do
    local a = firstArg + (n - 1) * 3
    logs[n] = reserveLog(key, argv[a], tonumber(argv[a + 1]), tonumber(argv[a + 2]), guard)
  end
  return logs
end

-- The script's time is when it runs, not when a worker read its clock: the server's TIME, never before the
-- caller's now. Reservations start there, so a worker that was slow to get here cannot slip an entry into a
-- window that has moved on, and the wait it gets back is measured on this one clock.
local function startReady(s)
  if s.at then return end
  local at, serverAt = s.now, s.now
  local ok, t = pcall(redis.call, 'TIME')
  if ok then
    -- To the microsecond: the caller places serverAt + wait on its clock, which must be this very instant.
    serverAt = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
    at = math.max(at, serverAt)
  end
  s.at, s.serverAt = at, serverAt
  reserveTrim(s.logs, at)
end

local function startPeriodStat(s, field, n)
  if s.statsBucket <= 0 then return end
  redis.call('HINCRBY', s.stats, field, n)
  redis.call('PEXPIRE', s.stats, s.statsTtl)
end

-- Starts one job; returns its reply as a table (the shapes startJob's header lists).
local function startOne(s, j)
  local job, metrics, taskId = j.job, s.metrics, s.taskId
  local cur = redis.call('HMGET', job, 'state', 'leaseUntil', 'replays')
  local state = cur[1]
  if state == 'succeeded' or state == 'dead' or state == 'skipped' then
    redis.call('HINCRBY', metrics, taskId .. ':duplicate', 1)
    return { r = 'duplicate', state = state }
  end
  if state == 'running' and tonumber(cur[2]) and tonumber(cur[2]) > s.now then
    redis.call('HINCRBY', metrics, taskId .. ':busy', 1)
    return { r = 'busy', leaseUntil = tonumber(cur[2]) }
  end

  redis.call('HSET', job, 'jobId', j.jobId, 'taskId', taskId, 'userId', j.userId, 'periodKey', s.periodKey,
    'origin', s.origin, 'updatedAt', s.nowText)
  -- The first planned time stays: deferred messages carry a later notBefore of their own.
  redis.call('HSETNX', job, 'notBefore', j.notBefore)
  redis.call('PEXPIRE', job, s.retention)

  local skip, params = s.skip, false
  if skip == '' then
    local enabled = redis.call('HGET', j.user, 'enabled')
    if not enabled then skip = 'user_unknown'
    elseif enabled ~= '1' then skip = 'user_disabled'
    elseif redis.call('SISMEMBER', s.paused, taskId) == 1 then skip = 'task_paused'
    else
      params = redis.call('HGET', j.tasks, taskId)
      if not params then skip = 'task_not_enabled' end
    end
  end
  if skip ~= '' then
    redis.call('HSET', job, 'state', 'skipped', 'skipReason', skip, 'finishedAt', s.nowText)
    redis.call('HDEL', job, 'leaseUntil')
    redis.call('HINCRBY', metrics, taskId .. ':skipped', 1)
    startPeriodStat(s, 'skipped', 1)
    return { r = 'skipped', reason = skip }
  end

  startReady(s)
  local at = s.at
  -- Every limit is searched before any is consumed. The budget counts from the later of the script's time and
  -- the job's floor: a job planned ahead waits for its own time, not for the script's.
  local from, base = at + math.min(s.lead, s.budget), at
  if j.from then from, base = math.max(from, j.from), math.max(at, j.from) end
  -- A batch's hold: its invocation waits for its last job anyway, so any job may wait until then rather than defer.
  local untilAt = base + s.budget
  if s.hold and s.hold > 0 then untilAt = math.max(untilAt, at + s.hold) end
  local sendAt, blocked = reserveSlot(s.logs, from, untilAt)
  if blocked then
    local retryAt = math.ceil(sendAt)
    local horizon = tonumber(redis.call('HGET', s.horizons, blocked.name))
    if horizon and horizon > retryAt then retryAt = horizon end
    redis.call('HSET', s.horizons, blocked.name, string.format('%d', math.ceil(retryAt + blocked.gap)))
    local deferrals = redis.call('HINCRBY', job, 'deferrals', 1)
    redis.call('HSET', job, 'state', 'deferred')
    redis.call('HINCRBY', metrics, taskId .. ':deferred', 1)
    redis.call('HINCRBY', metrics, 'limit:' .. blocked.name .. ':denied', 1)
    startPeriodStat(s, 'deferred', 1)
    return { r = 'denied', retryAt = retryAt, limit = blocked.name, deferrals = deferrals,
      replays = tonumber(cur[3]) or 0 }
  end

  local attempt = redis.call('HINCRBY', job, 'attempts', 1)
  -- A replay counts attempts from 1 again: its entries must not overwrite those of the calls before it.
  local member = j.jobId .. '#' .. attempt
  local replays = tonumber(cur[3]) or 0
  if replays > 0 then member = j.jobId .. '#r' .. replays .. '.' .. attempt end
  reserveWrite(s.logs, sendAt, member, at)
  local waitMs = sendAt - at
  -- The job's clock: the caller's now, moved by the wait (the lease, the lateness and the start buckets).
  local startsAt = math.ceil(s.now + waitMs)
  redis.call('HSET', job, 'state', 'running', 'leaseUntil', string.format('%d', startsAt + s.leaseMs),
    'startedAt', s.nowText, 'retried', s.retried)
  redis.call('HINCRBY', metrics, taskId .. ':started', 1)
  -- Once per job, not per attempt: retries and replays would measure backoff or an outage, not the schedule.
  if redis.call('HSETNX', job, 'firstStartedAt', string.format('%d', startsAt)) == 1 then
    local late = math.max(0, startsAt - (tonumber(redis.call('HGET', job, 'notBefore')) or startsAt))
    redis.call('HINCRBY', metrics, taskId .. ':lat:' .. bucketLabel(LATENESS_BOUNDS, late), 1)
    redis.call('HINCRBY', metrics, taskId .. ':lat:sum', string.format('%d', late))
    if s.statsBucket > 0 then
      redis.call('HINCRBY', s.stats, 'started', 1)
      redis.call('HINCRBY', s.stats, 's:' .. string.format('%d', math.floor(startsAt / s.statsBucket) * s.statsBucket), 1)
      redis.call('PEXPIRE', s.stats, s.statsTtl)
    end
  end
  return { r = 'claimed', attempt = attempt, params = params, admittedAt = string.format('%.17g', sendAt),
    waitMs = waitMs, serverAt = s.serverAt }
end
