--[[
  One user with its enabled task types and their params, read in one round trip.

  Input:
    KEYS[1] user hash
    KEYS[2] user's tasks hash (taskId -> params JSON)

  Output:
    JSON {zone, enabled, labels, createdAt, updatedAt, tasks: {taskId: params JSON text}},
    or nil when there is no such user
]]
local f = redis.call('HMGET', KEYS[1], 'zone', 'enabled', 'labels', 'createdAt', 'updatedAt')
if not f[1] then return nil end
local tasks = {}
local pairs_ = redis.call('HGETALL', KEYS[2])
for i = 1, #pairs_, 2 do tasks[pairs_[i]] = pairs_[i + 1] end
return cjson.encode({
  zone = f[1], enabled = f[2] == '1', labels = f[3],
  createdAt = tonumber(f[4]), updatedAt = tonumber(f[5]), tasks = tasks,
})
