--! include lib_messages.lua
-- Delete every message of a queue; with "drop", forget its deduplication keys too.
--
-- Keys: P:msg:<seq>, P:queue:<q>:{vis,seq,sent,fresh,rc,dedup,dedupexp} (lib_messages.lua)
-- ARGV[1]  P
-- ARGV[2]  queue id
-- ARGV[3]  "1" to drop the queue (dedup keys as well)
--
-- Returns the number of messages deleted.

local q = ARGV[2]
local k = queue_keys(q)
local seqs = redis.call('ZRANGE', k.seq, 0, -1)
local batch = 500 -- DEL in slices: unpack() of thousands of keys overflows Lua's stack
for first = 1, #seqs, batch do
    local keys = {}
    for i = first, math.min(first + batch - 1, #seqs) do
        keys[#keys + 1] = message_key(seqs[i])
    end
    redis.call('DEL', unpack(keys))
end
redis.call('DEL', k.vis, k.seq, k.sent, k.fresh, k.rc)
if ARGV[3] == '1' then
    redis.call('DEL', k.dedup, k.dedupexp)
end
return #seqs
