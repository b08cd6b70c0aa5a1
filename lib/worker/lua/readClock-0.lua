--[[
  The server clock alone: a small round trip a worker uses to place a long batch's reservations on its own clock.

  Input: none.

  Output: the server clock (ms, to the microsecond) as text.
]]
local t = redis.call('TIME')
return string.format('%.17g', tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000)
