--! include lib_events.lua
-- One page of a listing in id order, filtered by state and function-key prefix. Scans at
-- most `budget` ids per call so a sparse filter never blocks Redis for long; the caller
-- continues from the returned cursor.
--
-- Keys: P:events:ids or P:events:state:<state> (the index walked), P:event:<id>
-- ARGV[1]   P
-- ARGV[2]   index: "" walks P:events:ids, a state name walks P:events:state:<state>
-- ARGV[3]   after: walk ids greater than this ("" from the start)
-- ARGV[4]   budget: ids to examine at most
-- ARGV[5]   limit: rows to return at most
-- ARGV[6]   function key prefix ("" for all)
-- ARGV[7..] wanted states (none: every state)
--
-- Returns {cursor, done, rows}: cursor is the last id examined (or ""); done is 1 when the
-- index has nothing after it.

local index, after, budget, limit, prefix = ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
local source = P .. ':events:ids'
if index ~= '' then
    source = P .. ':events:state:' .. index
end
local wanted = nil
if #ARGV >= 7 then
    wanted = {}
    for i = 7, #ARGV do
        wanted[ARGV[i]] = true
    end
end
local low = '-'
if after ~= '' then
    low = '(' .. after
end
local ids = redis.call('ZRANGEBYLEX', source, low, '+', 'LIMIT', 0, budget)
local rows = {}
local cursor = ''
local done = 1
if #ids == budget then
    done = 0
end
for i, id in ipairs(ids) do
    cursor = id
    local row = event_row(id)
    local fk, st = row[2], row[3]
    if fk and string.sub(fk, 1, #prefix) == prefix and (wanted == nil or wanted[st]) then
        rows[#rows + 1] = row
        if #rows >= limit then
            if i < #ids then
                done = 0
            end
            break
        end
    end
end
return {cursor, done, rows}
