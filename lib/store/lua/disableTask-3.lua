--[[
  Disable a task type for a user, atomically and idempotently: its params, zone policy and index entry go.

  Input:
    KEYS[1] user hash
    KEYS[2] user's tasks hash (taskId -> params JSON)
    KEYS[3] user's task zone policies hash (taskId -> user | fixed)

    ARGV[1] key prefix
    ARGV[2] user id
    ARGV[3] task id
    ARGV[4] now (epoch ms)

  Output:
    1 disabled, 0 was not enabled; -1 no such user
]]
--- @include "indexHelpers"
local userId, taskId, now = ARGV[2], ARGV[3], ARGV[4]
local user = redis.call('HMGET', KEYS[1], 'zone', 'enabled')
if not user[1] then return -1 end
local policy = redis.call('HGET', KEYS[3], taskId)
local hadParams = redis.call('HDEL', KEYS[2], taskId)
if not policy then return hadParams end
if user[2] == '1' then indexRemove(taskId, groupOf(policy, user[1]), userId) end
redis.call('HDEL', KEYS[3], taskId)
redis.call('HSET', KEYS[1], 'updatedAt', now)
return 1
