--[[
  One page of users in id order (BYLEX from an exclusive cursor), with each user's fields.

  Input:
    KEYS[1] users zset (score 0)

    ARGV[1] key prefix (user hashes are <prefix>user:<id>, tasks <prefix>utasks:<id>)
    ARGV[2] cursor: the last id of the previous page, or '' for the first page
    ARGV[3] page size

  Output:
    JSON {users: [{id, zone, enabled, labels, createdAt, updatedAt, taskCount}], more: bool}
    An empty list may encode as {}.
]]
local prefix, limit = ARGV[1], tonumber(ARGV[3])
local min = '-'
if ARGV[2] ~= '' then min = '(' .. ARGV[2] end
-- One id past the page says whether another page exists, so pages are exact.
local ids = redis.call('ZRANGEBYLEX', KEYS[1], min, '+', 'LIMIT', 0, limit + 1)
local users = {}
for i = 1, math.min(#ids, limit) do
  local id = ids[i]
  local f = redis.call('HMGET', prefix .. 'user:' .. id, 'zone', 'enabled', 'labels', 'createdAt', 'updatedAt')
  users[i] = {
    id = id, zone = f[1], enabled = f[2] == '1', labels = f[3],
    createdAt = tonumber(f[4]), updatedAt = tonumber(f[5]),
    taskCount = redis.call('HLEN', prefix .. 'utasks:' .. id),
  }
end
return cjson.encode({ users = users, more = #ids > limit })
