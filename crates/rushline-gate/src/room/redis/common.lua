-- Shared head of the room scripts that take a spec (see room/redis.rs for the keys).
-- KEYS: meta, users, queue, passes, recent, waits.
-- ARGV[1] now, ARGV[2] opens_at (µs since the epoch), ARGV[3] a fresh seed, used only by the
-- call that opens the room; the rest is the script's own.
--
-- meta: seed, opened (set once, at the opening), cursor (the shuffle's HSCAN cursor, present
-- while the shuffle runs), tat, tickets, admitted, abandoned, peak (the most places in line at
-- once), used (passes used).
--
-- waits: whole seconds waited -> buyers admitted after waiting that long.
--
-- users: user -> '<state>|<ticket>|<at>|<joined>' with state
--   p  pre-queue joiner; before the opening not in `queue`, after it in `queue` as
--      '<sha1_hex(seed:user)>:<user>' with score 0
--   w  joined after the opening; in `queue` as '<user>' with score = ticket
--   a  admitted; at = pass expiry
--   x  dropped by admission for not polling; said once, then deleted
-- For p and w, at is the last poll. joined is when the place was taken; a record written before
-- it was kept has none, and reads it as its at.
local META, USERS, QUEUE, PASSES, RECENT, WAITS = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local NOW, OPENS, CANDIDATE = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local MINUTE = 60000000

-- Lua numbers are doubles: big integers go to Redis through %d, never tostring.
local function int(n)
  return string.format('%d', n)
end

local function parse(record)
  local state, ticket, at, joined = string.match(record, '^(%a)|(%d+)|(%-?%d+)|?(%-?%d*)$')
  at = tonumber(at)
  return state, tonumber(ticket), at, tonumber(joined) or at
end

local function record(state, ticket, at, joined)
  return state .. '|' .. int(ticket) .. '|' .. int(at) .. '|' .. int(joined)
end

-- A place's member in `queue`. The pre-queue's members sort bytewise by the shuffle rule.
local function member(seed, user, state)
  if state == 'p' then
    return redis.sha1hex(seed .. ':' .. user) .. ':' .. user
  end
  return user
end

-- Opens the room on the first call at or after opens_at: records one seed and starts the
-- shuffle of the pre-queue into the line, which shuffle.lua carries out in short steps.
-- Returns the seed once the line is complete; false before the opening; nil and true while
-- the shuffle runs, in which case the script answers {-1} and the caller runs shuffle steps and
-- calls again, so no operation ever sees a half-shuffled line.
local function open_if_due()
  local meta = redis.call('HMGET', META, 'seed', 'cursor')
  if meta[1] then
    if meta[2] then
      return nil, true
    end
    return meta[1], false
  end
  if NOW < OPENS then
    return false, false
  end
  redis.call('HSET', META, 'seed', CANDIDATE, 'opened', int(NOW), 'tat', int(OPENS), 'cursor', '0')
  return nil, true
end

local SHUFFLING = {-1}

local function admitted_last_minute()
  return redis.call('ZCOUNT', RECENT, '(' .. int(NOW - MINUTE), '+inf')
end

-- {1, ticket, position, admitted in the last minute, opened}; position -1 in the pre-queue.
local function waiting(seed, user, state, ticket)
  if not seed then
    return {1, ticket, -1, 0, 0}
  end
  local rank = redis.call('ZRANK', QUEUE, member(seed, user, state))
  if not rank then
    return redis.error_reply('room: a waiting place is missing from the line')
  end
  local opened = tonumber(redis.call('HGET', META, 'opened'))
  return {1, ticket, rank + 1, admitted_last_minute(), opened}
end

-- Takes a waiting place out of line as abandoned (the caller rewrites or deletes the record).
local function drop_place(seed, user, state)
  if seed then
    redis.call('ZREM', QUEUE, member(seed, user, state))
  end
  redis.call('HINCRBY', META, 'abandoned', 1)
end
