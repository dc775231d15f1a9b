--! include lib_messages.lua
-- Receive: redrive exhausted messages, then lease up to `limit` deliverable ones.
--
-- A message is deliverable when it is visible (vis <= now) and unexpired (sent > cut). With
-- ordered (FIFO) delivery it must also not be blocked: no earlier unexpired message of its
-- group is invisible (in flight or delayed). An earlier message whose visibility ran out
-- is deliverable while a later one is still in flight, as on AWS. Candidates come in seq
-- order when ordered, else by (visible_at, seq).
--
-- Keys: P:msgseq, P:msg:<seq>, P:queue:<q>:{vis,seq,sent,fresh,rc} of this queue and of
--       the dead-letter queue (lib_messages.lua)
-- ARGV[1]   P
-- ARGV[2]   queue id
-- ARGV[3]   now
-- ARGV[4]   limit
-- ARGV[5]   visible_at for leased messages (now + visibility seconds)
-- ARGV[6]   cut: messages sent at or before it are expired
-- ARGV[7]   "1" for ordered (FIFO) delivery
-- ARGV[8]   receipt token of this receive
-- ARGV[9]   dead-letter queue id ("" for no redrive), then:
-- ARGV[10]  max receive count
-- ARGV[11]  dead-letter source (stamped as dls on moved messages)
-- ARGV[12]  "1" to reset sent_at to now on move
--
-- Returns {moved, rows}: each row is seq, id, body, meta, gid, dd, sent, vis, rcpt, rc,
-- frst, dls, then what the receive replaced (vis, rcpt, frst) so a cancelled caller can
-- hand the messages back (message_unreceive.lua). Publishes "messages/<dlq>" on moves.

local q, now_text, limit, lease_until = ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local now, cut, ordered, receipt = tonumber(now_text), tonumber(ARGV[6]), ARGV[7] == '1', ARGV[8]
local dlq, max_rc, source, restamp = ARGV[9], tonumber(ARGV[10]), ARGV[11], ARGV[12] == '1'
local k = queue_keys(q)
local CHUNK = 200

-- FIFO blocking: the first invisible (in flight or delayed) seq per group; seqs are
-- zero-padded, so they compare as strings
local first_invisible = {}
if ordered then
    for _, seq in ipairs(redis.call('ZRANGEBYSCORE', k.vis, '(' .. now_text, '+inf')) do
        local f = redis.call('HMGET', message_key(seq), 'gid', 'sent')
        if f[1] and tonumber(f[2]) > cut then
            if not first_invisible[f[1]] or seq < first_invisible[f[1]] then
                first_invisible[f[1]] = seq
            end
        end
    end
end

local function unblocked(seq, gid)
    if not ordered or not gid then
        return true
    end
    return not (first_invisible[gid] and first_invisible[gid] < seq)
end

-- redrive: every deliverable message already received max_rc times moves to the DLQ
local moved = 0
if dlq ~= '' then
    local exhausted = {}
    for _, seq in ipairs(redis.call('ZRANGEBYSCORE', k.rc, max_rc, '+inf')) do
        local f = redis.call('HMGET', message_key(seq), 'vis', 'sent', 'gid')
        local vis = tonumber(f[1])
        if vis <= now and tonumber(f[2]) > cut and unblocked(seq, f[3]) then
            exhausted[#exhausted + 1] = {seq = seq, vis = vis}
        end
    end
    table.sort(exhausted, function(a, b)
        if not ordered and a.vis ~= b.vis then
            return a.vis < b.vis
        end
        return a.seq < b.seq
    end)
    local target = queue_keys(dlq)
    for _, item in ipairs(exhausted) do
        local old_key = message_key(item.seq)
        local f = redis.call('HMGET', old_key, 'sent', 'rc')
        local sent = f[1]
        if restamp then
            sent = now_text
        end
        local seq = next_seq()
        redis.call('RENAME', old_key, message_key(seq))
        redis.call('HSET', message_key(seq), 'q', dlq, 'sent', sent, 'vis', now_text, 'dls', source)
        redis.call('HDEL', message_key(seq), 'rcpt')
        unindex_message(k, item.seq)
        index_message(target, seq, sent, now_text, f[2], false)
        moved = moved + 1
    end
    if moved > 0 then
        wake_queue(dlq)
    end
end

-- pick up to limit deliverable messages
local picked = {}
local offset = 0
while #picked < limit do
    local batch
    if ordered then
        batch = redis.call('ZRANGE', k.seq, offset, offset + CHUNK - 1)
    else
        batch = redis.call('ZRANGEBYSCORE', k.vis, '-inf', now_text, 'LIMIT', offset, CHUNK)
    end
    for _, seq in ipairs(batch) do
        local f = redis.call('HMGET', message_key(seq), 'vis', 'sent', 'gid')
        if tonumber(f[1]) <= now and tonumber(f[2]) > cut and unblocked(seq, f[3]) then
            picked[#picked + 1] = seq
            if #picked >= limit then
                break
            end
        end
    end
    if #batch < CHUNK then
        break
    end
    offset = offset + CHUNK
end

-- lease them
local rows = {}
for _, seq in ipairs(picked) do
    local key = message_key(seq)
    local before = redis.call('HMGET', key, 'vis', 'rcpt', 'frst', 'rc')
    local rc = string.format('%d', tonumber(before[4]) + 1)
    redis.call('HSET', key, 'vis', lease_until, 'rcpt', receipt, 'rc', rc)
    if not before[3] then
        redis.call('HSET', key, 'frst', now_text)
    end
    redis.call('ZADD', k.vis, lease_until, seq)
    redis.call('ZREM', k.fresh, seq)
    redis.call('ZADD', k.rc, rc, seq)
    local f = redis.call('HMGET', key, 'id', 'body', 'meta', 'gid', 'dd', 'sent', 'vis', 'rcpt',
        'rc', 'frst', 'dls')
    rows[#rows + 1] = {seq, f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10], f[11],
        before[1], before[2], before[3]}
end
return {moved, rows}
