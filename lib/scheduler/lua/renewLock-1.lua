--[[
  Extend the scheduler lock, only for the owner that holds it (compare-and-pexpire).

  Input:
    KEYS[1] scheduler lock (string: owner token)

    ARGV[1] owner token
    ARGV[2] new time to live (ms)

  Output:
    1 renewed; 0 not held by this owner (expired, or taken by another)
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
