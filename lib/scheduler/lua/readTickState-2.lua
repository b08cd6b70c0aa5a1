--[[
  Everything a tick reads before planning, in one command however many task types the catalog has.

  A tick runs every minute: read one by one, the zone groups of a 300-type catalog would cost ~300
  commands a minute (~13M a month) even when nothing is due. One read-only script costs one.

  Input:
    KEYS[1]   paused task set
    KEYS[2]   active slots zset (slot key -> claimed at)
    KEYS[3..] each task's zone-group counts hash (idxzones:<task>), in the caller's order

    ARGV[1] at most this many active slots, oldest claim first

  Output: JSON {paused = [task ids], active = [slot keys], zones = [[group, count, group, count, ...], ...]}
  (cjson writes an empty list as {}: the caller reads a non-list as empty)
]]
local zones = {}
for i = 3, #KEYS do zones[i - 2] = redis.call('HGETALL', KEYS[i]) end
return cjson.encode({
  paused = redis.call('SMEMBERS', KEYS[1]),
  active = redis.call('ZRANGE', KEYS[2], 0, tonumber(ARGV[1]) - 1),
  zones = zones,
})
