-- Counts one event in a sliding window, unless the window is full.
-- KEYS[1]: a sorted set of events, member = ticket, score = time in microseconds.
-- ARGV: now, window start (events at or before it have left), window length (all µs),
--       key lifetime (ms), max events, ticket.
-- Returns {1, 0} when counted, or {0, µs until the window has room}.
-- Times stay strings on their way into commands: Lua would print them with 14 digits.
local max = tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
local count = redis.call('ZCARD', KEYS[1])
if count >= max then
  if max == 0 then
    return {0, tonumber(ARGV[3])}
  end
  -- Enough events must leave to bring the count below max; the last of them to leave decides.
  local deciding = redis.call('ZRANGE', KEYS[1], count - max, count - max, 'WITHSCORES')
  return {0, tonumber(deciding[2]) + tonumber(ARGV[3]) - tonumber(ARGV[1])}
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[6])
-- Only a bound on memory: the window itself is judged by the scores, on the caller's clock.
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {1, 0}
