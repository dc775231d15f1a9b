"""Wire the SNS service: ``services.topics`` and the delivery transports of its
subscription protocols (every process), the query endpoint and its routes (servers). The
``sns`` transport, publishing to a topic, comes with the SNS destination kind
(sendoff.destinations.kinds.sns)."""

from __future__ import annotations

from sendoff.wiring.services import Services, built


def install(services: Services) -> None:
    """Set ``services.topics`` and register its subscription transports."""
    from sendoff.delivery.outbound import OutboundPolicy
    from sendoff.services.sns.http_endpoint import HttpTransport
    from sendoff.services.sns.jobs import SCHEME_EMAIL, SCHEME_HTTP, SCHEME_LAMBDA
    from sendoff.services.sns.service import TopicService
    from sendoff.services.sns.smtp import EmailTransport
    from sendoff.services.sns.transports import LambdaTransport

    settings = services.settings
    topics = TopicService(services.store, services.deliveries, endpoint_url=settings.endpoint_url)
    services.topics = topics
    policy = OutboundPolicy(deny=settings.outbound_deny, allow=settings.outbound_allow)
    http = HttpTransport(topics.repo, policy=policy)
    services.deliveries.register(SCHEME_HTTP, http)
    services.deliveries.register(SCHEME_EMAIL, EmailTransport(settings.smtp_url))
    services.deliveries.register(SCHEME_LAMBDA, LambdaTransport(lambda: services.lambda_async))
    services.deliveries.on_failed(topics.failures)
    services.shutdown_hooks.append(http.aclose)


def install_http(services: Services) -> None:
    """Register the ``sns`` query endpoint and its routes."""
    from sendoff.api.sns import SnsApi

    settings = services.settings
    topics = built(services.topics, "the SNS service")
    api = SnsApi(topics, account_id=settings.account_id, default_region=settings.region)
    services.router.add_query_service("sns", api.actions, api.endpoint)
    services.routes += api.routes()
