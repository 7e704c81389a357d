-- Uses a pass up, once. KEYS: meta, users, queue, passes, recent, waits. ARGV: now, user.
-- Returns 1 when a valid pass was used, 0 otherwise. An expired pass stays for status to
-- report once.
local held = redis.call('HGET', KEYS[2], ARGV[2])
if not held then
  return 0
end
local state, expiry = string.match(held, '^(%a)|%d+|(%-?%d+)')
if state ~= 'a' or tonumber(expiry) <= tonumber(ARGV[1]) then
  return 0
end
redis.call('ZREM', KEYS[4], ARGV[2])
redis.call('HDEL', KEYS[2], ARGV[2])
redis.call('HINCRBY', KEYS[1], 'used', 1)
return 1
