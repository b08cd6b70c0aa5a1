--[[
  Release the scheduler lock, only for the owner that holds it (compare-and-delete).

  Input:
    KEYS[1] scheduler lock (string: owner token)

    ARGV[1] owner token

  Output:
    1 released; 0 not held by this owner (nothing deleted)
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
