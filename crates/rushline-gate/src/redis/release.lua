-- Gives one grant back, once. KEYS: meta, users, grants. ARGV: request_id, forget (1 or 0).
-- With forget, the grant's record goes too, so the request id may claim afresh (an abort).
-- Returns {code, 0}: 0 state missing, 1 released, 2 unknown or already released.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {0, 0}
end
local grant = redis.call('HGET', KEYS[3], ARGV[1])
if not grant then
  return {2, 0}
end
local seq, qty, fingerprint, user, active, at = string.match(grant, '^(%d+):(%d+):(%d+):([^:]+):(%d):(%d+)$')
if ARGV[2] == '1' then
  redis.call('HDEL', KEYS[3], ARGV[1])
end
if active == '0' then
  return {2, 0}
end

redis.call('HINCRBY', KEYS[1], 'held', -qty)
if redis.call('HINCRBY', KEYS[2], user, -qty) <= 0 then
  redis.call('HDEL', KEYS[2], user)
end
if ARGV[2] ~= '1' then
  -- Kept, marked released, so that a retried claim still replays instead of claiming again.
  redis.call('HSET', KEYS[3], ARGV[1], table.concat({seq, qty, fingerprint, user, '0', at}, ':'))
end
return {1, 0}
