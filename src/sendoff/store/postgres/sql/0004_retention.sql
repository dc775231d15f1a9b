-- Retention (docs/operations.md): terminal events are pruned by the time they finished,
-- log lines by age and by the size of their group.
--
-- events.finished_at     wall-clock epoch seconds at which the event became terminal
--                        (NULL while queued, running or retrying). events_finished holds
--                        terminal events only: pruning deletes the oldest in batches by
--                        this index, and "the oldest kept" is its first entry. Events
--                        already terminal at the upgrade count as finished then: they are
--                        kept one more retention window.
-- log_groups(grp, bytes)  UTF-8 bytes (octet_length) of the messages kept in each log
--                        group, kept up to date by appends and prunes (under the group's
--                        advisory lock), so capping a group never sums it.

ALTER TABLE events ADD COLUMN finished_at double precision;
UPDATE events SET finished_at = extract(epoch FROM clock_timestamp())
    WHERE state IN ('succeeded', 'failed');
CREATE INDEX events_finished ON events (finished_at) WHERE finished_at IS NOT NULL;

CREATE TABLE log_groups (
    grp text PRIMARY KEY,
    bytes bigint NOT NULL
);
INSERT INTO log_groups (grp, bytes)
    SELECT grp, sum(octet_length(message)) FROM logs GROUP BY grp;
