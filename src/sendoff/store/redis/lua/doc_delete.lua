-- Delete one document, optionally only if its revision is the expected one.
--
-- KEYS[1]  P:docs:<kind>     hash   key -> "<revision> <json>"
-- KEYS[2]  P:dockeys:<kind>  zset   key (score 0)
-- ARGV[1]  key
-- ARGV[2]  expected revision, or "" for none
--
-- Returns 1 (deleted), 0 (no such document) or -1 (the revision differs).

local key, expect = ARGV[1], ARGV[2]
local current = redis.call('HGET', KEYS[1], key)
if not current then
    return 0
end
if expect ~= '' and tonumber(expect) ~= tonumber(string.match(current, '^(%d+) ')) then
    return -1
end
redis.call('HDEL', KEYS[1], key)
redis.call('ZREM', KEYS[2], key)
return 1
