--[[
  Lua helpers for the reverse indexes the scheduler reads, shared by the preference scripts.
  Index keys are built from the prefix in ARGV[1], with the layout of lib/store/keys.ts:
    idx:<taskId>:<zoneGroup>  zset (score 0) of user ids
    idxzones:<taskId>         hash zoneGroup -> members in that zset (field dropped at 0)
    taskcounts                hash taskId -> members over all zone groups (field dropped at 0)
  Counts move only when a ZADD/ZREM really changed the zset, which makes every script idempotent.
]]
local prefix = ARGV[1]
local FIXED_ZONE_GROUP = '_'

local function groupOf(policy, zone)
  if policy == 'fixed' then return FIXED_ZONE_GROUP end
  return zone
end

local function decrementOrDrop(key, field)
  if redis.call('HINCRBY', key, field, -1) <= 0 then redis.call('HDEL', key, field) end
end

local function indexAdd(taskId, group, userId)
  if redis.call('ZADD', prefix .. 'idx:' .. taskId .. ':' .. group, 0, userId) == 1 then
    redis.call('HINCRBY', prefix .. 'idxzones:' .. taskId, group, 1)
    redis.call('HINCRBY', prefix .. 'taskcounts', taskId, 1)
  end
end

local function indexRemove(taskId, group, userId)
  if redis.call('ZREM', prefix .. 'idx:' .. taskId .. ':' .. group, userId) == 1 then
    decrementOrDrop(prefix .. 'idxzones:' .. taskId, group)
    decrementOrDrop(prefix .. 'taskcounts', taskId)
  end
end
