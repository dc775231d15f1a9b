-- Named queries of the PostgreSQL store (schema in the numbered migrations beside this file).
--
-- Each query starts with a "-- name: <name>" line; parameters are psycopg named
-- placeholders. Times (now, due_at, expires...) are epoch seconds passed in by the callers:
-- no query reads the database clock.

-- ---- documents ----

-- name: doc_get
SELECT value, revision FROM docs WHERE kind = %(kind)s AND key = %(key)s;

-- name: doc_revision
SELECT revision FROM docs WHERE kind = %(kind)s AND key = %(key)s;

-- name: doc_put
INSERT INTO docs (kind, key, value, revision) VALUES (%(kind)s, %(key)s, %(value)s, 1)
ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value, revision = docs.revision + 1
RETURNING revision;

-- name: doc_create
INSERT INTO docs (kind, key, value, revision) VALUES (%(kind)s, %(key)s, %(value)s, 1)
ON CONFLICT (kind, key) DO NOTHING
RETURNING revision;

-- name: doc_replace
UPDATE docs SET value = %(value)s, revision = revision + 1
WHERE kind = %(kind)s AND key = %(key)s AND revision = %(expect)s
RETURNING revision;

-- name: doc_delete
DELETE FROM docs WHERE kind = %(kind)s AND key = %(key)s;

-- name: doc_delete_expect
DELETE FROM docs WHERE kind = %(kind)s AND key = %(key)s AND revision = %(expect)s;

-- name: doc_scan
-- key >= prefix bounds the index scan; starts_with keeps only the prefix.
SELECT key, value, revision FROM docs
WHERE kind = %(kind)s AND key >= %(prefix)s AND starts_with(key, %(prefix)s)
  AND (%(after)s::text IS NULL OR key > %(after)s)
ORDER BY key LIMIT %(limit)s;

-- ---- blobs ----

-- name: blob_put
INSERT INTO blobs (digest, data) VALUES (%(digest)s, %(data)s) ON CONFLICT DO NOTHING;

-- name: blob_get
SELECT data FROM blobs WHERE digest = %(digest)s;

-- name: blob_delete
DELETE FROM blobs WHERE digest = %(digest)s;

-- ---- events ----

-- name: event_insert
-- An event may arrive already leased to its creator (state running): ready at lease expiry.
INSERT INTO events (id, function_key, state, due_at, enqueued_at, ready_at, body,
                    lease_owner, lease_expires_at, lease_token, finished_at)
VALUES (%(id)s, %(function_key)s, %(state)s, %(due_at)s, %(enqueued_at)s, %(ready_at)s,
        %(body)s, %(lease_owner)s, %(lease_expires_at)s, %(lease_token)s, %(finished_at)s);

-- name: event_lease
-- Due rows (ready_at <= now: queued/retrying and due, or running with an expired lease),
-- oldest first; rows another transaction is leasing or settling are skipped, not waited on.
UPDATE events AS e
SET state = 'running', lease_owner = %(owner)s, lease_expires_at = %(expires)s,
    ready_at = %(expires)s, lease_token = e.lease_token + 1
FROM (
    SELECT id FROM events WHERE ready_at <= %(now)s
    ORDER BY ready_at LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
) AS due
WHERE e.id = due.id
RETURNING e.id, e.function_key, e.state, e.due_at, e.enqueued_at, e.body, e.lease_owner,
          e.lease_expires_at, e.lease_token;

-- name: event_reschedule
UPDATE events SET state = %(state)s, due_at = %(due_at)s, ready_at = %(due_at)s,
    body = %(body)s, lease_owner = NULL, lease_expires_at = NULL
WHERE id = %(id)s AND lease_token = %(token)s AND state NOT IN ('succeeded', 'failed');

-- name: event_finish
-- finished_at is the wall clock of the finishing process (retention is wall-clock time).
UPDATE events SET state = %(state)s, ready_at = NULL, body = %(body)s,
    lease_owner = NULL, lease_expires_at = NULL, finished_at = %(now)s
WHERE id = %(id)s AND lease_token = %(token)s AND state NOT IN ('succeeded', 'failed');

-- name: event_extend_lease
UPDATE events SET lease_expires_at = %(expires)s, ready_at = %(expires)s
WHERE id = %(id)s AND lease_token = %(token)s AND state = 'running';

