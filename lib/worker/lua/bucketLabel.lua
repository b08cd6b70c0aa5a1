-- The Lua twin of bucketLabel (lib/metrics/buckets.ts): the smallest bound >= value, or 'inf'.
local function bucketLabel(bounds, value)
  for _, b in ipairs(bounds) do
    if value <= b then return tostring(b) end
  end
  return 'inf'
end
