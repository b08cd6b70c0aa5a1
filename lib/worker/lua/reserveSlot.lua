-- Rate-limit reservations on sliding logs: the earliest send instant every limit allows, for any start script.
--
-- A log is a zset of send instants (ms; member = one attempt). An instant t fits a log when:
--   exactness: no half-open window of length `span` (window + guard) holds more than `limit` entries once t is
--              added, wherever t falls among the entries (reservations ahead of now, gaps left by released claims).
--   pacing:    no entry lies within `pace` of t, so a burst is spread instead of sent at once (sends bunched
--              together leave late and arrive later still, and only the guard covers that). pace is the
--              limit's own spacing, span / limit, capped at the guard: spacing sends further apart adds waits,
--              not safety (a replay under a 100-per-hour limit must not wait 36 s behind the last call).
--              Deferral slots keep the uncapped spacing (`gap`): jobs sent away come back at the limit's rate.
-- Times stay on a 1/1024 ms grid (gap rounded up to it), exact in doubles for any epoch-ms this century,
-- so the sums and bounds below never round. Each step only moves t past instants that cannot fit, so the
-- first t that fits every log is the earliest.
local RESERVE_GRID = 1024
local RESERVE_MAX_ROUNDS = 64
local RESERVE_PAGE = 128

local function reserveFormat(t) return string.format('%.17g', t) end

-- One limit's log and its rule: {key, name, limit, span, gap, pace}.
local function reserveLog(key, name, limit, windowMs, guardMs)
  local span = windowMs + guardMs
  local gap = math.ceil(span / limit * RESERVE_GRID) / RESERVE_GRID
  return { key = key, name = name, limit = limit, span = span, gap = gap,
    pace = math.min(gap, math.ceil(guardMs * RESERVE_GRID) / RESERVE_GRID) }
end

-- Earliest instant >= t that the exactness rule of one log allows. t breaks it when `limit` consecutive entries
-- within `span` of t are less than `span` apart themselves: t would make a window of limit + 1. Every instant
-- before the last such group's first entry's span ends breaks it as well.
local function reserveExact(log, t)
  local lo, hi = '(' .. reserveFormat(t - log.span), '(' .. reserveFormat(t + log.span)
  if redis.call('ZCOUNT', log.key, lo, hi) < log.limit then return t end
  local near = redis.call('ZRANGEBYSCORE', log.key, lo, hi, 'WITHSCORES')
  local xs = {}
  for i = 2, #near, 2 do xs[#xs + 1] = tonumber(near[i]) end
  for j = #xs - log.limit + 1, 1, -1 do
    if xs[j + log.limit - 1] - xs[j] < log.span then return xs[j] + log.span end
  end
  return t
end

-- Earliest instant >= t that the pacing rule of one log allows: the first hole of 2 * pace, or past the last entry.
local function reservePaced(log, t)
  local from, offset = '(' .. reserveFormat(t - log.pace), 0
  while true do
    local page = redis.call('ZRANGEBYSCORE', log.key, from, '+inf', 'WITHSCORES', 'LIMIT', offset, RESERVE_PAGE)
    for i = 2, #page, 2 do
      local y = tonumber(page[i])
      if y >= t + log.pace then return t end
      t = math.max(t, y + log.pace)
    end
    if #page < 2 * RESERVE_PAGE then return t end
    offset = offset + RESERVE_PAGE
  end
end

-- Drops entries that no instant from `now` on can share a window with.
local function reserveTrim(logs, now)
  for _, log in ipairs(logs) do redis.call('ZREMRANGEBYSCORE', log.key, '-inf', reserveFormat(now - log.span)) end
end

-- The earliest instant >= from that every log allows, searched up to `untilAt`.
-- Returns t, nil when it fits by then; otherwise a lower bound of it past `untilAt` and the log that asks the most.
local function reserveSlot(logs, from, untilAt)
  local t = math.ceil(from * RESERVE_GRID) / RESERVE_GRID
  for _ = 1, RESERVE_MAX_ROUNDS do
    local latest, by = t, nil
    for _, log in ipairs(logs) do
      local fits = reservePaced(log, reserveExact(log, t))
      if fits > latest then latest, by = fits, log end
    end
    if by == nil then return t, nil end
    t = latest
    if t > untilAt then return t, by end
  end
  return t, logs[1] -- no agreement in the rounds allowed: refuse rather than loop on
end

-- A log outlives its last entry's window by this much: expiry runs on the server's clock, while entries are on
-- the script's time, which a caller's clock ahead of the server's moves forward.
local RESERVE_KEEP_MS = 60000

-- Records `member` at t in every log, each kept until its last entry leaves the window.
local function reserveWrite(logs, t, member, now)
  for _, log in ipairs(logs) do
    redis.call('ZADD', log.key, reserveFormat(t), member)
    local keep = math.ceil(t - now + log.span) + RESERVE_KEEP_MS
    if redis.call('PTTL', log.key) < keep then redis.call('PEXPIRE', log.key, keep) end
  end
end
