--! include lib_messages.lua
-- Move the visibility deadline of in-flight messages named by (seq, receipt).
--
-- Keys: P:msg:<seq>, P:queue:<q>:vis (lib_messages.lua)
-- ARGV[1]    P
-- ARGV[2]    queue id
-- ARGV[3]    now
-- ARGV[4..]  triples: seq (16 digits), receipt, new visible_at
--
-- Returns per triple 2 (changed), 1 (not in flight: visible already) or 0 (no such
-- message, or a stale receipt). Publishes "messages/<q>" when one becomes visible now.

local q, now = ARGV[2], tonumber(ARGV[3])
local k = queue_keys(q)
local out = {}
local visible_now = false
for i = 4, #ARGV, 3 do
    local seq, receipt, vis = ARGV[i], ARGV[i + 1], ARGV[i + 2]
    local key = message_key(seq)
    local f = redis.call('HMGET', key, 'q', 'rcpt', 'vis')
    if f[1] ~= q or f[2] ~= receipt then
        out[#out + 1] = 0
    elseif tonumber(f[3]) <= now then
        out[#out + 1] = 1
    else
        redis.call('HSET', key, 'vis', vis)
        redis.call('ZADD', k.vis, vis, seq)
        if tonumber(vis) <= now then
            visible_now = true
        end
        out[#out + 1] = 2
    end
end
if visible_now then
    wake_queue(q)
end
return out
