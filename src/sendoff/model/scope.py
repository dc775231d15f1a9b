"""The account and region a request acts in, and the names derived from them.

Every service keys its stored documents by scope (``account/region/...``) and builds its
ARNs from it, so one value type serves Lambda, SQS, SNS and EventBridge alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from sendoff.model.arn import function_arn


@dataclass(frozen=True, kw_only=True)
class Scope:
    """The account and region a request acts in."""

    account_id: str
    region: str

    @property
    def key(self) -> str:
        """``account/region``: the scope's part of every stored document key."""
        return f"{self.account_id}/{self.region}"

    @property
    def key_prefix(self) -> str:
        """``account/region/``: what every document key in this scope starts with."""
        return f"{self.account_id}/{self.region}/"

    def service_arn(self, service: str, resource: str) -> str:
        """``arn:aws:<service>:<region>:<account>:<resource>``."""
        return f"arn:aws:{service}:{self.region}:{self.account_id}:{resource}"

    def function_arn(self, name: str, qualifier: str | None = None) -> str:
        """The ARN of a Lambda function (or of one of its qualifiers) in this scope."""
        return function_arn(self.region, self.account_id, name, qualifier)
