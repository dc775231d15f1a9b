--! include lib_events.lua
-- Retention: delete up to `limit` terminal events, oldest finished first: those finished
-- before the cut-off and, with a count cap, the oldest beyond the newest `keep` terminal
-- ones. Live events (queued, running, retrying) are never in P:events:finished, so they
-- are never deleted, whatever their age.
--
-- Keys: P:events:finished, P:event:<id>, P:events:ids, P:events:state:<state>
--       (lib_events.lua)
-- ARGV[1]  P
-- ARGV[2]  before: finish-time cut-off, epoch seconds (exclusive)
-- ARGV[3]  keep: the count cap ("" for none)
-- ARGV[4]  limit: events to delete at most in this call
--
-- Returns the number of events deleted.

local before, keep, limit = ARGV[2], ARGV[3], tonumber(ARGV[4])
local doomed = redis.call('ZRANGEBYSCORE', FINISHED, '-inf', '(' .. before, 'LIMIT', 0, limit)
if keep ~= '' and #doomed < limit then
    -- the doomed ones are the lowest ranks; the next `excess` ranks are over the cap
    local excess = redis.call('ZCARD', FINISHED) - #doomed - tonumber(keep)
    excess = math.min(excess, limit - #doomed)
    if excess > 0 then
        local more = redis.call('ZRANGE', FINISHED, #doomed, #doomed + excess - 1)
        for _, id in ipairs(more) do
            doomed[#doomed + 1] = id
        end
    end
end
local deleted = 0
for _, id in ipairs(doomed) do
    local state = redis.call('HGET', event_key(id), 'st')
    if TERMINAL[state] then
        redis.call('DEL', event_key(id))
        redis.call('ZREM', P .. ':events:ids', id)
        redis.call('ZREM', P .. ':events:state:' .. state, id)
        deleted = deleted + 1
    end
    redis.call('ZREM', FINISHED, id)
end
return deleted
