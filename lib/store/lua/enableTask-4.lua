--[[
  Enable (or re-parameterise) a task type for a user and index the user, atomically and idempotently.
  An active user is indexed in the zone group its policy gives (the user's zone, or '_' for fixed-zone
  tasks); a policy change since the last enable moves the entry. Same params and policy: nothing written.

  Input:
    KEYS[1] user hash
    KEYS[2] user's tasks hash (taskId -> params JSON)
    KEYS[3] user's task zone policies hash (taskId -> user | fixed)
    KEYS[4] paused task types set

    ARGV[1] key prefix
    ARGV[2] user id
    ARGV[3] task id
    ARGV[4] params (JSON object text, stored as is)
    ARGV[5] zone policy: user | fixed
    ARGV[6] now (epoch ms)

  Output:
    1 enabled, 2 params or policy updated, 0 unchanged; -1 no such user, -3 task type paused
]]
--- @include "indexHelpers"
local userId, taskId, params, policy, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local user = redis.call('HMGET', KEYS[1], 'zone', 'enabled')
if not user[1] then return -1 end
if redis.call('SISMEMBER', KEYS[4], taskId) == 1 then return -3 end

local oldParams = redis.call('HGET', KEYS[2], taskId)
local oldPolicy = redis.call('HGET', KEYS[3], taskId)
if oldParams == params and oldPolicy == policy then return 0 end

redis.call('HSET', KEYS[2], taskId, params)
redis.call('HSET', KEYS[3], taskId, policy)
redis.call('HSET', KEYS[1], 'updatedAt', now)
if user[2] == '1' then
  local to = groupOf(policy, user[1])
  if oldPolicy and groupOf(oldPolicy, user[1]) ~= to then
    indexRemove(taskId, groupOf(oldPolicy, user[1]), userId)
  end
  indexAdd(taskId, to, userId)
end
if oldParams then return 2 end
return 1
