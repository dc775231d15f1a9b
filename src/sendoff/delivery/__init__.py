"""Durable, retried delivery of messages between services (and of destination records)."""

from sendoff.delivery.outbox import Deliveries, DeliveryError, Transport

__all__ = ["Deliveries", "DeliveryError", "Transport"]
