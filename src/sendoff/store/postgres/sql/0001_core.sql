-- Core schema: documents, blobs, the async invocation queue, logs.
--
-- docs(kind, key, value JSONB, revision)               every configured resource
-- blobs(digest, data BYTEA)                             content-addressed code zips
-- events(id, function_key, state, due_at, enqueued_at, ready_at, body JSONB,
--        lease_owner, lease_expires_at, lease_token)
--   ready_at = due_at for queued/retrying, lease_expires_at for running, NULL when terminal:
--   one partial index answers "what is leasable now" (leased with FOR UPDATE SKIP LOCKED)
--   and "when is the next one due". Times are epoch seconds passed in by the callers.
-- logs(seq, grp, stream, ts_ms, message)                append-only per log group
--
-- Keys that are ordered or prefix-scanned use COLLATE "C" (byte order, as in SQLite),
-- whatever the database's default collation is.

CREATE TABLE docs (
    kind text COLLATE "C" NOT NULL,
    key text COLLATE "C" NOT NULL,
    value jsonb NOT NULL,
    revision integer NOT NULL,
    PRIMARY KEY (kind, key)
);

CREATE TABLE blobs (
    digest text PRIMARY KEY,
    data bytea NOT NULL
);

CREATE TABLE events (
    id text COLLATE "C" PRIMARY KEY,
    function_key text COLLATE "C" NOT NULL,
    state text NOT NULL,
    due_at double precision NOT NULL,
    enqueued_at double precision NOT NULL,
    ready_at double precision,
    body jsonb NOT NULL,
    lease_owner text,
    lease_expires_at double precision,
    lease_token bigint NOT NULL DEFAULT 0
);
CREATE INDEX events_ready ON events (ready_at) WHERE ready_at IS NOT NULL;
CREATE INDEX events_function ON events (function_key, id);
CREATE INDEX events_state ON events (state, id);

CREATE TABLE logs (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    grp text NOT NULL,
    stream text NOT NULL,
    ts_ms bigint NOT NULL,
    message text NOT NULL
);
CREATE INDEX logs_group ON logs (grp, seq);
