"""The built-in EventBridge-compatible event-bus service (domain side).

Modules, one concept each:

* ``model``       buses, rules, targets, ARNs and their stored form
* ``repository``  those records in the store (compare-and-swap, paging)
* ``envelope``    PutEvents entries: checks, size limit, the event envelope
* ``paths``       the JSONPath subset of InputPath / InputPathsMap
* ``transform``   Input / InputPath / InputTransformer rendering
* ``targets``     supported target kinds and the delivery job each becomes
* ``schedule``    ScheduleExpression syntax
* ``service``     :class:`EventBusService`, the API the wire edge and transports call
* ``failures``    failed deliveries: per-rule ``FailedInvocations`` and dead-letter queues
* ``transports``  the ``lambda-event`` and ``events`` outbox transports
* ``wiring``      the server's install hook
"""

from sendoff.services.events.errors import EventsError
from sendoff.services.events.model import EventBus, Rule, RuleState, Target
from sendoff.services.events.service import EventBusService, Page, RuleSpec

__all__ = [
    "EventBus",
    "EventBusService",
    "EventsError",
    "Page",
    "Rule",
    "RuleSpec",
    "RuleState",
    "Target",
]
