"""The ``sns-email`` transport: send ``email`` and ``email-json`` notifications over SMTP.

The server is ``--smtp-url`` (``SENDOFF_SMTP_URL``): ``smtp://[user:password@]host[:port]``
(port 25 by default; STARTTLS with ``?starttls=true``) or ``smtps://...`` (TLS, port 465).
Without one, email deliveries wait in the outbox (retried) until a server is configured and
sendoff restarted, or until they expire.
"""

from __future__ import annotations

import asyncio
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from sendoff.delivery import DeliveryError
from sendoff.errors import ConfigError

SENDER_ADDRESS = "no-reply@sns.sendoff.localhost"
TIMEOUT_S = 15.0


@dataclass(frozen=True, kw_only=True)
class SmtpServer:
    host: str
    port: int
    tls: bool = False
    starttls: bool = False
    username: str | None = None
    password: str | None = None


def parse_smtp_url(url: str) -> SmtpServer:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError(f"SMTP URL must look like smtp://host:port, got {url!r}")
    tls = parts.scheme == "smtps"
    query = parse_qs(parts.query)
    return SmtpServer(
        host=parts.hostname,
        port=parts.port or (465 if tls else 25),
        tls=tls,
        starttls=query.get("starttls", ["false"])[0].lower() == "true",
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def build_email(*, sender: str, to: str, subject: str, body: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = formataddr((sender, SENDER_ADDRESS))
    mail["To"] = to
    mail["Subject"] = subject
    mail["Message-ID"] = make_msgid(domain="sns.sendoff.localhost")
    mail.set_content(body)
    return mail


class EmailTransport:
    def __init__(self, smtp_url: str) -> None:
        self.server = parse_smtp_url(smtp_url) if smtp_url else None

    async def deliver(self, target: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        if self.server is None:
            raise DeliveryError("no SMTP server configured (set --smtp-url / SENDOFF_SMTP_URL)")
        mail = build_email(
            sender=payload["sender"], to=target, subject=payload["subject"], body=payload["body"]
        )
        await asyncio.to_thread(self._send, self.server, mail)
        return {"message_id": mail["Message-ID"]}

    @staticmethod
    def _send(server: SmtpServer, mail: EmailMessage) -> None:
        smtp_class = smtplib.SMTP_SSL if server.tls else smtplib.SMTP
        try:
            with smtp_class(server.host, server.port, timeout=TIMEOUT_S) as smtp:
                if server.starttls:
                    smtp.starttls()
                if server.username:
                    smtp.login(server.username, server.password or "")
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(f"recipient refused: {exc.recipients}", retryable=False) from None
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP {server.host}:{server.port}: {exc}") from None
