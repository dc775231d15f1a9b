-- Named queries of the SQLite store (schema in the numbered migrations beside this file).
--
-- Each query starts with a "-- name: <name>" line; parameters are sqlite3 named
-- placeholders (:name). Times (now, due_at, expires...) are epoch seconds passed in by the
-- callers: no query reads the database clock. A list parameter (:states, :seqs) is a JSON
-- array, read with json_each.

-- ---- documents ----

-- name: doc_get
SELECT value, revision FROM docs WHERE kind = :kind AND key = :key;

-- name: doc_revision
SELECT revision FROM docs WHERE kind = :kind AND key = :key;

-- name: doc_put
-- The caller read the current revision in the same transaction and checked expect.
INSERT INTO docs (kind, key, value, revision) VALUES (:kind, :key, :value, :revision)
ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value, revision = excluded.revision;

-- name: doc_delete
DELETE FROM docs WHERE kind = :kind AND key = :key;

-- name: doc_scan
-- key >= prefix bounds the primary key scan; the substr keeps only the prefix.
SELECT key, value, revision FROM docs
WHERE kind = :kind AND key >= :prefix AND substr(key, 1, :prefix_len) = :prefix
ORDER BY key LIMIT :limit;

-- name: doc_scan_after
-- The next page, for an :after at or past the prefix (before it, doc_scan is the page).
SELECT key, value, revision FROM docs
WHERE kind = :kind AND key > :after AND substr(key, 1, :prefix_len) = :prefix
ORDER BY key LIMIT :limit;

-- ---- blobs ----

-- name: blob_put
INSERT OR IGNORE INTO blobs (digest, data) VALUES (:digest, :data);

-- name: blob_get
SELECT data FROM blobs WHERE digest = :digest;

-- name: blob_delete
DELETE FROM blobs WHERE digest = :digest;

-- ---- events ----

-- name: event_insert
-- An event may arrive already leased to its creator (state running): ready at lease expiry.
INSERT INTO events (id, function_key, state, due_at, enqueued_at, ready_at, body,
                    lease_owner, lease_expires_at, lease_token, finished_at)
VALUES (:id, :function_key, :state, :due_at, :enqueued_at, :ready_at, :body,
        :lease_owner, :lease_expires_at, :lease_token, :finished_at);

-- name: event_lease
-- The due events, earliest ready first, by events_ready; the lease token goes up by one.
UPDATE events SET state = 'running', lease_owner = :owner, lease_expires_at = :expires,
                  ready_at = :expires, lease_token = lease_token + 1
WHERE id IN (SELECT id FROM events WHERE ready_at <= :now ORDER BY ready_at LIMIT :limit)
RETURNING id, function_key, state, due_at, enqueued_at, body, lease_owner, lease_expires_at,
          lease_token;

-- name: event_reschedule
UPDATE events SET state = :state, due_at = :due_at, ready_at = :due_at, body = :body,
                  lease_owner = NULL, lease_expires_at = NULL
WHERE id = :id AND lease_token = :token AND state NOT IN ('succeeded', 'failed');

-- name: event_finish
UPDATE events SET state = :state, ready_at = NULL, body = :body,
                  lease_owner = NULL, lease_expires_at = NULL, finished_at = :now
WHERE id = :id AND lease_token = :token AND state NOT IN ('succeeded', 'failed');

-- name: event_extend_lease
UPDATE events SET lease_expires_at = :expires, ready_at = :expires
WHERE id = :id AND lease_token = :token AND state = 'running';

-- name: event_lease_owners
SELECT DISTINCT lease_owner FROM events WHERE state = 'running' AND lease_owner IS NOT NULL;

-- name: event_release_leases
UPDATE events SET lease_expires_at = :now, ready_at = :now
WHERE state = 'running' AND lease_owner = :owner;

-- name: event_next_due
SELECT MIN(ready_at) FROM events WHERE ready_at IS NOT NULL;

-- name: event_get
SELECT id, function_key, state, due_at, enqueued_at, body, lease_owner, lease_expires_at,
       lease_token
FROM events WHERE id = :id;

-- name: event_list
-- Event ids are never empty, so :after = '' lists from the first one.
SELECT id, function_key, state, due_at, enqueued_at, body, lease_owner, lease_expires_at,
       lease_token
FROM events
WHERE substr(function_key, 1, :prefix_len) = :prefix AND id > :after
ORDER BY id LIMIT :limit;

-- name: event_list_states
-- As event_list, of the events in :states only (by events_state).
SELECT id, function_key, state, due_at, enqueued_at, body, lease_owner, lease_expires_at,
       lease_token
