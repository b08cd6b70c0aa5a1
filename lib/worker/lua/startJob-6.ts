// Lua: one delivery's start — idempotency claim, eligibility and exact sliding-log rate admission, atomically.
import { defineScript } from '../../store/lua/script.js';

/**
 * Takes 5 fixed keys, then one rate-limit log per limit (variadic: run it with runJobScript).
 * Rate limits are sliding logs: a zset of admission times per limit. A job is admitted only when
 * every log holds fewer than `limit` entries younger than `window + guard`, and is then written
 * to all of them, so no window of that length ever holds more than `limit` admissions. Nothing is
 * consumed from any limit when one of them refuses.
 */
export const startJob = defineScript(
  'startJob',
  5,
  `--[[
  Input:
    KEYS[1]  job hash
    KEYS[2]  user hash (enabled: 1 | 0)
    KEYS[3]  user's tasks hash (taskId -> params JSON)
    KEYS[4]  paused task types set
    KEYS[5]  metrics hash
    KEYS[6..] rate-limit logs (zset member -> admission time), one per limit triple in ARGV

    ARGV[1]  now (epoch ms)
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
    ARGV[13..] name, limit, window ms: one triple per KEYS[6..]

  Output: JSON
    {r='duplicate', state}           succeeded, dead or skipped already: nothing done
    {r='busy', leaseUntil}           another delivery holds an unexpired claim: nothing done
    {r='skipped', reason}            recorded as skipped (no such user or task, paused, disabled)
    {r='denied', retryAt, limit, deferrals, replays}  a limit is full; nothing claimed or consumed
    {r='claimed', attempt, params}   claimed: state running, attempts + 1, every limit consumed
]]
local job, metrics = KEYS[1], KEYS[5]
local now = tonumber(ARGV[1])
local jobId, taskId = ARGV[2], ARGV[3]
local leaseMs, skip, retention, guard = tonumber(ARGV[8]), ARGV[9], ARGV[10], tonumber(ARGV[11])

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
  return cjson.encode({ r = 'skipped', reason = skip })
end

-- Every limit is checked before any is consumed.
local retryAt, blocked = nil, nil
for i = 6, #KEYS do
  local a = 13 + (i - 6) * 3
  local name, limit, span = ARGV[a], tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]) + guard
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - span)
  local count = redis.call('ZCARD', KEYS[i])
  if count >= limit then
    -- Capacity returns when the entry that makes the log full leaves the window.
    local e = redis.call('ZRANGE', KEYS[i], count - limit, count - limit, 'WITHSCORES')
    local at = tonumber(e[2]) + span
    if retryAt == nil or at > retryAt then retryAt, blocked = at, name end
  end
end
if retryAt ~= nil then
  local deferrals = redis.call('HINCRBY', job, 'deferrals', 1)
  redis.call('HSET', job, 'state', 'deferred')
  redis.call('HINCRBY', metrics, taskId .. ':deferred', 1)
  redis.call('HINCRBY', metrics, 'limit:' .. blocked .. ':denied', 1)
  return cjson.encode({ r = 'denied', retryAt = retryAt, limit = blocked, deferrals = deferrals,
    replays = tonumber(cur[3]) or 0 })
end

local attempt = redis.call('HINCRBY', job, 'attempts', 1)
for i = 6, #KEYS do
  local a = 13 + (i - 6) * 3
  redis.call('ZADD', KEYS[i], now, jobId .. '#' .. attempt)
  redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[a + 2]) + guard)
end
redis.call('HSET', job, 'state', 'running', 'leaseUntil', string.format('%d', now + leaseMs),
  'startedAt', ARGV[1], 'retried', ARGV[12])
return cjson.encode({ r = 'claimed', attempt = attempt, params = params })
`,
);
