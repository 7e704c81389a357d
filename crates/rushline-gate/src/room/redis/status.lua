-- A poll. ARGV[4] user, ARGV[5] idle timeout.
-- Returns {0} not in queue, {1, ticket, position, admitted last minute, opened} waiting,
-- {2, ticket, expiry} admitted, {3, ticket} abandoned, {4, ticket} pass expired.
local USER, IDLE = ARGV[4], tonumber(ARGV[5])
local seed, shuffling = open_if_due()
if shuffling then
  return SHUFFLING
end
local held = redis.call('HGET', USERS, USER)
if not held then
  return {0}
end
local state, ticket, at, joined = parse(held)
if state == 'a' then
  if at > NOW then
    return {2, ticket, at}
  end
  redis.call('HDEL', USERS, USER)
  return {4, ticket}
end
if state == 'x' then
  redis.call('HDEL', USERS, USER)
  return {3, ticket}
end
if NOW - at >= IDLE then
  drop_place(seed, USER, state)
  redis.call('HDEL', USERS, USER)
  return {3, ticket}
end
redis.call('HSET', USERS, USER, record(state, ticket, NOW, joined))
return waiting(seed, USER, state, ticket)
