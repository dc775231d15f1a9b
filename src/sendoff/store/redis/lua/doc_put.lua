-- Write one document, optionally only if its revision is the expected one (CAS).
--
-- KEYS[1]  P:docs:<kind>     hash   key -> "<revision> <json>"
-- KEYS[2]  P:dockeys:<kind>  zset   key (score 0): the keys in byte order, for scans
-- ARGV[1]  key
-- ARGV[2]  value (JSON text)
-- ARGV[3]  expected revision: "" writes unconditionally, "0" only creates
--
-- Returns {1, new revision} or, when the expectation fails, {0, current revision}.

local key, value, expect = ARGV[1], ARGV[2], ARGV[3]
local current = redis.call('HGET', KEYS[1], key)
local revision = 0
if current then
    revision = tonumber(string.match(current, '^(%d+) '))
end
if expect ~= '' and tonumber(expect) ~= revision then
    return {0, revision}
end
revision = revision + 1
redis.call('HSET', KEYS[1], key, string.format('%d', revision) .. ' ' .. value)
if not current then
    redis.call('ZADD', KEYS[2], 0, key)
end
return {1, revision}
