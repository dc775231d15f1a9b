"""IAM roles as stored: one document of kind ``iam-role`` per role.

Key ``<account>/<lower-cased name>``: IAM is global to an account (no region) and role
names are unique without regard to case. The document holds the role's own fields, its
inline policies (name -> JSON text as given) and the ARNs of its attached managed policies.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sendoff.model.arn import parse_arn

ROLE = "iam-role"
_ID_CHARS = string.ascii_uppercase + string.digits


def role_key(account_id: str, name: str) -> str:
    return f"{account_id}/{name.lower()}"


def new_role_id() -> str:
    """``AROA`` and 17 upper-case letters and digits, the shape of AWS's role ids."""
    return "AROA" + "".join(secrets.choice(_ID_CHARS) for _ in range(17))


def parse_role_arn(arn: str) -> tuple[str, str, str] | None:
    """(account, path, name) of ``arn:<partition>:iam::<account>:role<path><name>``."""
    parsed = parse_arn(arn)
    if parsed is None or parsed.service != "iam":
        return None
    resource = parsed.resource
    if not resource.startswith("role/"):
        return None
    path, _, name = resource[len("role") :].rpartition("/")
    if not name:
        return None
    return parsed.account_id, path + "/", name


@dataclass(frozen=True, kw_only=True)
class Role:
    account_id: str
    name: str
    path: str
    role_id: str
    created_at: float
    trust_policy: str  # the AssumeRolePolicyDocument as given
    description: str | None = None
    max_session_duration: int = 3600
    tags: tuple[tuple[str, str], ...] = ()
    inline: dict[str, str] = field(default_factory=dict)  # policy name -> document text
    attached: tuple[str, ...] = ()  # managed policy ARNs, in attach order

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{self.account_id}:role{self.path}{self.name}"

    @property
    def key(self) -> str:
        return role_key(self.account_id, self.name)

    @property
    def create_date(self) -> str:
        return datetime.fromtimestamp(self.created_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def with_inline(self, name: str, text: str | None) -> Role:
        inline = dict(self.inline)
        if text is None:
            inline.pop(name, None)
        else:
            inline[name] = text
        return replace(self, inline=inline)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": self.path,
            "role_id": self.role_id,
            "created_at": self.created_at,
            "trust_policy": self.trust_policy,
            "description": self.description,
            "max_session_duration": self.max_session_duration,
            "tags": [list(t) for t in self.tags],
            "inline": self.inline,
            "attached": list(self.attached),
        }

    @classmethod
    def from_json(cls, account_id: str, data: dict[str, Any]) -> Role:
        return cls(
            account_id=account_id,
            name=data["name"],
            path=data["path"],
            role_id=data["role_id"],
            created_at=data["created_at"],
            trust_policy=data["trust_policy"],
            description=data.get("description"),
            max_session_duration=data.get("max_session_duration", 3600),
            tags=tuple((k, v) for k, v in data.get("tags", [])),
            inline=dict(data.get("inline") or {}),
            attached=tuple(data.get("attached") or ()),
        )
