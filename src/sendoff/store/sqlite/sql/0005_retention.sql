-- Retention (docs/operations.md): terminal events are pruned by the time they finished,
-- log lines by age and by the size of their group.
--
-- events.finished_at     wall-clock epoch seconds at which the event became terminal
--                        (NULL while queued, running or retrying). events_finished holds
--                        terminal events only: it answers "the oldest finished events"
--                        for pruning and "the oldest kept" for the stats. Events already
--                        terminal at the upgrade count as finished then: they are kept one
--                        more retention window.
-- log_groups(grp, bytes)  UTF-8 bytes of the messages kept in each log group, kept up to
--                        date by appends and prunes, so capping a group never sums it.

ALTER TABLE events ADD COLUMN finished_at REAL;
UPDATE events SET finished_at = (julianday('now') - 2440587.5) * 86400.0
    WHERE state IN ('succeeded', 'failed');
CREATE INDEX events_finished ON events (finished_at) WHERE finished_at IS NOT NULL;

CREATE TABLE log_groups (
    grp TEXT PRIMARY KEY,
    bytes INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO log_groups (grp, bytes)
    SELECT grp, SUM(length(CAST(message AS BLOB))) FROM logs GROUP BY grp;
