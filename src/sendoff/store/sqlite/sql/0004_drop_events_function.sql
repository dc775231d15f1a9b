-- events_function (function_key, id) served no query: list_events filters function keys
-- with substr(), which no index can answer, and walks ids in order through the primary
-- key. Every enqueue paid for an entry in it. Dropped.
DROP INDEX IF EXISTS events_function;
