-- Returns {waiting, admitted, active, admitted last minute, abandoned}.
local seed, shuffling = open_if_due()
if shuffling then
  return SHUFFLING
end
local waiting
if seed then
  waiting = redis.call('ZCARD', QUEUE)
else
  -- Before the opening every record is a pre-queue place.
  waiting = redis.call('HLEN', USERS)
end
local totals = redis.call('HMGET', META, 'admitted', 'abandoned')
local active = redis.call('ZCOUNT', PASSES, '(' .. int(NOW), '+inf')
return {waiting, tonumber(totals[1] or 0), active, admitted_last_minute(), tonumber(totals[2] or 0)}
