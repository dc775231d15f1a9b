-- Concurrency slots: reserved concurrency enforced across processes sharing the store.
--
-- slots(key, holder, expires_at)   one row per running invocation of a function with
--                                  reserved concurrency; expired rows are free slots.
--   Acquiring holds a per-key advisory lock, so two processes never both take the last one.

CREATE TABLE slots (
    key text NOT NULL,
    holder text NOT NULL,
    expires_at double precision NOT NULL,
    PRIMARY KEY (key, holder)
);