-- name: event_lease_owners
SELECT DISTINCT lease_owner FROM events
WHERE state = 'running' AND lease_owner IS NOT NULL ORDER BY lease_owner;

-- name: event_release_leases
UPDATE events SET lease_expires_at = %(now)s, ready_at = %(now)s
WHERE state = 'running' AND lease_owner = %(owner)s;

-- name: event_next_due
SELECT min(ready_at) FROM events WHERE ready_at IS NOT NULL;

-- name: event_get
SELECT id, function_key, state, due_at, enqueued_at, body, lease_owner, lease_expires_at,
       lease_token
FROM events WHERE id = %(id)s;

-- name: event_list
SELECT id, function_key, state, due_at, enqueued_at, body, lease_owner, lease_expires_at,
       lease_token
FROM events
WHERE starts_with(function_key, %(prefix)s)
  AND (cardinality(%(states)s::text[]) = 0 OR state = ANY(%(states)s::text[]))
  AND (%(after)s::text IS NULL OR id > %(after)s)
ORDER BY id LIMIT %(limit)s;

-- name: event_count
SELECT count(*) FROM events
WHERE cardinality(%(states)s::text[]) = 0 OR state = ANY(%(states)s::text[]);

-- ---- retention (0004_retention.sql) ----

-- name: event_prune_finished
-- Terminal events that finished before the cut-off, oldest first, by events_finished;
-- rows another pruner holds are skipped.
DELETE FROM events WHERE id IN (
    SELECT id FROM events WHERE finished_at < %(before)s
    ORDER BY finished_at LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
);

-- name: event_count_finished
SELECT count(*) FROM events WHERE finished_at IS NOT NULL;

-- name: event_prune_oldest
DELETE FROM events WHERE id IN (
    SELECT id FROM events WHERE finished_at IS NOT NULL
    ORDER BY finished_at LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
);

-- name: log_groups
SELECT grp, bytes FROM log_groups ORDER BY grp;

-- name: log_oldest
SELECT seq, ts_ms, octet_length(message) FROM logs
WHERE grp = %(grp)s ORDER BY seq LIMIT %(limit)s;

-- name: log_prune
-- Callers hold the group's advisory lock: no append changes the group meanwhile.
-- Returns the number of lines deleted (another pruner may have taken some already).
WITH gone AS (
    DELETE FROM logs WHERE grp = %(grp)s AND seq <= %(seq)s
    RETURNING octet_length(message) AS n
), freed AS (
    SELECT count(*) AS lines, coalesce(sum(n), 0) AS bytes FROM gone
)
UPDATE log_groups SET bytes = log_groups.bytes - freed.bytes FROM freed
WHERE grp = %(grp)s
RETURNING freed.lines;

-- name: log_group_drop_if_empty
DELETE FROM log_groups
WHERE grp = %(grp)s AND NOT EXISTS (SELECT 1 FROM logs WHERE grp = %(grp)s);

-- name: retention_stats
SELECT (SELECT count(*) FROM events),
       (SELECT min(finished_at) FROM events WHERE finished_at IS NOT NULL),
       (SELECT coalesce(sum(bytes), 0) FROM log_groups);

