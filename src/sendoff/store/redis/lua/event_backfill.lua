--! include lib_events.lua
-- Retention on a store written before P:events:finished existed: index one page of the
-- events already terminal, with finish time `now` (so they are kept one more window, like
-- the SQL backends' migrations do). Events already indexed keep their time (ZADD NX).
--
-- Keys: P:events:state:<state>, P:events:finished (lib_events.lua)
-- ARGV[1]  P
-- ARGV[2]  now (wall clock)
-- ARGV[3]  state: "succeeded" or "failed"
-- ARGV[4]  after: continue after this id ("" from the start)
-- ARGV[5]  budget: ids to index at most in this call
--
-- Returns {cursor, done}: cursor is the last id indexed (or ""); done is 1 at the end.

local now, state, after, budget = ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
if not TERMINAL[state] then
    return redis.error_reply('not a terminal state: ' .. state)
end
local low = '-'
if after ~= '' then
    low = '(' .. after
end
local ids = redis.call('ZRANGEBYLEX', P .. ':events:state:' .. state, low, '+', 'LIMIT', 0, budget)
for _, id in ipairs(ids) do
    redis.call('ZADD', FINISHED, 'NX', now, id)
end
local done = 0
if #ids < budget then
    done = 1
end
return {ids[#ids] or '', done}
