-- Append log events to a log group, each with the next store-wide sequence number.
--
-- KEYS[1]  P:logseq        string  the last sequence number handed out
-- KEYS[2]  P:log:<group>   zset    "<seq> <entry>" -> seq, in append order
-- ARGV[i]  one entry each: the JSON text ["stream", timestamp_ms, "message"]
--
-- Returns the sequence number of the last event.

local count = #ARGV
if count == 0 then
    return tonumber(redis.call('GET', KEYS[1]) or '0')
end
local last = redis.call('INCRBY', KEYS[1], count)
for i = 1, count do
    local seq = string.format('%d', last - count + i)
    redis.call('ZADD', KEYS[2], seq, seq .. ' ' .. ARGV[i])
end
return last
