"""One module per page family; each exposes a class with ``routes()``."""
