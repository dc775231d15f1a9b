--! include lib_events.lua
-- Add new events (all or none). An event may arrive already running, leased to its
-- creator: it is ready (leasable by others) only once that lease expires.
--
-- Keys: P:event:<id>, P:events:ready, P:events:ids, P:events:state:<state>,
--       P:events:owner:<owner>, P:events:owners, P:events:finished (lib_events.lua)
-- ARGV[1]    P
-- ARGV[2]    now (wall clock): the finish time of events that arrive already terminal
-- ARGV[3..]  nine values per event: id, function key, state, due_at, enqueued_at, body,
--            lease owner, lease expiry, lease token ("" owner or expiry: none)
--
-- Returns {1} or, when an id is already taken (nothing is written), {0, id}. An event that
-- exists with the same function key, enqueued_at and body is skipped, not a conflict: so a
-- call retried after its reply was lost to a dropped connection succeeds.
-- Publishes "jobs" when an event that is not running (i.e. leasable work) was added.

local seen, skip = {}, {}
for i = 3, #ARGV, 9 do
    local id = ARGV[i]
    if seen[id] then
        return {0, id}
    end
    seen[id] = true
    local old = redis.call('HMGET', event_key(id), 'fk', 'enq', 'body')
    if old[1] then
        if old[1] ~= ARGV[i + 1] or old[2] ~= ARGV[i + 4] or old[3] ~= ARGV[i + 5] then
            return {0, id}
        end
        skip[id] = true
    end
end
local wake = false
for i = 3, #ARGV, 9 do
    local id, fk, st, due, enq, body, own, exp, tok =
        ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], ARGV[i + 6],
        ARGV[i + 7], ARGV[i + 8]
    if not skip[id] then
        local key = event_key(id)
        redis.call('HSET', key, 'fk', fk, 'st', st, 'due', due, 'enq', enq, 'body', body, 'tok', tok)
        if own ~= '' then
            redis.call('HSET', key, 'own', own)
        end
        if exp ~= '' then
            redis.call('HSET', key, 'exp', exp)
        end
        local ready = due
        if st == 'running' then
            ready = exp
            if own ~= '' then
                add_owner(id, own)
            end
        else
            wake = true
        end
        if ready ~= '' then
            redis.call('ZADD', READY, ready, id)
        end
        redis.call('ZADD', P .. ':events:ids', 0, id)
        move_state(id, nil, st)
        if TERMINAL[st] then
            redis.call('ZADD', FINISHED, ARGV[2], id)
        end
    end
end
if wake then
    wake_jobs()
end
return {1}
