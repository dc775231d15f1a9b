"""CloudWatch Logs: log groups, streams, events and filter patterns (domain side)."""