FROM events
WHERE substr(function_key, 1, :prefix_len) = :prefix
  AND state IN (SELECT value FROM json_each(:states)) AND id > :after
ORDER BY id LIMIT :limit;

-- name: event_count
SELECT COUNT(*) FROM events;

-- name: event_count_states
SELECT COUNT(*) FROM events WHERE state IN (SELECT value FROM json_each(:states));

-- ---- retention (0005_retention.sql) ----

-- name: event_prune_finished
-- Terminal events that finished before the cut-off, oldest first, by events_finished.
DELETE FROM events WHERE rowid IN (
    SELECT rowid FROM events WHERE finished_at < :before ORDER BY finished_at LIMIT :limit
);

-- name: event_count_finished
SELECT COUNT(*) FROM events WHERE finished_at IS NOT NULL;

-- name: event_prune_oldest
DELETE FROM events WHERE rowid IN (
    SELECT rowid FROM events WHERE finished_at IS NOT NULL ORDER BY finished_at LIMIT :limit
);

-- name: log_groups
SELECT grp, bytes FROM log_groups ORDER BY grp;

-- name: log_oldest
-- A group's oldest lines and their sizes in bytes, for the caller to pick a cut-off.
SELECT seq, ts_ms, length(CAST(message AS BLOB)) FROM logs WHERE grp = :grp
ORDER BY seq LIMIT :limit;

-- name: log_prune
-- The bytes of the rows actually deleted: another process may have pruned some already.
DELETE FROM logs WHERE grp = :grp AND seq <= :seq RETURNING length(CAST(message AS BLOB));

-- name: log_group_subtract
UPDATE log_groups SET bytes = bytes - :bytes WHERE grp = :grp;

-- name: log_group_drop_if_empty
DELETE FROM log_groups WHERE grp = :grp AND NOT EXISTS (SELECT 1 FROM logs WHERE grp = :grp);

-- name: retention_oldest_finished
SELECT MIN(finished_at) FROM events WHERE finished_at IS NOT NULL;

-- name: retention_log_bytes
SELECT COALESCE(SUM(bytes), 0) FROM log_groups;

-- ---- concurrency slots ----

-- name: slot_expire
DELETE FROM slots WHERE key = :key AND expires_at <= :now;

-- name: slot_taken
SELECT COUNT(*) FROM slots WHERE key = :key AND holder != :holder;

-- name: slot_take
INSERT INTO slots (key, holder, expires_at) VALUES (:key, :holder, :expires)
ON CONFLICT (key, holder) DO UPDATE SET expires_at = excluded.expires_at;

-- name: slot_release
DELETE FROM slots WHERE key = :key AND holder = :holder;

-- ---- logs ----

-- name: log_append
INSERT INTO logs (grp, stream, ts_ms, message) VALUES (:grp, :stream, :ts_ms, :message);

-- name: log_group_add
INSERT INTO log_groups (grp, bytes) VALUES (:grp, :bytes)
ON CONFLICT (grp) DO UPDATE SET bytes = bytes + excluded.bytes;

-- name: log_read
SELECT seq, stream, ts_ms, message FROM logs
WHERE grp = :grp AND seq > :after AND (:stream IS NULL OR stream = :stream)
ORDER BY seq LIMIT :limit;

-- ---- messages (0002_messages.sql) ----

-- name: message_dedup_hit
SELECT message_id, seq FROM message_dedup
WHERE queue_id = :q AND dedup_id = :dedup_id AND expires_at > :now;

-- name: message_insert
INSERT INTO messages (queue_id, id, body, meta, group_id, dedup_id, sent_at, visible_at)
VALUES (:q, :id, :body, :meta, :group_id, :dedup_id, :sent_at, :visible_at)
RETURNING seq;

-- name: message_dedup_put
INSERT OR REPLACE INTO message_dedup (queue_id, dedup_id, message_id, seq, expires_at)
VALUES (:q, :dedup_id, :id, :seq, :expires);

-- name: message_peek
SELECT seq, id, body, meta, group_id, dedup_id, sent_at, visible_at, receipt, receive_count,
       first_received_at, dead_letter_source
FROM messages WHERE queue_id = :q AND visible_at <= :now AND sent_at > :cut
ORDER BY visible_at, seq LIMIT :limit;

-- name: message_candidates
-- Seqs of visible, unexpired messages received at least :min times, in delivery order
-- (LIMIT -1 is no limit).
SELECT seq FROM messages
WHERE queue_id = :q AND visible_at <= :now AND sent_at > :cut AND receive_count >= :min
ORDER BY visible_at, seq LIMIT :limit;

