--! include lib_messages.lua
-- Hand back messages a receive leased but its caller never got (it was cancelled): each
-- message still holding this receive's receipt gets its previous state again.
--
-- Keys: P:msg:<seq>, P:queue:<q>:{vis,fresh,rc} (lib_messages.lua)
-- ARGV[1]    P
-- ARGV[2]    queue id
-- ARGV[3]    receipt of the cancelled receive
-- ARGV[4..]  four values per message: seq, previous vis, previous rcpt, previous frst
--            ("" for none)
--
-- Returns the number of messages handed back.

local q, receipt = ARGV[2], ARGV[3]
local k = queue_keys(q)
local restored = 0
for i = 4, #ARGV, 4 do
    local seq, vis, rcpt, frst = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
    local key = message_key(seq)
    local f = redis.call('HMGET', key, 'q', 'rcpt', 'rc')
    if f[1] == q and f[2] == receipt then
        local rc = tonumber(f[3]) - 1
        redis.call('HSET', key, 'vis', vis, 'rc', string.format('%d', rc))
        redis.call('ZADD', k.vis, vis, seq)
        if rcpt == '' then
            redis.call('HDEL', key, 'rcpt')
            redis.call('ZADD', k.fresh, vis, seq)
        else
            redis.call('HSET', key, 'rcpt', rcpt)
        end
        if frst == '' then
            redis.call('HDEL', key, 'frst')
        end
        if rc > 0 then
            redis.call('ZADD', k.rc, rc, seq)
        else
            redis.call('ZREM', k.rc, seq)
        end
        restored = restored + 1
    end
end
if restored > 0 then
    wake_queue(q)
end
return restored
