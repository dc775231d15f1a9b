"""Which addresses sendoff itself may send to (SNS http/https subscriptions, webhooks).

Anyone who may subscribe an endpoint may make sendoff POST to any address it can reach:
on a shared deployment that includes the cloud's metadata service (169.254.169.254), the
host's other services and sendoff's own API. The policy is checked on the *resolved*
address, and the request then goes to that very address (the name only in ``Host`` and
TLS SNI), so a name that resolves to an allowed address at check time cannot be rebound
to a denied one for the connection.

Always denied: link-local addresses (IPv4 169.254.0.0/16, where cloud metadata services
live, and IPv6 fe80::/10) and the unspecified addresses; a laptop never notices. Shared
deployments add their private ranges with ``--outbound-deny`` (loopback and RFC 1918 are
common choices) and may punch holes with ``--outbound-allow`` (which also overrides the
link-local default).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_DENY = ("169.254.0.0/16", "fe80::/10", "0.0.0.0/32", "::/128")


class OutboundDenied(Exception):
    """The destination resolves to an address the policy denies."""


@dataclass(frozen=True, kw_only=True)
class Destination:
    """Where to send: the URL with the checked address, and what keeps the name."""

    url: str
    host_header: str
    sni_hostname: str | None


class OutboundPolicy:
    def __init__(self, *, deny: Iterable[str] = (), allow: Iterable[str] = ()) -> None:
        """Deny link-local (:data:`DEFAULT_DENY`) and ``deny``, except ``allow``."""
        self.deny = tuple(_network(text) for text in (*DEFAULT_DENY, *deny))
        self.allow = tuple(_network(text) for text in allow)

    def permits(self, address: str) -> bool:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if any(ip in network for network in self.allow):
            return True
        return not any(ip in network for network in self.deny)

    async def resolve(self, url: str) -> Destination:
        """The destination for ``url``, pinned to an address the policy permits."""
        parts = urlsplit(url)
        host = parts.hostname
        if not host or parts.scheme not in ("http", "https"):
            raise OutboundDenied(f"not an http(s) URL: {url}")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except socket.gaierror as exc:
            raise OutboundDenied(f"cannot resolve {host}: {exc}") from exc
        addresses = [str(info[4][0]) for info in infos]
        denied = [address for address in addresses if not self.permits(address)]
        if denied or not addresses:
            raise OutboundDenied(
                f"{host} resolves to {', '.join(denied or addresses) or 'nothing'}, which the"
                " outbound policy denies (--outbound-deny / --outbound-allow)"
            )
        address = addresses[0]
        literal = f"[{address}]" if ":" in address else address
        netloc = f"{literal}:{parts.port}" if parts.port else literal
        host_header = parts.netloc.rsplit("@", 1)[-1]
        is_name = _is_name(host)
        return Destination(
            url=urlunsplit(parts._replace(netloc=netloc)),
            host_header=host_header,
            sni_hostname=host if parts.scheme == "https" and is_name else None,
        )


def _network(text: str) -> Network:
    return ipaddress.ip_network(text.strip(), strict=False)


def _is_name(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return True
    return False
