"""The Lambda function registry: functions, versions, aliases, concurrency, resolution."""
