-- Core schema: documents, blobs, the async invocation queue, logs.
--
-- docs(kind, key, value JSON text, revision)          every configured resource
-- blobs(digest, data)                                   content-addressed code zips
-- events(id, function_key, state, due_at, enqueued_at, ready_at, body JSON,
--        lease_owner, lease_expires_at, lease_token)
--   ready_at = due_at for queued/retrying, lease_expires_at for running, NULL when terminal:
--   one index answers "what is leasable now" and "when is the next one due".
-- logs(seq, grp, stream, ts_ms, message)                append-only per log group

CREATE TABLE docs (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    revision INTEGER NOT NULL,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;

CREATE TABLE blobs (
    digest TEXT PRIMARY KEY,
    data BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE events (
    id TEXT PRIMARY KEY,
    function_key TEXT NOT NULL,
    state TEXT NOT NULL,
    due_at REAL NOT NULL,
    enqueued_at REAL NOT NULL,
    ready_at REAL,
    body TEXT NOT NULL,
    lease_owner TEXT,
    lease_expires_at REAL,
    lease_token INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX events_ready ON events (ready_at) WHERE ready_at IS NOT NULL;
CREATE INDEX events_function ON events (function_key, id);
CREATE INDEX events_state ON events (state, id);

CREATE TABLE logs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    grp TEXT NOT NULL,
    stream TEXT NOT NULL,
    ts_ms INTEGER NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX logs_group ON logs (grp, seq);
