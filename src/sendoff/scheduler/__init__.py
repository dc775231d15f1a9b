"""The durable job loop: lease due jobs from the store, hand each to its handler."""

from sendoff.scheduler.loop import JobHandler, Scheduler

__all__ = ["JobHandler", "Scheduler"]
