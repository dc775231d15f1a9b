-- CloudWatch Logs API (docs/logs.md): one stream's lines in append order (GetLogEvents,
-- FilterLogEvents with logStreamNames) and the per-stream aggregate of DescribeLogStreams
-- come from this index instead of a scan of the whole group.

CREATE INDEX logs_stream ON logs (grp, stream, seq);
