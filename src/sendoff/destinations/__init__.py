"""Routing execution records and dead-letter messages to their targets."""

from sendoff.destinations.router import DestinationRouter

__all__ = ["DestinationRouter"]
