"""Wire STS ``GetCallerIdentity`` into the server (query protocol, signing name ``sts``)."""

from __future__ import annotations

from sendoff.api.sts import ACTIONS, StsApi
from sendoff.wiring.services import Services


def install(services: Services) -> None:
    api = StsApi(account_id=services.settings.account_id)
    services.router.add_query_service("sts", ACTIONS, api.endpoint)
