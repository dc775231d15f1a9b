"""The ``sns-http`` transport: POST a notification or confirmation to an HTTP/S endpoint.

As on AWS, a response in 200-499 ends the delivery (4xx is logged, not retried); a 5xx,
a timeout (15 s) or a connection error is retried by the outbox with backoff until the
subscription's delivery policy (``numRetries``, default 3) is used up; then the delivery
fails for good and is counted (``NumberOfNotificationsFailed``).
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from sendoff.delivery import DeliveryError
from sendoff.delivery.outbound import OutboundDenied, OutboundPolicy
from sendoff.services.sns.repository import SnsRepository

log = logging.getLogger("sendoff.sns.http")

TIMEOUT_S = 15.0


class HttpTransport:
    def __init__(
        self,
        repo: SnsRepository,
        *,
        policy: OutboundPolicy | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.repo = repo
        self.policy = policy or OutboundPolicy()
        self.client = client or httpx.AsyncClient(timeout=TIMEOUT_S, follow_redirects=False)

    async def aclose(self) -> None:
        await self.client.aclose()

    async def deliver(self, target: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        scope_key, delivery_id = payload["scope"], payload["delivery_id"]
        attempts = await self.repo.count_attempt(scope_key, delivery_id)
        try:
            pinned = await self.policy.resolve(target)
        except OutboundDenied as exc:  # a permanent refusal, counted like any failure
            await self.repo.forget_attempts(scope_key, delivery_id)
            raise DeliveryError(str(exc), retryable=False) from None
        extensions = {"sni_hostname": pinned.sni_hostname} if pinned.sni_hostname else {}
        try:
            response = await self.client.post(
                pinned.url,
                content=payload["body"].encode(),
                headers={**payload["headers"], "Host": pinned.host_header},
                extensions=extensions,
            )
        except httpx.HTTPError as exc:
            raise await self._error(payload, attempts, f"{type(exc).__name__}: {exc}") from None
        if response.status_code >= 500 or response.status_code < 200:
            raise await self._error(payload, attempts, f"HTTP {response.status_code} from {target}")
        if response.status_code >= 400:
            log.warning(
                "endpoint %s answered %s; SNS does not retry 4xx", target, response.status_code
            )
        await self.repo.forget_attempts(scope_key, delivery_id)
        return {"status": response.status_code, "attempts": attempts}

    async def _error(self, payload: dict[str, Any], attempts: int, error: str) -> DeliveryError:
        """Retry while the delivery policy allows; then fail for good."""
        if attempts >= int(payload.get("max_attempts", 4)):
            await self.repo.forget_attempts(payload["scope"], payload["delivery_id"])
            return DeliveryError(f"{error} (after {attempts} attempts)", retryable=False)
        return DeliveryError(f"{error} (attempt {attempts})", retryable=True)
