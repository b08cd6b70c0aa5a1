--[[
  Hand a fanning slot to the continuation its owner published, under a fresh fence.

  Only the continuation carrying the slot's current fence may continue it: a duplicate delivery,
  or a continuation whose owner was taken over meanwhile, finds another fence and stops. The new
  owner gets the next number of the shared fence counter, so the previous owner's writes are refused.

  Input:
    KEYS[1] slot hash
    KEYS[2] fence counter

    ARGV[1] fence carried by the continuation message
    ARGV[2] now (epoch ms)

  Output: JSON {code, slot}; slot = the slot's fields (with the new fence) when code is 1
     1 taken
     0 done already
    -1 no such slot (expired or never claimed)
    -2 superseded: the slot's fence is not the message's
]]
local FIELDS = { 'state', 'taskId', 'group', 'periodKey', 'dueAt', 'startAt', 'windowMs', 'total',
  'backfilled', 'fence', 'cursor', 'count', 'claimedAt', 'updatedAt' }
local slot = redis.call('HMGET', KEYS[1], 'state', 'fence')
if not slot[1] then return cjson.encode({ code = -1 }) end
if slot[1] == 'done' then return cjson.encode({ code = 0 }) end
if tonumber(slot[2]) ~= tonumber(ARGV[1]) then return cjson.encode({ code = -2 }) end

local fence = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], 'fence', fence, 'updatedAt', ARGV[2])
local values = redis.call('HMGET', KEYS[1], unpack(FIELDS))
local out = {}
for i, name in ipairs(FIELDS) do out[name] = values[i] or '' end
return cjson.encode({ code = 1, slot = out })
