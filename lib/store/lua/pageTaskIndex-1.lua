--[[
  One page of a task index (user ids of one zone group) in id order, BYLEX from an exclusive cursor.

  Input:
    KEYS[1] task index zset idx:<taskId>:<zoneGroup> (score 0)

    ARGV[1] cursor: the last id of the previous page, or '' for the first page
    ARGV[2] page size

  Output:
    JSON {ids: [userId...], more: bool}; an empty list may encode as {}
]]
local limit = tonumber(ARGV[2])
local min = '-'
if ARGV[1] ~= '' then min = '(' .. ARGV[1] end
local ids = redis.call('ZRANGEBYLEX', KEYS[1], min, '+', 'LIMIT', 0, limit + 1)
local more = #ids > limit
if more then table.remove(ids) end
return cjson.encode({ ids = ids, more = more })
