-- Concurrency slots: reserved concurrency enforced across processes sharing the store.
--
-- slots(key, holder, expires_at)   one row per running invocation of a function with
--                                  reserved concurrency; expired rows are free slots.

CREATE TABLE slots (
    key TEXT NOT NULL,
    holder TEXT NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (key, holder)
) WITHOUT ROWID;
