--! include lib_messages.lua
-- Delete messages sent at or before the retention cut-off, and dedup keys whose window
-- ended.
--
-- Keys: P:msg:<seq>, P:queue:<q>:{vis,seq,sent,fresh,rc,dedup,dedupexp} (lib_messages.lua)
-- ARGV[1]  P
-- ARGV[2]  queue id
-- ARGV[3]  cut (sent_after)
-- ARGV[4]  now
--
-- Returns the number of messages deleted.

local q, cut, now = ARGV[2], ARGV[3], ARGV[4]
local k = queue_keys(q)
local expired = redis.call('ZRANGEBYSCORE', k.sent, '-inf', cut)
for _, seq in ipairs(expired) do
    delete_message(k, seq)
end
for _, dd in ipairs(redis.call('ZRANGEBYSCORE', k.dedupexp, '-inf', now)) do
    redis.call('HDEL', k.dedup, dd)
end
redis.call('ZREMRANGEBYSCORE', k.dedupexp, '-inf', now)
return #expired
