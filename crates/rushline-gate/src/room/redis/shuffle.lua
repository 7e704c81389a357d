-- One step of the opening shuffle: places the next pre-queue joiners in the line, so that no
-- single script holds Redis for long however big the pre-queue. Steps from many nodes may
-- interleave: the cursor is shared, and placing a joiner twice is harmless.
-- KEYS: meta, users, queue, passes, recent, waits. ARGV: how many records to scan.
-- Returns 1 when the line is complete, 0 when more steps are needed.
--
-- HSCAN returns every record present from the first step to the last. A pre-queue record can
-- only disappear (dropped as idle, replaced by a later join as 'w'), never appear, once the
-- room is open, so every joiner still holding a pre-queue place is placed.
local meta = redis.call('HMGET', KEYS[1], 'seed', 'cursor')
local seed, cursor = meta[1], meta[2]
if not cursor then
  return 1
end
local scan = redis.call('HSCAN', KEYS[2], cursor, 'COUNT', ARGV[1])
local records, batch = scan[2], {}
for i = 1, #records, 2 do
  local user = records[i]
  if string.sub(records[i + 1], 1, 1) == 'p' then
    -- The shuffle rule; the same member as common.lua's member(seed, user, 'p').
    batch[#batch + 1] = '0'
    batch[#batch + 1] = redis.sha1hex(seed .. ':' .. user) .. ':' .. user
    if #batch >= 1000 then
      redis.call('ZADD', KEYS[3], unpack(batch))
      batch = {}
    end
  end
end
if #batch > 0 then
  redis.call('ZADD', KEYS[3], unpack(batch))
end
if scan[1] == '0' then
  redis.call('HDEL', KEYS[1], 'cursor')
  return 1
end
redis.call('HSET', KEYS[1], 'cursor', scan[1])
return 0
