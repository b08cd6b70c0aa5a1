--[[
  Checkpoint a slot's fan-out under its fence and read the next page of user ids, in one round trip.

  Written after a page is published, so a crash between publish and checkpoint re-publishes at most
  that page (harmless: job ids are QStash deduplication ids). Only the slot's owner may write:
  a caller whose fence is not the slot's (an older holder after a take-over) is refused.
  When nothing follows the cursor the slot is marked done, leaves the active set and expires later.

  Input:
    KEYS[1] slot hash
    KEYS[2] task index zset idx:<task>:<group> (score 0, read BYLEX)
    KEYS[3] active slots zset
    KEYS[4] metrics hash

    ARGV[1] fence of the caller
    ARGV[2] now (epoch ms)
    ARGV[3] cursor: last user id published ('' = none yet)
    ARGV[4] count: jobs published so far
    ARGV[5] page size (0 = checkpoint only, read nothing)
    ARGV[6] how long a done slot is kept (ms)
    ARGV[7] task id
    ARGV[8] publishes QStash deduplicated since the last checkpoint

  Metrics (no extra round trip): <task>:published += the count's advance (a page published again
  after a crash is not counted twice), <task>:pubdup += ARGV[8], _sched:done when the slot is done.

  Output: JSON {code, ids}
     1 checkpointed; ids = the next page after the cursor (an empty page may encode as {})
     2 checkpointed and done: nothing follows the cursor
    -1 no such slot
    -2 stale fence: the slot belongs to another (newer) owner
    -3 not fanning (done already)
    -4 refused: the count would move backwards
]]
local fence, now, cursor, count, pageSize = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local slot = redis.call('HMGET', KEYS[1], 'state', 'fence', 'count')
if not slot[1] then return cjson.encode({ code = -1 }) end
if tonumber(slot[2]) ~= tonumber(fence) then return cjson.encode({ code = -2 }) end
if slot[1] ~= 'fanning' then return cjson.encode({ code = -3 }) end
if count < tonumber(slot[3]) then return cjson.encode({ code = -4 }) end

redis.call('HSET', KEYS[1], 'cursor', cursor, 'count', count, 'updatedAt', now)
local advanced = count - tonumber(slot[3])
if advanced > 0 then redis.call('HINCRBY', KEYS[4], ARGV[7] .. ':published', advanced) end
if tonumber(ARGV[8]) > 0 then redis.call('HINCRBY', KEYS[4], ARGV[7] .. ':pubdup', ARGV[8]) end
if pageSize == 0 then return cjson.encode({ code = 1, ids = {} }) end

local min = '-'
if cursor ~= '' then min = '(' .. cursor end
local ids = redis.call('ZRANGEBYLEX', KEYS[2], min, '+', 'LIMIT', 0, pageSize)
if #ids > 0 then return cjson.encode({ code = 1, ids = ids }) end

redis.call('HSET', KEYS[1], 'state', 'done', 'doneAt', now)
redis.call('ZREM', KEYS[3], KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('HINCRBY', KEYS[4], '_sched:done', 1)
return cjson.encode({ code = 2 })
