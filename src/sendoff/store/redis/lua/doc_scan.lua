-- Documents of one kind in key (byte) order within a lexicographic range: one snapshot.
--
-- KEYS[1]  P:docs:<kind>     hash   key -> "<revision> <json>"
-- KEYS[2]  P:dockeys:<kind>  zset   key (score 0)
-- ARGV[1]  min, ZRANGEBYLEX syntax ("-", "[prefix" or "(after")
-- ARGV[2]  max, ZRANGEBYLEX syntax ("+" or "(prefix\xff": UTF-8 never holds byte 0xff)
-- ARGV[3]  limit
--
-- Returns {key1, "<revision> <json>", key2, ...}.

local keys = redis.call('ZRANGEBYLEX', KEYS[2], ARGV[1], ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
local batch = 500 -- HMGET in slices: unpack() of thousands of values overflows Lua's stack
for first = 1, #keys, batch do
    local slice = {}
    for i = first, math.min(first + batch - 1, #keys) do
        slice[#slice + 1] = keys[i]
    end
    local values = redis.call('HMGET', KEYS[1], unpack(slice))
    for i, key in ipairs(slice) do
        if values[i] then
            out[#out + 1] = key
            out[#out + 1] = values[i]
        end
    end
end
return out
