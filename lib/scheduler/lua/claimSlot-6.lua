--[[
  Claim a (task, zone group, period) slot for fan-out exactly once, or take over one its owner abandoned.

  A new slot is created only if no slot hash exists and its period is due later than the last
  period claimed for the (task, zone group): a period older than the last claimed never runs again.
  A slot still 'fanning' is taken over (resumed from its checkpoint) by a caller with a newer fence
  once nobody has checkpointed it for ARGV[10] ms: its owner crashed, timed out, or its
  continuation was lost. Fences only grow, so an old owner's later writes are refused.
  A new slot's planned jobs are counted here, with the claim: a tick that dies mid fan-out must not
  leave its slot planned at 0 beside the jobs a resumed owner publishes.

  Input:
    KEYS[1] slot hash slot:<task>:<group>:<period>
    KEYS[2] last claimed period lastslot:<task>:<group> (string "<dueAt ms>:<period key>")
    KEYS[3] active slots zset (member: slot key, score: claimed at)
    KEYS[4] metrics hash (<task>:planned += total on a claim)
    KEYS[5] period stats hash pstats:<task>:<period> (planned += total on a claim)
    KEYS[6] recent slots zset (member: slot key, score: claimed at), trimmed to ARGV[14] on a claim

    ARGV[1]  fence of the caller
    ARGV[2]  now (epoch ms)
    ARGV[3]  mode: 'claim' (create when new, else resume) or 'resume' (never create)
    ARGV[4]  due at (epoch ms)                  (claim only, as ARGV[5..9], ARGV[13..14])
    ARGV[5]  period key
    ARGV[6]  window start (epoch ms)
    ARGV[7]  window length (ms)
    ARGV[8]  total: index members when claimed
    ARGV[9]  backfilled: 1 when the period is caught up late, else 0
    ARGV[10] stale after (ms) without a checkpoint
    ARGV[11] task id
    ARGV[12] zone group
    ARGV[13] period stats retention (ms)
    ARGV[14] how long a slot stays in the recent set (ms)

  Output: JSON {code, slot}; slot = the slot's fields when code is 1 or 2
     1 claimed: a new slot, owned by the caller
     2 resumed: taken over from an older fence, owned by the caller
     0 done already
    -1 not new: the period is not later than the last claimed one
    -2 owned: fanning under a newer fence, or checkpointed less than ARGV[10] ms ago
    -3 no such slot (resume)
]]
local fence, now, mode = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local FIELDS = { 'state', 'taskId', 'group', 'periodKey', 'dueAt', 'startAt', 'windowMs', 'total',
  'backfilled', 'fence', 'cursor', 'count', 'claimedAt', 'updatedAt' }

local function slotFields()
  local values = redis.call('HMGET', KEYS[1], unpack(FIELDS))
  local out = {}
  for i, name in ipairs(FIELDS) do out[name] = values[i] or '' end
  return out
end

local state = redis.call('HGET', KEYS[1], 'state')
if state == 'done' then return cjson.encode({ code = 0 }) end
if state then
  local current = slotFields()
  local stale = now - tonumber(current.updatedAt) >= tonumber(ARGV[10])
  if tonumber(current.fence) >= fence or not stale then return cjson.encode({ code = -2 }) end
  redis.call('HSET', KEYS[1], 'fence', fence, 'updatedAt', now, 'resumedAt', now)
  return cjson.encode({ code = 2, slot = slotFields() })
end
if mode ~= 'claim' then return cjson.encode({ code = -3 }) end

local dueAt, periodKey = tonumber(ARGV[4]), ARGV[5]
local last = redis.call('GET', KEYS[2])
if last and dueAt <= tonumber(string.match(last, '^(%d+)')) then return cjson.encode({ code = -1 }) end

redis.call('HSET', KEYS[1], 'state', 'fanning', 'taskId', ARGV[11], 'group', ARGV[12], 'periodKey', periodKey,
  'dueAt', ARGV[4], 'startAt', ARGV[6], 'windowMs', ARGV[7], 'total', ARGV[8], 'backfilled', ARGV[9],
  'fence', fence, 'cursor', '', 'count', 0, 'claimedAt', now, 'updatedAt', now)
redis.call('SET', KEYS[2], ARGV[4] .. ':' .. periodKey)
redis.call('ZADD', KEYS[3], now, KEYS[1])
redis.call('ZADD', KEYS[6], now, KEYS[1])
redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', '(' .. (now - tonumber(ARGV[14])))
local total = tonumber(ARGV[8])
if total > 0 then
  redis.call('HINCRBY', KEYS[4], ARGV[11] .. ':planned', total)
  redis.call('HINCRBY', KEYS[5], 'planned', total)
  redis.call('PEXPIRE', KEYS[5], ARGV[13])
end
return cjson.encode({ code = 1, slot = slotFields() })
