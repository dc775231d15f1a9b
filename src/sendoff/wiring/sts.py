"""Wire STS into the server (query protocol, signing name ``sts``): ``GetCallerIdentity``,
and ``AssumeRole`` / ``GetSessionToken`` minting session credentials with the
authenticator's issuer, checking roles' trust policies in the IAM store."""

from __future__ import annotations

from sendoff.api.sts import ACTIONS, StsApi
from sendoff.wiring.services import Services


def install(services: Services) -> None:
    settings = services.settings
    auth = services.auth
    api = StsApi(
        account_id=settings.account_id,
        issuer=lambda: auth.issuer,
        roles=services.roles,
        iam_enforce=settings.iam == "enforce",
        auth_on=settings.resolved_auth != "none",
    )
    services.router.add_query_service("sts", ACTIONS, api.endpoint)