-- ---- concurrency slots (callers hold the key's advisory lock) ----

-- name: slot_expire
DELETE FROM slots WHERE key = %(key)s AND expires_at <= %(now)s;

-- name: slot_taken
SELECT count(*) FROM slots WHERE key = %(key)s AND holder <> %(holder)s;

-- name: slot_take
INSERT INTO slots (key, holder, expires_at) VALUES (%(key)s, %(holder)s, %(expires)s)
ON CONFLICT (key, holder) DO UPDATE SET expires_at = excluded.expires_at;

-- name: slot_release
DELETE FROM slots WHERE key = %(key)s AND holder = %(holder)s;

-- ---- logs (appends hold the group's advisory lock, so seqs commit in order) ----

-- name: log_append
INSERT INTO logs (grp, stream, ts_ms, message)
VALUES (%(grp)s, %(stream)s, %(ts_ms)s, %(message)s);

-- name: log_group_add
INSERT INTO log_groups (grp, bytes) VALUES (%(grp)s, %(bytes)s)
ON CONFLICT (grp) DO UPDATE SET bytes = log_groups.bytes + excluded.bytes;

-- name: log_read
SELECT seq, stream, ts_ms, message FROM logs
WHERE grp = %(grp)s AND seq > %(after)s AND (%(stream)s::text IS NULL OR stream = %(stream)s)
ORDER BY seq LIMIT %(limit)s;

-- ---- messages ----

-- name: message_dedup_hit
SELECT message_id, seq FROM message_dedup
WHERE queue_id = %(q)s AND dedup_id = %(dedup)s AND expires_at > %(now)s;

-- name: message_insert
INSERT INTO messages (queue_id, id, body, meta, group_id, dedup_id, sent_at, visible_at)
VALUES (%(q)s, %(id)s, %(body)s, %(meta)s, %(group)s, %(dedup)s, %(sent_at)s, %(visible_at)s)
RETURNING seq;

-- name: message_dedup_put
INSERT INTO message_dedup (queue_id, dedup_id, message_id, seq, expires_at)
VALUES (%(q)s, %(dedup)s, %(id)s, %(seq)s, %(expires)s)
ON CONFLICT (queue_id, dedup_id) DO UPDATE
SET message_id = excluded.message_id, seq = excluded.seq, expires_at = excluded.expires_at;

-- name: message_peek
-- Visible messages read without receiving them (the console's peek): nothing changes.
SELECT seq, id, body, meta, group_id, dedup_id, sent_at, visible_at, receipt, receive_count,
       first_received_at, dead_letter_source
FROM messages
WHERE queue_id = %(q)s AND visible_at <= %(now)s AND sent_at > %(cut)s
ORDER BY visible_at, seq LIMIT %(limit)s;

-- name: message_candidates
-- Deliverable messages, oldest-visible first; rows being received elsewhere are skipped.
SELECT seq FROM messages
WHERE queue_id = %(q)s AND visible_at <= %(now)s AND sent_at > %(cut)s
  AND receive_count >= %(min)s
ORDER BY visible_at, seq LIMIT %(limit)s
FOR UPDATE SKIP LOCKED;

-- name: message_candidates_ordered
-- FIFO: visible messages with no earlier invisible row (in flight or delayed) in their
-- group, in seq order (an earlier message back from flight is delivered while a later one
-- is still in flight, as on AWS). Callers hold the queue's receive lock, so one FIFO receive
-- at a time decides which groups are blocked.
SELECT m.seq FROM messages AS m
WHERE m.queue_id = %(q)s AND m.visible_at <= %(now)s AND m.sent_at > %(cut)s
  AND m.receive_count >= %(min)s
  AND NOT EXISTS (
    SELECT 1 FROM messages AS b
    WHERE b.queue_id = %(q)s AND b.group_id = m.group_id AND b.visible_at > %(now)s
      AND b.sent_at > %(cut)s AND b.seq < m.seq
  )
ORDER BY m.seq LIMIT %(limit)s
FOR UPDATE OF m SKIP LOCKED;

-- name: message_receive
-- A receive without redrive in one statement: pick deliverable messages (as
-- message_candidates) and lease them. Returns the pre-lease visible_at for ordering.
WITH picked AS (
    SELECT seq, visible_at FROM messages
    WHERE queue_id = %(q)s AND visible_at <= %(now)s AND sent_at > %(cut)s
    ORDER BY visible_at, seq LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
UPDATE messages AS m SET visible_at = %(until)s, receipt = %(receipt)s,
    receive_count = m.receive_count + 1,
    first_received_at = COALESCE(m.first_received_at, %(now)s)
FROM picked WHERE m.seq = picked.seq
RETURNING m.seq, m.id, m.body, m.meta, m.group_id, m.dedup_id, m.sent_at, m.visible_at,
          m.receipt, m.receive_count, m.first_received_at, m.dead_letter_source,
          picked.visible_at;

-- name: message_move
-- Redrive: the exhausted messages leave their queue and join the dead-letter queue (new
-- seqs, in the old order) in the receive's transaction.
WITH moved AS (
    DELETE FROM messages WHERE seq = ANY(%(seqs)s::bigint[])
    RETURNING seq, id, body, meta, group_id, dedup_id, sent_at, receive_count,
              first_received_at
)
INSERT INTO messages (queue_id, id, body, meta, group_id, dedup_id, sent_at, visible_at,
                      receipt, receive_count, first_received_at, dead_letter_source)
SELECT %(target)s, id, body, meta, group_id, dedup_id,
       CASE WHEN %(restamp)s THEN %(now)s ELSE sent_at END, %(now)s, NULL, receive_count,
       first_received_at, %(source)s
FROM moved ORDER BY seq;

-- name: message_lease
UPDATE messages SET visible_at = %(until)s, receipt = %(receipt)s,
    receive_count = receive_count + 1,
    first_received_at = COALESCE(first_received_at, %(now)s)
WHERE seq = ANY(%(seqs)s::bigint[])
RETURNING seq, id, body, meta, group_id, dedup_id, sent_at, visible_at, receipt,
          receive_count, first_received_at, dead_letter_source;

-- name: message_delete
DELETE FROM messages WHERE seq = %(seq)s AND queue_id = %(q)s AND receipt = %(receipt)s;

-- name: message_visibility
-- Returns the visibility before the change when the receipt is current; changes it only
-- when the message is still in flight.
WITH current AS (
    SELECT seq, visible_at FROM messages
    WHERE seq = %(seq)s AND queue_id = %(q)s AND receipt = %(receipt)s
    FOR UPDATE
), changed AS (
    UPDATE messages AS m SET visible_at = %(visible_at)s
    FROM current WHERE m.seq = current.seq AND current.visible_at > %(now)s
)
SELECT visible_at FROM current;

-- name: message_purge
DELETE FROM messages WHERE queue_id = %(q)s;

-- name: message_dedup_drop
DELETE FROM message_dedup WHERE queue_id = %(q)s;

-- name: message_expire
DELETE FROM messages WHERE queue_id = %(q)s AND sent_at <= %(cut)s;

-- name: message_dedup_expire
DELETE FROM message_dedup WHERE queue_id = %(q)s AND expires_at <= %(now)s;

-- name: message_counts
SELECT count(*) FILTER (WHERE visible_at <= %(now)s),
       count(*) FILTER (WHERE visible_at > %(now)s AND receipt IS NOT NULL),
       count(*) FILTER (WHERE visible_at > %(now)s AND receipt IS NULL)
FROM messages WHERE queue_id = %(q)s AND sent_at > %(cut)s;

-- name: message_next_visible
SELECT min(visible_at) FROM messages WHERE queue_id = %(q)s AND visible_at > %(now)s;

-- ---- wake-ups ----

-- name: notify
SELECT pg_notify(%(channel)s, topic) FROM unnest(%(topics)s::text[]) AS topic;

-- ---- CloudWatch Logs API ----

-- name: log_delete_some
-- Callers hold the group's advisory lock. Up to %(limit)s lines stamped before %(before)s
-- (all when it is NULL); returns the number deleted.
WITH gone AS (
    DELETE FROM logs WHERE seq IN (
        SELECT seq FROM logs
        WHERE grp = %(grp)s AND (%(before)s::bigint IS NULL OR ts_ms < %(before)s::bigint)
        ORDER BY seq LIMIT %(limit)s
    )
    RETURNING octet_length(message) AS n
), freed AS (
    SELECT count(*) AS lines, coalesce(sum(n), 0) AS bytes FROM gone
)
UPDATE log_groups SET bytes = log_groups.bytes - freed.bytes FROM freed
WHERE grp = %(grp)s
RETURNING freed.lines;

-- name: log_group_bytes
SELECT bytes FROM log_groups WHERE grp = %(grp)s;

-- name: log_query
-- The fixed part of query_logs; the store appends the stream list and prefilter
-- conditions (every value a parameter), then the ORDER BY and LIMIT.
SELECT seq, stream, ts_ms, message FROM logs
WHERE grp = %(grp)s AND seq > %(after)s
  AND (%(before)s::bigint IS NULL OR seq < %(before)s::bigint)
  AND (%(start)s::bigint IS NULL OR ts_ms >= %(start)s::bigint)
  AND (%(end)s::bigint IS NULL OR ts_ms <= %(end)s::bigint)
  AND (%(prefix)s::text IS NULL OR left(stream, length(%(prefix)s::text)) = %(prefix)s::text)

-- name: log_next_stream
SELECT stream FROM logs WHERE grp = %(grp)s AND stream > %(after)s ORDER BY stream LIMIT 1;

-- name: log_stream_first
SELECT seq, ts_ms FROM logs WHERE grp = %(grp)s AND stream = %(stream)s ORDER BY seq LIMIT 1;

-- name: log_stream_last
SELECT seq, ts_ms FROM logs WHERE grp = %(grp)s AND stream = %(stream)s
ORDER BY seq DESC LIMIT 1;
