--[[
  Settles a message whose retries are exhausted: moves it to the dead-letter
  queue and enqueues its callback and failure-callback messages (if any).

  Input:
    KEYS[1] message hash
    KEYS[2] inflight zset
    KEYS[3] due zset
    KEYS[4] dlq zset (all scores 0, ordered by dlq id)
    KEYS[5] dlq entry hash
    KEYS[6] callback message hash (ignored when ARGV[5] is "")
    KEYS[7] failure-callback message hash (ignored when ARGV[7] is "")

    ARGV[1] message id
    ARGV[2] claim token
    ARGV[3] dlq id
    ARGV[4] dlq entry (JSON)
    ARGV[5] callback message id, or ""
    ARGV[6] callback message spec (JSON)
    ARGV[7] failure-callback message id, or ""
    ARGV[8] failure-callback message spec (JSON)
    ARGV[9] now (ms): due time of both callback messages

  Output:
    1 dead-lettered
    0 claim lost
]]
if redis.call("HGET", KEYS[1], "claim") ~= ARGV[2] then
  return 0
end
redis.call("DEL", KEYS[1])
redis.call("ZREM", KEYS[2], ARGV[1])
redis.call("HSET", KEYS[5], "entry", ARGV[4])
redis.call("ZADD", KEYS[4], 0, ARGV[3])
if ARGV[5] ~= "" then
  redis.call("HSET", KEYS[6], "spec", ARGV[6], "retried", 0, "claims", 0, "claim", "")
  redis.call("ZADD", KEYS[3], ARGV[9], ARGV[5])
end
if ARGV[7] ~= "" then
  redis.call("HSET", KEYS[7], "spec", ARGV[8], "retried", 0, "claims", 0, "claim", "")
  redis.call("ZADD", KEYS[3], ARGV[9], ARGV[7])
end
return 1
