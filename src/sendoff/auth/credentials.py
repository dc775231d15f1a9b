"""Access keys in the store, and the server's own secret.

Keys are documents (kind ``credential``, key = the access key id), so every API and worker
process on SQLite, PostgreSQL or Redis sees the same set. SigV4 needs the secret itself to
recompute a signature, so the secret is stored as it is: the store must be protected like
the secrets it holds (docs/security.md).

The server secret (kind ``auth-secret``) keys the session tokens given to functions and the
signed ``/_sendoff/code`` URLs. The first process to need it creates it (a create-only put),
so every process agrees on one value.
"""

from __future__ import annotations

import base64
import secrets
import time
from dataclasses import dataclass

from sendoff.errors import ConflictError
from sendoff.store import Store

KIND = "credential"
SECRET_KIND = "auth-secret"
_KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"  # base32, as AWS key ids look
_SECRET_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


@dataclass(frozen=True, kw_only=True)
class Credential:
    access_key_id: str
    secret_access_key: str
    account_id: str
    name: str
    created_at: float

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{self.account_id}:user/{self.name}"

    @property
    def user_id(self) -> str:
        """AWS's unique id of an IAM user (``AIDA…``), derived from the key so it is stable."""
        return "AIDA" + self.access_key_id[4:]

    def to_json(self) -> dict[str, object]:
        return {
            "access_key_id": self.access_key_id,
            "secret_access_key": self.secret_access_key,
            "account_id": self.account_id,
            "name": self.name,
            "created_at": self.created_at,
        }

    @classmethod
    def from_json(cls, value: dict[str, object]) -> Credential:
        return cls(
            access_key_id=str(value["access_key_id"]),
            secret_access_key=str(value["secret_access_key"]),
            account_id=str(value["account_id"]),
            name=str(value["name"]),
            created_at=float(value["created_at"]),  # type: ignore[arg-type]
        )


def new_access_key_id(prefix: str = "AKIA") -> str:
    """``AKIA`` (long-term) or ``ASIA`` (temporary) and 16 base32 characters: 20 in all."""
    return prefix + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16))


def new_secret_access_key() -> str:
    return "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))


class Credentials:
    """Create, list, find and delete access keys in a store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def create(self, *, account_id: str, name: str) -> Credential:
        while True:
            credential = Credential(
                access_key_id=new_access_key_id(),
                secret_access_key=new_secret_access_key(),
                account_id=account_id,
                name=name,
                created_at=time.time(),
            )
            try:
                await self.store.put(KIND, credential.access_key_id, credential.to_json(), expect=0)
            except ConflictError:
                continue  # 32^16 ids: a collision is a curiosity, but never overwrite a key
            return credential

    async def get(self, access_key_id: str) -> Credential | None:
        doc = await self.store.get(KIND, access_key_id)
        return None if doc is None else Credential.from_json(doc.value)

    async def list(self) -> list[Credential]:
        return [Credential.from_json(doc.value) for doc in await self.store.scan(KIND)]

    async def delete(self, access_key_id: str) -> bool:
        return await self.store.delete(KIND, access_key_id)


async def server_secret(store: Store) -> bytes:
    """The server's 32-byte secret, created by the first process that asks."""
    doc = await store.get(SECRET_KIND, "master")
    if doc is None:
        value = base64.b64encode(secrets.token_bytes(32)).decode()
        try:
            doc = await store.put(SECRET_KIND, "master", {"key": value}, expect=0)
        except ConflictError:
            doc = await store.get(SECRET_KIND, "master")
            assert doc is not None
    return base64.b64decode(doc.value["key"])
