--[[
  Cancels a waiting message: it will never be claimed again.

  Input:
    KEYS[1] message hash
    KEYS[2] due zset
    KEYS[3] inflight zset

    ARGV[1] message id

  Output:
    1 cancelled
    0 no such message (unknown, delivered or already dead-lettered)
]]
if redis.call("DEL", KEYS[1]) == 0 then
  return 0
end
redis.call("ZREM", KEYS[2], ARGV[1])
redis.call("ZREM", KEYS[3], ARGV[1])
return 1
