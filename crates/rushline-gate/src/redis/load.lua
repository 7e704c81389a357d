-- Installs a pool's state from a database snapshot, only if no state is there: two nodes
-- racing to rebuild cannot both install, so nothing is counted twice.
-- KEYS: meta, users, grants, last_seq (the last seq an invalidated state gave).
-- ARGV: total, per_user_limit, last_seq, held, then per hold: request_id, user, qty, seq,
-- fingerprint.
-- Returns the new generation, or 0 when a state was already there.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
-- Without meta the other keys are leftovers (an eviction, a half-done delete): start clean.
redis.call('DEL', KEYS[2], KEYS[3])

-- The server clock in microseconds: distinct per install, even across a FLUSHALL that would
-- reset a counter.
local now = redis.call('TIME')
local generation = tonumber(now[1]) * 1000000 + tonumber(now[2])
local last_seq = math.max(tonumber(ARGV[3]), tonumber(redis.call('GET', KEYS[4]) or '0'))
redis.call('HSET', KEYS[1], 'total', ARGV[1], 'limit', ARGV[2], 'seq', string.format('%d', last_seq),
  'held', ARGV[4],
  'gen', string.format('%d', generation))
for i = 5, #ARGV, 5 do
  local request_id, user, qty, seq, fingerprint = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  redis.call('HINCRBY', KEYS[2], user, qty)
  redis.call('HSET', KEYS[3], request_id, table.concat({seq, qty, fingerprint, user, '1', '0'}, ':'))
end
return generation
