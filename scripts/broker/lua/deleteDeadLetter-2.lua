--[[
  Deletes one dlq entry.

  Input:
    KEYS[1] dlq zset
    KEYS[2] dlq entry hash

    ARGV[1] dlq id

  Output:
    1 deleted
    0 no such dlq entry
]]
if redis.call("DEL", KEYS[2]) == 0 then
  return 0
end
redis.call("ZREM", KEYS[1], ARGV[1])
return 1
