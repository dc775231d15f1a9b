--! include lib_events.lua
-- Make every event leased by `owner` (a worker known to be dead) due now. The owner stays
-- recorded until another worker takes the event, as in the SQL backends.
--
-- Keys: P:event:<id>, P:events:ready, P:events:owner:<owner> (lib_events.lua)
-- ARGV[1]  P
-- ARGV[2]  owner
-- ARGV[3]  now
--
-- Returns the number of events released; publishes "jobs" when there were any.

local owner, now = ARGV[2], ARGV[3]
local released = 0
for _, id in ipairs(redis.call('SMEMBERS', P .. ':events:owner:' .. owner)) do
    local key = event_key(id)
    if redis.call('HGET', key, 'st') == 'running' then
        redis.call('HSET', key, 'exp', now)
        redis.call('ZADD', READY, now, id)
        released = released + 1
    end
end
if released > 0 then
    wake_jobs()
end
return released
