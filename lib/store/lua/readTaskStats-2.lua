--[[
  Per-task-type user counts and the paused set (and one task's zone groups), in one round trip.

  Input:
    KEYS[1] taskcounts hash (taskId -> users indexed)
    KEYS[2] paused task types set

    ARGV[1] key prefix
    ARGV[2] task id whose zone groups to include, or '' for none

  Output:
    JSON {counts: {taskId: n}, paused: [taskId...], zones: {zoneGroup: n}}
    Empty lists and maps may encode as {}.
]]
local counts = {}
local flat = redis.call('HGETALL', KEYS[1])
for i = 1, #flat, 2 do counts[flat[i]] = tonumber(flat[i + 1]) end
local zones = {}
if ARGV[2] ~= '' then
  local z = redis.call('HGETALL', ARGV[1] .. 'idxzones:' .. ARGV[2])
  for i = 1, #z, 2 do zones[z[i]] = tonumber(z[i + 1]) end
end
return cjson.encode({ counts = counts, paused = redis.call('SMEMBERS', KEYS[2]), zones = zones })
