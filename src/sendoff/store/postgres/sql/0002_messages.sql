-- Message queues of the SQS service (see sendoff.store.messages for the contract).
--
-- messages(seq, queue_id, id, body, meta JSONB, group_id, dedup_id, sent_at, visible_at,
--          receipt, receive_count, first_received_at, dead_letter_source)
--   seq comes from an identity sequence (never reused, so it only grows): the send order,
--   the FIFO sequence number and, with receipt, the lease handle (seq, receipt). Sends to
--   one queue hold a per-queue advisory lock, so seqs of a queue commit in order.
--   visible_at <= now: visible; otherwise in flight (receipt set) or delayed (receipt NULL).
--   messages_visible answers receive, counts and the next visibility time per queue;
--   messages_group answers "is this FIFO group blocked".
-- message_dedup(queue_id, dedup_id, message_id, seq, expires_at)
--   deduplication keys of FIFO sends, kept after the message is deleted, until expires_at.

CREATE TABLE messages (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    queue_id text NOT NULL,
    id text NOT NULL,
    body text NOT NULL,
    meta jsonb NOT NULL,
    group_id text,
    dedup_id text,
    sent_at double precision NOT NULL,
    visible_at double precision NOT NULL,
    receipt text,
    receive_count integer NOT NULL DEFAULT 0,
    first_received_at double precision,
    dead_letter_source text
);
CREATE INDEX messages_visible ON messages (queue_id, visible_at);
CREATE INDEX messages_group ON messages (queue_id, group_id, visible_at)
    WHERE group_id IS NOT NULL;

CREATE TABLE message_dedup (
    queue_id text NOT NULL,
    dedup_id text NOT NULL,
    message_id text NOT NULL,
    seq bigint NOT NULL,
    expires_at double precision NOT NULL,
    PRIMARY KEY (queue_id, dedup_id)
);