-- name: message_candidates_ordered
-- As message_candidates for a FIFO queue: in seq order, skipping the messages of a group
-- that has an earlier one not visible (in flight or delayed).
SELECT m.seq FROM messages m
WHERE m.queue_id = :q AND m.visible_at <= :now AND m.sent_at > :cut
  AND m.receive_count >= :min AND NOT EXISTS (
    SELECT 1 FROM messages b WHERE b.queue_id = :q AND b.group_id = m.group_id
    AND b.visible_at > :now AND b.sent_at > :cut AND b.seq < m.seq
  )
ORDER BY m.seq LIMIT :limit;

-- name: message_lease
UPDATE messages SET visible_at = :visible_at, receipt = :receipt,
                    receive_count = receive_count + 1,
                    first_received_at = COALESCE(first_received_at, :now)
WHERE seq IN (SELECT value FROM json_each(:seqs))
RETURNING seq, id, body, meta, group_id, dedup_id, sent_at, visible_at, receipt,
          receive_count, first_received_at, dead_letter_source;

-- name: message_move
-- Copy a message to the dead-letter queue (message_remove deletes the original).
INSERT INTO messages (queue_id, id, body, meta, group_id, dedup_id, sent_at, visible_at,
                      receipt, receive_count, first_received_at, dead_letter_source)
SELECT :target, id, body, meta, group_id, dedup_id,
       CASE WHEN :restamp THEN :now ELSE sent_at END, :now, NULL, receive_count,
       first_received_at, :source
FROM messages WHERE seq = :seq;

-- name: message_remove
DELETE FROM messages WHERE seq = :seq;

-- name: message_delete
DELETE FROM messages WHERE seq = :seq AND queue_id = :q AND receipt = :receipt;

-- name: message_leased_until
SELECT visible_at FROM messages WHERE seq = :seq AND queue_id = :q AND receipt = :receipt;

-- name: message_visibility
UPDATE messages SET visible_at = :visible_at WHERE seq = :seq;

-- name: message_purge
DELETE FROM messages WHERE queue_id = :q;

-- name: message_dedup_drop
DELETE FROM message_dedup WHERE queue_id = :q;

-- name: message_expire
DELETE FROM messages WHERE queue_id = :q AND sent_at <= :cut;

-- name: message_dedup_expire
DELETE FROM message_dedup WHERE queue_id = :q AND expires_at <= :now;

-- name: message_counts
SELECT COALESCE(SUM(visible_at <= :now), 0),
       COALESCE(SUM(visible_at > :now AND receipt IS NOT NULL), 0),
       COALESCE(SUM(visible_at > :now AND receipt IS NULL), 0)
FROM messages WHERE queue_id = :q AND sent_at > :cut;

-- name: message_next_visible
SELECT MIN(visible_at) FROM messages WHERE queue_id = :q AND visible_at > :now;

-- ---- CloudWatch Logs API (0006_log_streams.sql) ----

-- name: log_query
-- The fixed part of query_logs; the store appends "AND stream IN (...)" and one
-- "AND instr(message, ?) > 0" per required literal, then the ORDER BY and LIMIT.
SELECT seq, stream, ts_ms, message FROM logs
WHERE grp = :grp AND seq > :after AND (:before IS NULL OR seq < :before)
  AND (:start IS NULL OR ts_ms >= :start) AND (:end IS NULL OR ts_ms <= :end)
  AND (:prefix IS NULL OR substr(stream, 1, length(:prefix)) = :prefix)

-- name: log_next_stream
-- The group's next stream name after :after (an index seek: logs_stream).
SELECT stream FROM logs WHERE grp = :grp AND stream > :after ORDER BY stream LIMIT 1;

-- name: log_stream_first
SELECT seq, ts_ms FROM logs WHERE grp = :grp AND stream = :stream ORDER BY seq LIMIT 1;

-- name: log_stream_last
SELECT seq, ts_ms FROM logs WHERE grp = :grp AND stream = :stream ORDER BY seq DESC LIMIT 1;

-- name: log_group_bytes
SELECT bytes FROM log_groups WHERE grp = :grp;

-- name: log_delete_some
-- Up to :limit lines of a group stamped before :before (all when :before is NULL).
DELETE FROM logs WHERE seq IN (
    SELECT seq FROM logs WHERE grp = :grp AND (:before IS NULL OR ts_ms < :before)
    ORDER BY seq LIMIT :limit
) RETURNING length(CAST(message AS BLOB));
