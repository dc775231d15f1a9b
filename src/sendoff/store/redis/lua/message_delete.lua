--! include lib_messages.lua
-- Delete messages by (seq, receipt): only while the receipt is the current one.
--
-- Keys: P:msg:<seq>, P:queue:<q>:{vis,seq,sent,fresh,rc} (lib_messages.lua)
-- ARGV[1]    P
-- ARGV[2]    queue id
-- ARGV[3..]  pairs: seq (16 digits), receipt
--
-- Returns 1 or 0 per pair.

local q = ARGV[2]
local k = queue_keys(q)
local out = {}
for i = 3, #ARGV, 2 do
    local seq, receipt = ARGV[i], ARGV[i + 1]
    local f = redis.call('HMGET', message_key(seq), 'q', 'rcpt')
    if f[1] == q and f[2] == receipt then
        delete_message(k, seq)
        out[#out + 1] = 1
    else
        out[#out + 1] = 0
    end
end
return out
