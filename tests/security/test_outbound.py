"""sendoff's own outbound calls obey the outbound policy (issue #17).

An SNS http subscription is a request sendoff makes on a subscriber's behalf: on a shared
deployment it must not reach the cloud's metadata service or the host's private services.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from sendoff.delivery.outbound import OutboundDenied, OutboundPolicy
from tests.integration.test_sns_delivery import HttpReceiver, receiver  # noqa: F401
from tests.support.server import ServerProcess, start_server, wait_until


def test_policy_decisions() -> None:
    laptop = OutboundPolicy()
    assert laptop.permits("127.0.0.1") and laptop.permits("10.0.0.5")
    assert not laptop.permits("169.254.169.254")  # cloud metadata
    assert not laptop.permits("::ffff:169.254.169.254")  # the same, IPv4-mapped
    assert not laptop.permits("fe80::1%eth0")
    shared = OutboundPolicy(deny=["127.0.0.0/8", "10.0.0.0/8"], allow=["10.1.2.0/24"])
    assert not shared.permits("127.0.0.1") and not shared.permits("10.0.0.5")
    assert shared.permits("10.1.2.3") and shared.permits("93.184.216.34")


def test_resolve_pins_the_checked_address_and_keeps_the_name() -> None:
    async def run() -> None:
        pinned = await OutboundPolicy().resolve("https://localhost:8443/hook?x=1")
        assert pinned.url in ("https://127.0.0.1:8443/hook?x=1", "https://[::1]:8443/hook?x=1")
        assert pinned.host_header == "localhost:8443"
        assert pinned.sni_hostname == "localhost"
        with pytest.raises(OutboundDenied, match=r"169\.254\.169\.254"):
            await OutboundPolicy().resolve("http://169.254.169.254/latest/meta-data/")
        with pytest.raises(OutboundDenied):
            await OutboundPolicy(deny=["127.0.0.0/8", "::1/128"]).resolve("http://localhost/")

    asyncio.run(run())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_server(
        tmp_path_factory.mktemp("outbound"), "--time-scale", "0.01",
        "--outbound-deny", "127.0.0.2/32",
    )  # fmt: skip
    yield server
    server.stop()


def _sns(server: ServerProcess) -> Any:
    return boto3.client(
        "sns", endpoint_url=server.url, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
    )  # fmt: skip


def test_denied_endpoints_get_nothing_and_allowed_ones_work(
    server: ServerProcess,
    receiver: HttpReceiver,  # noqa: F811
) -> None:
    sns = _sns(server)
    topic = sns.create_topic(Name=f"outbound-{uuid.uuid4().hex[:8]}")["TopicArn"]
    port = receiver.url.rsplit(":", 1)[1]
    denied_path, allowed_path = f"/denied/{uuid.uuid4().hex}", f"/ok/{uuid.uuid4().hex}"
    # 127.0.0.2 reaches the same receiver (it listens on 127.0.0.1 only, so a request that
    # got through would be refused, not recorded): the proof is sendoff's own refusal.
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=f"http://127.0.0.2:{port}{denied_path}")
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint="http://169.254.169.254/latest/")
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=receiver.url + allowed_path)
    wait_until(lambda: receiver.at(allowed_path, "SubscriptionConfirmation"))
    wait_until(lambda: server.log().count("outbound policy denies") >= 2, message="refusals")
    assert "169.254.169.254" in server.log() and "127.0.0.2" in server.log()
    assert not receiver.at(denied_path, "SubscriptionConfirmation")
