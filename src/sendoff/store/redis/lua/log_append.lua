-- Append log events to a log group, each with the next store-wide sequence number, and
-- count the group's bytes (for the per-group cap of log_prune.lua).
--
-- KEYS[1]  P:logseq        string  the last sequence number handed out
-- KEYS[2]  P:log:<group>   zset    "<seq> <entry>" -> seq, in append order
-- KEYS[3]  P:logbytes      hash    group -> UTF-8 bytes of its kept messages
-- ARGV[1]  the group's name (the field in P:logbytes)
-- ARGV[2]  UTF-8 bytes of the messages appended
-- ARGV[i]  (i >= 3) one entry each: the JSON text ["stream", timestamp_ms, "message"]
--
-- Returns the sequence number of the last event.

local count = #ARGV - 2
if count <= 0 then
    return tonumber(redis.call('GET', KEYS[1]) or '0')
end
local last = redis.call('INCRBY', KEYS[1], count)
for i = 1, count do
    local seq = string.format('%d', last - count + i)
    redis.call('ZADD', KEYS[2], seq, seq .. ' ' .. ARGV[i + 2])
end
redis.call('HINCRBY', KEYS[3], ARGV[1], ARGV[2])
return last
