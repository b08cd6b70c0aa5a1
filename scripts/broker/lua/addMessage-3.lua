--[[
  Adds a message, unless its deduplication key was seen inside the window.

  Input:
    KEYS[1] deduplication key (ignored when ARGV[4] is "0")
    KEYS[2] message hash
    KEYS[3] due zset (score: due time in ms)

    ARGV[1] message id
    ARGV[2] message spec (JSON)
    ARGV[3] due time (ms)
    ARGV[4] deduplication window (ms); "0" = no deduplication

  Output:
    { messageId, 0 } stored as a new message
    { existingMessageId, 1 } duplicate: nothing stored
]]
local window = tonumber(ARGV[4])
if window > 0 then
  local existing = redis.call("GET", KEYS[1])
  if existing then
    return { existing, 1 }
  end
  redis.call("SET", KEYS[1], ARGV[1], "PX", window)
end
redis.call("HSET", KEYS[2], "spec", ARGV[2], "retried", 0, "claims", 0, "claim", "")
redis.call("ZADD", KEYS[3], ARGV[3], ARGV[1])
return { ARGV[1], 0 }
