--[[
  Settles a delivered message: removes it, and enqueues its callback message.
  Only the current claim holder may settle.

  Input:
    KEYS[1] message hash
    KEYS[2] inflight zset
    KEYS[3] due zset
    KEYS[4] callback message hash (ignored when ARGV[3] is "")

    ARGV[1] message id
    ARGV[2] claim token
    ARGV[3] callback message id, or ""
    ARGV[4] callback message spec (JSON)
    ARGV[5] callback due time (ms)

  Output:
    1 settled
    0 claim lost (cancelled, or the lease ran out and the message is due again)
]]
if redis.call("HGET", KEYS[1], "claim") ~= ARGV[2] then
  return 0
end
redis.call("DEL", KEYS[1])
redis.call("ZREM", KEYS[2], ARGV[1])
if ARGV[3] ~= "" then
  redis.call("HSET", KEYS[4], "spec", ARGV[4], "retried", 0, "claims", 0, "claim", "")
  redis.call("ZADD", KEYS[3], ARGV[5], ARGV[3])
end
return 1
