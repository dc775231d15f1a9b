"""Pure data: ARNs, function configurations, records. No I/O."""
