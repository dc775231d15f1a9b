"""The durable job loop: lease due jobs from the store, hand each to its handler."""

from sendoff.scheduler.loop import JobHandler, JobObserver, Scheduler

__all__ = ["JobHandler", "JobObserver", "Scheduler"]
