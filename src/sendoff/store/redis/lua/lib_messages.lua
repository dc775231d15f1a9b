-- Message queues of the SQS service: helpers shared by the message_*.lua scripts.
--
-- P:msgseq                    string  last message sequence number (store-wide)
-- P:msg:<seq>                 hash    q (queue id), id, body, meta (JSON), sent, vis,
--                                     rc (receive count), and when set: gid (group id),
--                                     dd (dedup key), rcpt (receipt of the latest receive),
--                                     frst (first received at), dls (dead-letter source).
--                                     <seq> is the sequence number zero-padded to 16 digits,
--                                     so members of equal score sort in send order.
-- P:queue:<q>:vis             zset    seq -> visible_at, every message of the queue
-- P:queue:<q>:seq             zset    seq -> seq (send order, for FIFO receives and purges)
-- P:queue:<q>:sent            zset    seq -> sent_at (retention)
-- P:queue:<q>:fresh           zset    seq -> visible_at of messages without a receipt (never
--                                     received here): invisible ones are "delayed"
-- P:queue:<q>:rc              zset    seq -> receive count, for messages received at least
--                                     once (the redrive candidates)
-- P:queue:<q>:dedup           hash    dedup key -> "<seq> <message id>" of the first send
-- P:queue:<q>:dedupexp        zset    dedup key -> end of its deduplication window
-- P:wakeups                   channel "messages/<q>" is published when messages arrive
--
-- ARGV[1] is always the prefix P and ARGV[2] the queue id.

local P = ARGV[1]

local function message_key(seq)
    return P .. ':msg:' .. seq
end

local function queue_keys(q)
    local base = P .. ':queue:' .. q .. ':'
    return {
        vis = base .. 'vis',
        seq = base .. 'seq',
        sent = base .. 'sent',
        fresh = base .. 'fresh',
        rc = base .. 'rc',
        dedup = base .. 'dedup',
        dedupexp = base .. 'dedupexp',
    }
end

local function next_seq()
    return string.format('%016d', redis.call('INCR', P .. ':msgseq'))
end

-- file a message (already stored under its key) in the indexes of queue keys k
local function index_message(k, seq, sent, vis, rc, has_receipt)
    redis.call('ZADD', k.vis, vis, seq)
    redis.call('ZADD', k.seq, seq, seq)
    redis.call('ZADD', k.sent, sent, seq)
    if not has_receipt then
        redis.call('ZADD', k.fresh, vis, seq)
    end
    if tonumber(rc) > 0 then
        redis.call('ZADD', k.rc, rc, seq)
    end
end

local function unindex_message(k, seq)
    redis.call('ZREM', k.vis, seq)
    redis.call('ZREM', k.seq, seq)
    redis.call('ZREM', k.sent, seq)
    redis.call('ZREM', k.fresh, seq)
    redis.call('ZREM', k.rc, seq)
end

local function delete_message(k, seq)
    redis.call('DEL', message_key(seq))
    unindex_message(k, seq)
end

local function wake_queue(q)
    redis.call('PUBLISH', P .. ':wakeups', 'messages/' .. q)
end
