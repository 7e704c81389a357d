-- Returns {waiting, admitted, active, admitted last minute, abandoned, peak, used, median wait
-- in seconds (-1 before the first admission)}.
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
local totals = redis.call('HMGET', META, 'admitted', 'abandoned', 'peak', 'used')
local active = redis.call('ZCOUNT', PASSES, '(' .. int(NOW), '+inf')

-- The lower median: the ceil(n/2)-th smallest wait. One field per distinct second waited.
local fields, waits, admitted = redis.call('HGETALL', WAITS), {}, 0
for i = 1, #fields, 2 do
  local seconds, n = tonumber(fields[i]), tonumber(fields[i + 1])
  waits[#waits + 1] = {seconds, n}
  admitted = admitted + n
end
table.sort(waits, function(a, b) return a[1] < b[1] end)
local median, counted, middle = -1, 0, math.ceil(admitted / 2)
for _, wait in ipairs(waits) do
  counted = counted + wait[2]
  if counted >= middle then
    median = wait[1]
    break
  end
end
return {waiting, tonumber(totals[1] or 0), active, admitted_last_minute(), tonumber(totals[2] or 0),
        tonumber(totals[3] or 0), tonumber(totals[4] or 0), median}
