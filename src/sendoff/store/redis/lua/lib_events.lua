-- The asynchronous invocation queue: helpers shared by the event_*.lua scripts.
--
-- P:event:<id>              hash  fk (function key), st (state), due, enq (enqueued_at),
--                                 body (JSON), tok (lease token), own and exp (lease owner
--                                 and expiry; absent unless leased)
-- P:events:ready            zset  id -> ready_at: due_at while queued or retrying, the lease
--                                 expiry while running, absent once terminal. One index
--                                 answers "what is leasable now" and "when is the next due"
-- P:events:ids              zset  id (score 0): every event, in id order
-- P:events:finished         zset  id -> finished_at (wall-clock epoch seconds): terminal
--                                 events only, oldest first, for retention (event_prune)
-- P:events:state:<state>    zset  id (score 0): the events in one state, in id order
-- P:events:owner:<owner>    set   ids of running events leased by owner
-- P:events:owners           set   owners with at least one running event
-- P:wakeups                 channel; "jobs" is published when work becomes due
--
-- ARGV[1] is always the prefix P.

local P = ARGV[1]
local READY = P .. ':events:ready'
local OWNERS = P .. ':events:owners'
local FINISHED = P .. ':events:finished'
local TERMINAL = {succeeded = true, failed = true}

local function event_key(id)
    return P .. ':event:' .. id
end

local function move_state(id, old, new)
    if old ~= new then
        if old then
            redis.call('ZREM', P .. ':events:state:' .. old, id)
        end
        redis.call('ZADD', P .. ':events:state:' .. new, 0, id)
    end
end

local function drop_owner(id, owner)
    if owner then
        local set = P .. ':events:owner:' .. owner
        redis.call('SREM', set, id)
        if redis.call('SCARD', set) == 0 then
            redis.call('SREM', OWNERS, owner)
        end
    end
end

local function add_owner(id, owner)
    redis.call('SADD', P .. ':events:owner:' .. owner, id)
    redis.call('SADD', OWNERS, owner)
end

local function wake_jobs()
    redis.call('PUBLISH', P .. ':wakeups', 'jobs')
end

-- id, fk, st, due, enq, body, own, exp, tok (absent fields are false, i.e. nil replies)
local function event_row(id)
    local f = redis.call('HMGET', event_key(id), 'fk', 'st', 'due', 'enq', 'body', 'own', 'exp', 'tok')
    return {id, f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8]}
end
