-- Deletes a pool's state so that the next script reloads it from the database, keeping the
-- last seq it gave: grants still in flight from it may commit after the reload's snapshot was
-- read, so the reloaded pool continues after it.
-- KEYS: meta, users, grants, last_seq.
local given = tonumber(redis.call('HGET', KEYS[1], 'seq') or '0')
if given > tonumber(redis.call('GET', KEYS[4]) or '0') then
  redis.call('SET', KEYS[4], string.format('%d', given))
end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
return 0
