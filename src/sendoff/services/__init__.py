"""Service-level domain logic (pattern matching, filtering, routing) for the protocol edges."""
