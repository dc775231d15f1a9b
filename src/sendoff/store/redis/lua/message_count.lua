--! include lib_messages.lua
-- Count a queue's unexpired messages: visible, in flight (received, invisible) and delayed
-- (never received, invisible).
--
-- Keys: P:msg:<seq>, P:queue:<q>:{vis,sent,fresh} (lib_messages.lua)
-- ARGV[1]  P
-- ARGV[2]  queue id
-- ARGV[3]  now
-- ARGV[4]  cut (sent_after)
--
-- Returns {visible, in_flight, delayed}.

local q, now_text, cut = ARGV[2], ARGV[3], ARGV[4]
local now = tonumber(now_text)
local k = queue_keys(q)
local visible = redis.call('ZCOUNT', k.vis, '-inf', now_text)
local delayed = redis.call('ZCOUNT', k.fresh, '(' .. now_text, '+inf')
local in_flight = redis.call('ZCARD', k.vis) - visible - delayed
-- expired messages not swept yet: usually none
for _, seq in ipairs(redis.call('ZRANGEBYSCORE', k.sent, '-inf', cut)) do
    if tonumber(redis.call('ZSCORE', k.vis, seq)) <= now then
        visible = visible - 1
    elseif redis.call('ZSCORE', k.fresh, seq) then
        delayed = delayed - 1
    else
        in_flight = in_flight - 1
    end
end
return {visible, in_flight, delayed}
