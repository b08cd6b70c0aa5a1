--[[
  Create or update a user; a zone change or (en|dis)abling moves the user's index entries atomically.
  When the user's active zone groups change, each enabled task's index entry moves from the old group to
  the new one. A disabled user stays stored but is in no index. Nothing is written when nothing changed.

  Input:
    KEYS[1] users zset (score 0)
    KEYS[2] user hash (zone, enabled, labels, createdAt, updatedAt)
    KEYS[3] user's task zone policies hash (taskId -> user | fixed)

    ARGV[1] key prefix (index keys are built from it)
    ARGV[2] user id
    ARGV[3] IANA zone
    ARGV[4] enabled: 1 | 0
    ARGV[5] labels (JSON object text)
    ARGV[6] now (epoch ms)

  Output:
    1 created, 0 updated, 2 unchanged
]]
--- @include "indexHelpers"
local userId, zone, enabled, labels, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local old = redis.call('HMGET', KEYS[2], 'zone', 'enabled', 'labels')
local existed = old[1] ~= false
if existed and old[1] == zone and old[2] == enabled and old[3] == labels then return 2 end

local wasActive = existed and old[2] == '1'
local isActive = enabled == '1'
local policies = redis.call('HGETALL', KEYS[3])
for i = 1, #policies, 2 do
  local taskId, policy = policies[i], policies[i + 1]
  local from = wasActive and groupOf(policy, old[1]) or nil
  local to = isActive and groupOf(policy, zone) or nil
  if from ~= to then
    if from then indexRemove(taskId, from, userId) end
    if to then indexAdd(taskId, to, userId) end
  end
end

redis.call('HSET', KEYS[2], 'zone', zone, 'enabled', enabled, 'labels', labels, 'updatedAt', now)
if existed then return 0 end
redis.call('HSET', KEYS[2], 'createdAt', now)
redis.call('ZADD', KEYS[1], 0, userId)
return 1
