-- KEYS: meta, users, grants. Returns {code, remaining}: 0 state missing, 1 ok.
local meta = redis.call('HMGET', KEYS[1], 'total', 'held')
if not meta[1] then
  return {0, 0}
end
return {1, math.max(tonumber(meta[1]) - tonumber(meta[2]), 0)}
