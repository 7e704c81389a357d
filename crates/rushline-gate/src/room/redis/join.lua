-- Takes a place, or answers with the one held. ARGV[4] user, ARGV[5] idle timeout,
-- ARGV[6] queue opens at.
-- Returns {1, ticket, position, admitted last minute, opened} waiting, {2, ticket, expiry}
-- admitted, {5} not open yet.
local USER, IDLE, QUEUE_OPENS = ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
local seed, shuffling = open_if_due()
if shuffling then
  return SHUFFLING
end
if not seed and NOW < QUEUE_OPENS then
  return {5}
end

local held = redis.call('HGET', USERS, USER)
if held then
  local state, ticket, at, joined = parse(held)
  if state == 'a' and at > NOW then
    return {2, ticket, at}
  end
  if state == 'p' or state == 'w' then
    if NOW - at < IDLE then
      redis.call('HSET', USERS, USER, record(state, ticket, NOW, joined))
      return waiting(seed, USER, state, ticket)
    end
    drop_place(seed, USER, state)
  end
end

local ticket = redis.call('HINCRBY', META, 'tickets', 1)
local state = 'p'
if seed then
  state = 'w'
  redis.call('ZADD', QUEUE, int(ticket), USER)
end
redis.call('HSET', USERS, USER, record(state, ticket, NOW, NOW))
-- Before the opening every record is a pre-queue place.
local line = seed and redis.call('ZCARD', QUEUE) or redis.call('HLEN', USERS)
if line > tonumber(redis.call('HGET', META, 'peak') or 0) then
  redis.call('HSET', META, 'peak', line)
end
return waiting(seed, USER, state, ticket)
