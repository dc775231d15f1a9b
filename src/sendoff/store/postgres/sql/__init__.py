"""PostgreSQL SQL: numbered migrations (NNNN_name.sql, applied in order, each once) and the
named queries of ``queries.sql``."""
