-- CloudWatch Logs API (docs/logs.md): one stream's lines in append order (GetLogEvents,
-- FilterLogEvents with logStreamNames) and each stream's first and last line
-- (DescribeLogStreams) come from this index instead of a scan of the whole group.

CREATE INDEX logs_stream ON logs (grp, stream, seq);
