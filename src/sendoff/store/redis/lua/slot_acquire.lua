-- Take one of `limit` concurrency slots named <key> for a holder until a time.
--
-- KEYS[1]  P:slot:<key>  zset  holder -> expires_at; a holder whose time passed is gone
-- ARGV[1]  holder
-- ARGV[2]  limit
-- ARGV[3]  now
-- ARGV[4]  expires_at
--
-- Returns 1 (taken or renewed) or 0 (all slots are held by others).

local holder, limit = ARGV[1], tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
local taken = redis.call('ZCARD', KEYS[1])
if redis.call('ZSCORE', KEYS[1], holder) then
    taken = taken - 1
end
if taken >= limit then
    return 0
end
redis.call('ZADD', KEYS[1], ARGV[4], holder)
return 1
