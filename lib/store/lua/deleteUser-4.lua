--[[
  Delete a user atomically: its index entries (when active), its hashes and its place in the users zset.

  Input:
    KEYS[1] users zset
    KEYS[2] user hash
    KEYS[3] user's tasks hash (taskId -> params JSON)
    KEYS[4] user's task zone policies hash (taskId -> user | fixed)

    ARGV[1] key prefix
    ARGV[2] user id

  Output:
    1 deleted; -1 no such user
]]
--- @include "indexHelpers"
local userId = ARGV[2]
local user = redis.call('HMGET', KEYS[2], 'zone', 'enabled')
if not user[1] then return -1 end
if user[2] == '1' then
  local policies = redis.call('HGETALL', KEYS[4])
  for i = 1, #policies, 2 do
    indexRemove(policies[i], groupOf(policies[i + 1], user[1]), userId)
  end
end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
redis.call('ZREM', KEYS[1], userId)
return 1
