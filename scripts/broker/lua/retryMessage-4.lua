--[[
  Settles a failed attempt that has retries left: the message becomes due
  again at the retry time with its retried count raised, and the callback
  message for this attempt (if any) is enqueued.

  Input:
    KEYS[1] message hash
    KEYS[2] inflight zset
    KEYS[3] due zset
    KEYS[4] callback message hash (ignored when ARGV[5] is "")

    ARGV[1] message id
    ARGV[2] claim token
    ARGV[3] next due time (ms)
    ARGV[4] new retried count
    ARGV[5] callback message id, or ""
    ARGV[6] callback message spec (JSON)
    ARGV[7] callback due time (ms)

  Output:
    1 rescheduled
    0 claim lost
]]
if redis.call("HGET", KEYS[1], "claim") ~= ARGV[2] then
  return 0
end
redis.call("HSET", KEYS[1], "retried", ARGV[4], "claim", "")
redis.call("ZREM", KEYS[2], ARGV[1])
redis.call("ZADD", KEYS[3], ARGV[3], ARGV[1])
if ARGV[5] ~= "" then
  redis.call("HSET", KEYS[4], "spec", ARGV[6], "retried", 0, "claims", 0, "claim", "")
  redis.call("ZADD", KEYS[3], ARGV[7], ARGV[5])
end
return 1
