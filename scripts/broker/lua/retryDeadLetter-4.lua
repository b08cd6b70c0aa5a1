--[[
  Republishes a dead-lettered message as a new message due now, and removes
  the dlq entry. Two concurrent retries of one entry: only one wins.

  Input:
    KEYS[1] dlq zset
    KEYS[2] dlq entry hash
    KEYS[3] new message hash
    KEYS[4] due zset

    ARGV[1] dlq id
    ARGV[2] new message id
    ARGV[3] new message spec (JSON)
    ARGV[4] due time (ms)

  Output:
    1 republished
    0 no such dlq entry
]]
if redis.call("DEL", KEYS[2]) == 0 then
  return 0
end
redis.call("ZREM", KEYS[1], ARGV[1])
redis.call("HSET", KEYS[3], "spec", ARGV[3], "retried", 0, "claims", 0, "claim", "")
redis.call("ZADD", KEYS[4], ARGV[4], ARGV[2])
return 1
