-- One claim, atomically. KEYS: meta, users, grants (see redis.rs).
-- ARGV: user, qty, request_id, fingerprint, at (the caller's clock, Unix microseconds).
-- Returns {code, seq}: 0 state missing, 1 granted, 2 replayed, 3 mismatch, 4 sold out,
-- 5 limit reached.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {0, 0}
end
local user, qty, request_id, fingerprint, at = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5]

local grant = redis.call('HGET', KEYS[3], request_id)
if grant then
  local seq, granted_fingerprint = string.match(grant, '^(%d+):%d+:(%d+):')
  if granted_fingerprint == fingerprint then
    return {2, tonumber(seq)}
  end
  return {3, 0}
end

local meta = redis.call('HMGET', KEYS[1], 'total', 'held', 'limit')
local total, held, limit = tonumber(meta[1]), tonumber(meta[2]), tonumber(meta[3])
if tonumber(redis.call('HGET', KEYS[2], user) or '0') + qty > limit then
  return {5, 0}
end
if held + qty > total then
  return {4, 0}
end

redis.call('HINCRBY', KEYS[1], 'held', qty)
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('HINCRBY', KEYS[2], user, qty)
redis.call('HSET', KEYS[3], request_id,
  string.format('%d:%d:%s:%s:1:%s', seq, qty, fingerprint, user, at))
return {1, seq}
