"""The one exception root of sendoff.

SendoffError
├── ConfigError            bad settings at start-up
├── StoreError             the persistence layer failed
│   └── ConflictError      a compare-and-swap lost (stale revision)
├── ExecutorError          an execution environment could not be used
│   └── Throttled          reserved or account concurrency is exhausted
└── ApiError               a client error with an AWS wire shape (see sendoff.api.errors)

Domain code raises these; each protocol edge maps them to its wire format in one place.
"""

from __future__ import annotations


class SendoffError(Exception):
    """Root of every error sendoff raises on purpose."""


class ConfigError(SendoffError):
    """Settings given at start-up are invalid."""


class StoreError(SendoffError):
    """The store could not complete an operation."""


class ConflictError(StoreError):
    """A conditional write found a different revision than expected."""


class ExecutorError(SendoffError):
    """An execution environment could not be started or used."""


class Throttled(ExecutorError):
    """No concurrency is available for the function right now."""

    def __init__(self, message: str = "Rate Exceeded.", *, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason
