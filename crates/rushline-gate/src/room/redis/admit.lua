-- One admission step. ARGV[4] admissions per minute, ARGV[5] max active (-1: no cap),
-- ARGV[6] session, ARGV[7] idle timeout, ARGV[8] catch-up, ARGV[9] scan budget.
-- Returns {admitted, abandoned}.
local RATE, MAX_ACTIVE, SESSION = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local IDLE, CATCH_UP, BUDGET = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local seed, shuffling = open_if_due()
if shuffling then
  return SHUFFLING
end
if not seed then
  return {0, 0}
end
-- A pass is valid while now < expiry.
redis.call('ZREMRANGEBYSCORE', PASSES, '-inf', int(NOW))
redis.call('ZREMRANGEBYSCORE', RECENT, '-inf', int(NOW - MINUTE))
if RATE <= 0 then
  return {0, 0}
end

-- One slot every interval from `tat` on; slots older than the catch-up are forfeit.
local interval = math.max(math.ceil(MINUTE / RATE), 1)
local tat = math.max(tonumber(redis.call('HGET', META, 'tat')), NOW - CATCH_UP)
if tat > NOW then
  return {0, 0}
end
local due = math.floor((NOW - tat) / interval) + 1
if MAX_ACTIVE >= 0 then
  due = math.min(due, MAX_ACTIVE - redis.call('ZCARD', PASSES))
end

local admitted, abandoned, scanned = 0, 0, 0
while admitted < due and scanned < BUDGET do
  local popped = redis.call('ZPOPMIN', QUEUE, int(math.min(due - admitted, BUDGET - scanned)))
  if #popped == 0 then
    break
  end
  for i = 1, #popped, 2 do
    scanned = scanned + 1
    local place = popped[i]
    local user = string.match(place, ':(.+)$') or place
    local held = redis.call('HGET', USERS, user)
    if held then
      local state, ticket, at, joined = parse(held)
      -- Only the member the record points at is a held place.
      if (state == 'p' and place ~= user) or (state == 'w' and place == user) then
        if NOW - at >= IDLE then
          redis.call('HSET', USERS, user, record('x', ticket, at, joined))
          abandoned = abandoned + 1
        else
          local expiry = NOW + SESSION
          redis.call('HSET', USERS, user, record('a', ticket, expiry, joined))
          redis.call('HINCRBY', WAITS, int(math.floor((NOW - math.max(joined, OPENS)) / 1000000)), 1)
          redis.call('ZADD', PASSES, int(expiry), user)
          redis.call('ZADD', RECENT, int(NOW), int(ticket))
          admitted = admitted + 1
        end
      end
    end
  end
end

redis.call('HSET', META, 'tat', int(tat + admitted * interval))
if admitted > 0 then
  redis.call('HINCRBY', META, 'admitted', admitted)
end
if abandoned > 0 then
  redis.call('HINCRBY', META, 'abandoned', abandoned)
end
return {admitted, abandoned}
