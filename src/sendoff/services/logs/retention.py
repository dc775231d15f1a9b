"""Log groups' retention policies (PutRetentionPolicy), applied by the pruner.

``--log-retention`` (default 7 days) is the most any line is kept, whatever a group's
policy says, and ``--log-group-max-bytes`` caps each group (sendoff.store.retention); a
group's policy can only shorten that: a group with ``retentionInDays`` 1 loses its lines
after a day. This keeps a busy function from filling the disk however its group is set.
"""

from __future__ import annotations

from sendoff.services.logs.groups import LogGroups
from sendoff.store import Store

BATCH = 1000


async def expire_by_policy(
    store: Store, groups: LogGroups, *, now: float, max_retention_s: float
) -> int:
    """Delete the lines older than their group's policy; how many were deleted."""
    deleted = 0
    for key, days in await groups.retention_policies():
        if days * 86_400 >= max_retention_s:
            continue  # the server-wide pass already keeps less than the policy
        before_ms = int((now - days * 86_400) * 1000)
        while True:
            n = await store.delete_logs(key, before_ms=before_ms, limit=BATCH)
            deleted += n
            if n < BATCH:
                break
    return deleted
