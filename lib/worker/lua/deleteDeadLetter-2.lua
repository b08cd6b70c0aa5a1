--[[
  Drop a dead letter (list entry and record) for good; the job keeps its dead state.

  Input:
    KEYS[1] dead-letter zset (id -> time)
    KEYS[2] dead-letter hash

    ARGV[1] dead-letter id

  Output:
    1 deleted, 0 no such dead letter
]]
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
local deleted = redis.call('DEL', KEYS[2])
if removed + deleted > 0 then return 1 end
return 0
