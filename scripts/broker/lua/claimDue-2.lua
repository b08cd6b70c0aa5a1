--[[
  Claims due messages for delivery, and first makes messages whose lease ran
  out (their broker died mid-delivery) due again.

  Input:
    KEYS[1] due zset (score: due time in ms)
    KEYS[2] inflight zset (score: lease deadline in ms)

    ARGV[1] now (ms)
    ARGV[2] max messages to claim
    ARGV[3] lease (ms)
    ARGV[4] claim owner (broker instance id)
    ARGV[5] message hash key prefix (message id is appended)

  Output:
    flat array, 4 entries per claimed message:
    { messageId, claimToken, retried, spec, ... }
]]
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local prefix = ARGV[5]

local expired = redis.call("ZRANGEBYSCORE", KEYS[2], "-inf", now, "LIMIT", 0, limit)
for _, id in ipairs(expired) do
  redis.call("ZREM", KEYS[2], id)
  if redis.call("EXISTS", prefix .. id) == 1 then
    -- Clearing the claim makes a late settle from the lost owner a no-op.
    redis.call("HSET", prefix .. id, "claim", "")
    redis.call("ZADD", KEYS[1], now, id)
  end
end

local out = {}
local ids = redis.call("ZRANGEBYSCORE", KEYS[1], "-inf", now, "LIMIT", 0, limit)
for _, id in ipairs(ids) do
  redis.call("ZREM", KEYS[1], id)
  local key = prefix .. id
  if redis.call("EXISTS", key) == 1 then
    local n = redis.call("HINCRBY", key, "claims", 1)
    local token = ARGV[4] .. ":" .. n
    redis.call("HSET", key, "claim", token)
    redis.call("ZADD", KEYS[2], now + tonumber(ARGV[3]), id)
    local fields = redis.call("HMGET", key, "retried", "spec")
    out[#out + 1] = id
    out[#out + 1] = token
    out[#out + 1] = fields[1]
    out[#out + 1] = fields[2]
  end
end
return out
