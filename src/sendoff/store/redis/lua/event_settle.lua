--! include lib_events.lua
-- Act on an event while holding its lease (lease token matches, state not terminal).
--
-- Keys: P:event:<id>, P:events:ready, P:events:state:<state>, P:events:owner:<owner>,
--       P:events:owners, P:events:finished (lib_events.lua)
-- ARGV[1]  P
-- ARGV[2]  id
-- ARGV[3]  lease token
-- ARGV[4]  action, and its arguments:
--            "reschedule" state due_at body   due again at due_at; publishes "jobs"
--            "finish"     state body now      terminal: leaves the ready index, joins
--                                             P:events:finished at now (wall clock)
--            "extend"     expires_at          heartbeat; only while running
--
-- Returns 1, or 0 when the lease was lost (or the event does not exist).

local id, token, action = ARGV[2], ARGV[3], ARGV[4]
local key = event_key(id)
local f = redis.call('HMGET', key, 'st', 'own', 'tok')
local state, owner = f[1], f[2]
if not state or tonumber(f[3]) ~= tonumber(token) or TERMINAL[state] then
    return 0
end
if action == 'extend' then
    if state ~= 'running' then
        return 0
    end
    redis.call('HSET', key, 'exp', ARGV[5])
    redis.call('ZADD', READY, ARGV[5], id)
elseif action == 'reschedule' then
    local new_state, due, body = ARGV[5], ARGV[6], ARGV[7]
    move_state(id, state, new_state)
    drop_owner(id, owner)
    redis.call('HSET', key, 'st', new_state, 'due', due, 'body', body)
    redis.call('HDEL', key, 'own', 'exp')
    redis.call('ZADD', READY, due, id)
    wake_jobs()
elseif action == 'finish' then
    local new_state, body = ARGV[5], ARGV[6]
    move_state(id, state, new_state)
    drop_owner(id, owner)
    redis.call('HSET', key, 'st', new_state, 'body', body)
    redis.call('HDEL', key, 'own', 'exp')
    redis.call('ZREM', READY, id)
    redis.call('ZADD', FINISHED, ARGV[7], id)
else
    return redis.error_reply('unknown action ' .. action)
end
return 1
