--! include lib_events.lua
-- Lease up to `limit` due events (queued/retrying and due, or running with an expired
-- lease) to one owner: state running, lease until `expires`, lease token + 1.
--
-- Keys: P:event:<id>, P:events:ready, P:events:state:<state>, P:events:owner:<owner>,
--       P:events:owners (lib_events.lua)
-- ARGV[1]  P
-- ARGV[2]  owner
-- ARGV[3]  now
-- ARGV[4]  limit
-- ARGV[5]  expires (now + lease seconds)
--
-- Returns the leased events as rows (see event_row).

local owner, now, limit, expires = ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local ids = redis.call('ZRANGEBYSCORE', READY, '-inf', now, 'LIMIT', 0, limit)
local out = {}
for _, id in ipairs(ids) do
    local key = event_key(id)
    local f = redis.call('HMGET', key, 'st', 'own', 'tok')
    move_state(id, f[1], 'running')
    if f[2] ~= owner then
        drop_owner(id, f[2])
        add_owner(id, owner)
    end
    local token = string.format('%d', tonumber(f[3]) + 1)
    redis.call('HSET', key, 'st', 'running', 'own', owner, 'exp', expires, 'tok', token)
    redis.call('ZADD', READY, expires, id)
    out[#out + 1] = event_row(id)
end
return out
