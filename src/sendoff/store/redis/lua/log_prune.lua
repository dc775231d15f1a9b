-- Retention of function logs: delete up to `limit` lines, oldest first in each group,
-- while they are older than the cut-off or their group holds more than `max` bytes.
--
-- Keys: P:logbytes (hash: group -> UTF-8 bytes of its kept messages, see log_append.lua),
--       P:log:<group> (zset: "<seq> <entry>" -> seq; entry is ["stream", ts_ms, "message"])
-- ARGV[1]  P
-- ARGV[2]  before_ms: lines stamped earlier are expired
-- ARGV[3]  max: bytes a group may hold ("" for no cap)
-- ARGV[4]  limit: lines to delete at most in this call
--
-- Returns the number of lines deleted. A group left empty leaves P:logbytes.

local P = ARGV[1]
local BYTES = P .. ':logbytes'
local before, max, limit = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local deleted = 0
local sizes = redis.call('HGETALL', BYTES)
for i = 1, #sizes, 2 do
    if deleted >= limit then
        break
    end
    local group, size = sizes[i], tonumber(sizes[i + 1])
    local key = P .. ':log:' .. group
    local lines = redis.call('ZRANGE', key, 0, limit - deleted - 1)
    local count, freed = 0, 0
    for _, member in ipairs(lines) do
        local entry = cjson.decode(string.sub(member, string.find(member, ' ', 1, true) + 1))
        local over = max ~= nil and size - freed > max
        if not over and tonumber(entry[2]) >= before then
            break
        end
        count, freed = count + 1, freed + #entry[3]
    end
    if count > 0 then
        redis.call('ZREMRANGEBYRANK', key, 0, count - 1)
        deleted = deleted + count
        if redis.call('EXISTS', key) == 0 then
            redis.call('HDEL', BYTES, group)
        else
            redis.call('HINCRBY', BYTES, group, -freed)
        end
    end
end
return deleted
