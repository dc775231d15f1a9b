-- Message queues of the SQS service (see sendoff.store.messages for the contract).
--
-- messages(seq, queue_id, id, body, meta JSON, group_id, dedup_id, sent_at, visible_at,
--          receipt, receive_count, first_received_at, dead_letter_source)
--   seq is the rowid (AUTOINCREMENT: never reused, so it only grows): the send order,
--   the FIFO sequence number and, with receipt, the lease handle (seq, receipt).
--   visible_at <= now: visible; otherwise in flight (receipt set) or delayed (receipt NULL).
--   messages_visible answers receive, counts and the next visibility time per queue;
--   messages_group answers "is this FIFO group blocked" (in-flight or delayed rows only).
-- message_dedup(queue_id, dedup_id, message_id, seq, expires_at)
--   deduplication keys of FIFO sends, kept after the message is deleted, until expires_at.

CREATE TABLE messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    queue_id TEXT NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    meta TEXT NOT NULL,
    group_id TEXT,
    dedup_id TEXT,
    sent_at REAL NOT NULL,
    visible_at REAL NOT NULL,
    receipt TEXT,
    receive_count INTEGER NOT NULL DEFAULT 0,
    first_received_at REAL,
    dead_letter_source TEXT
);
CREATE INDEX messages_visible ON messages (queue_id, visible_at);
CREATE INDEX messages_group ON messages (queue_id, group_id, visible_at)
    WHERE group_id IS NOT NULL;

CREATE TABLE message_dedup (
    queue_id TEXT NOT NULL,
    dedup_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (queue_id, dedup_id)
) WITHOUT ROWID;
