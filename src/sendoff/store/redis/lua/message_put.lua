--! include lib_messages.lua
-- Append messages to a queue, skipping those whose dedup key is inside its window.
--
-- Keys: P:msgseq, P:msg:<seq>, P:queue:<q>:{vis,seq,sent,fresh,dedup,dedupexp}
--       (lib_messages.lua)
-- ARGV[1]    P
-- ARGV[2]    queue id
-- ARGV[3]    now
-- ARGV[4]    dedup window end for keys first seen now (now + window)
-- ARGV[5..]  seven values per message: id, body, meta, group id, dedup key, sent_at,
--            visible_at ("" group id or dedup key: none)
--
-- Returns {id, seq, duplicate (0/1)} per message; publishes "messages/<q>" if any stored.

local q, now, window_end = ARGV[2], tonumber(ARGV[3]), ARGV[4]
local k = queue_keys(q)
local out = {}
local stored = 0
for i = 5, #ARGV, 7 do
    local id, body, meta, gid, dd, sent, vis =
        ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], ARGV[i + 6]
    local hit = nil
    if dd ~= '' then
        local until_ = redis.call('ZSCORE', k.dedupexp, dd)
        if until_ and tonumber(until_) > now then
            hit = redis.call('HGET', k.dedup, dd)
        end
    end
    if hit then
        local seq, original = string.match(hit, '^(%d+) (.*)$')
        out[#out + 1] = {original, seq, 1}
    else
        local seq = next_seq()
        local key = message_key(seq)
        redis.call('HSET', key, 'q', q, 'id', id, 'body', body, 'meta', meta,
            'sent', sent, 'vis', vis, 'rc', '0')
        if gid ~= '' then
            redis.call('HSET', key, 'gid', gid)
        end
        if dd ~= '' then
            redis.call('HSET', key, 'dd', dd)
            redis.call('HSET', k.dedup, dd, seq .. ' ' .. id)
            redis.call('ZADD', k.dedupexp, window_end, dd)
        end
        index_message(k, seq, sent, vis, '0', false)
        stored = stored + 1
        out[#out + 1] = {id, seq, 0}
    end
end
if stored > 0 then
    wake_queue(q)
end
return out
