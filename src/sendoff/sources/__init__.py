"""Event source mappings: Lambda polling a queue of the built-in SQS service.

::

    api/lambda_event_sources.py        the five REST operations (thin)
        |
    sources/mappings.py   Mappings     create / get / update / delete / list (store documents)
        |   sources/mapping.py         the record, its AWS shape, the request checks (pure)
        |
    sources/pollers.py    Pollers      worker role: one runner per enabled mapping
        |   sources/runner.py          receive -> batch -> filter -> invoke -> settle
        |   sources/batch.py           event shape, filters, batch outcomes (pure)
        |   sources/metrics.py         Prometheus counters
        |
    services/sqs  QueueService (in process)     functions/invoker.py  Invoker (synchronous)

A mapping is a store document (kind ``event-source-mapping``, key
``{account}/{region}/{uuid}``), so every backend keeps them and every worker process sees
them. Pollers run where async invocations run (the server with ``--workers`` > 0 and every
``sendoff worker``); each receives with the queue's visibility timeout, so a batch whose
worker dies comes back to the queue and nothing is lost.
"""

from sendoff.sources.mapping import EventSourceMapping
from sendoff.sources.mappings import Mappings

__all__ = ["EventSourceMapping", "Mappings"]
