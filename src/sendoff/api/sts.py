"""STS (query protocol at ``/``, signing name ``sts``): ``GetCallerIdentity``,
``AssumeRole`` and ``GetSessionToken``.

``GetCallerIdentity`` answers for the verified caller (``scope["sendoff.caller"]``, set by
sendoff.auth.gate): an access key's IAM user, a function's role, or an STS session. Without
authentication it answers for the session whose token the request carries, else for the
server's account, as its root.

``AssumeRole`` and ``GetSessionToken`` return temporary credentials (``ASIA…`` key, secret,
session token, expiry) minted by :class:`sendoff.auth.session.SessionIssuer`: under
``--auth sigv4`` they are accepted like a stored key while they last, and act as the
assumed role's session (``arn:aws:sts::<account>:assumed-role/<role>/<session>``, in the
role's account) or as the user who asked for them. Who may assume a role: see
:meth:`StsApi._may_assume` and docs/iam.md. Other STS actions are refused with AWS's
``InvalidAction``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from sendoff.api.context import CALLER_KEY
from sendoff.api.query_xml import el, query_error, query_response, unknown_action_message
from sendoff.auth.session import IssuedSession, SessionError, SessionIssuer
from sendoff.model.ids import ordered_id
from sendoff.services.iam.model import Role, parse_role_arn
from sendoff.services.iam.service import RoleService
from sendoff.services.iam.trust import trust_allows

XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/"
ACTIONS = frozenset({"GetCallerIdentity", "AssumeRole", "GetSessionToken"})

MIN_DURATION_S = 900
MAX_ROLE_DURATION_S = 43_200  # the most a role's MaxSessionDuration may be
CHAINED_MAX_S = 3600  # a role assumed with a role session's credentials
SESSION_TOKEN_DEFAULT_S = 43_200
SESSION_TOKEN_MAX_S = 129_600
ROOT_SESSION_TOKEN_MAX_S = 3600
_SESSION_NAME = re.compile(r"[\w+=,.@-]*", re.ASCII)
_ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_CREDENTIAL = re.compile(r"Credential=([A-Z0-9]+)/")


class StsError(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


class StsApi:
    def __init__(
        self,
        *,
        account_id: str,
        issuer: Callable[[], SessionIssuer | None] = lambda: None,
        roles: RoleService | None = None,
        iam_enforce: bool = False,
        auth_on: bool = False,
    ) -> None:
        self.account_id = account_id
        self.issuer = issuer  # the authenticator's, once the server has started
        self.roles = roles
        self.iam_enforce = iam_enforce
        self.auth_on = auth_on

    async def endpoint(self, request: Request) -> Response:
        request_id = ordered_id()
        form = dict(parse_qsl((await request.body()).decode(errors="replace")))
        action = form.get("Action") or request.query_params.get("Action") or ""
        if action not in ACTIONS:
            version = form.get("Version", request.query_params.get("Version"))
            return _error("InvalidAction", unknown_action_message(action, version), request_id)
        account, arn, user_id, temporary = self._caller(request)
        try:
            if action == "AssumeRole":
                result = await self._assume_role(form, account, arn, temporary)
            elif action == "GetSessionToken":
                result = self._session_token(form, account, arn, user_id, temporary)
            else:
                result = el("Arn", arn) + el("UserId", user_id) + el("Account", account)
        except StsError as exc:
            return _error(exc.code, exc.message, request_id, exc.status)
        return query_response(action, result, request_id, xmlns=XMLNS)

    def _caller(self, request: Request) -> tuple[str, str, str, bool]:
        """(account, ARN, unique id, whether these are session credentials)."""
        caller = request.scope.get(CALLER_KEY)
        if caller is not None:
            return caller.account_id, caller.arn, caller.user_id, caller.temporary
        session = self._unverified_session(request)
        if session is not None:
            return session
        return self.account_id, f"arn:aws:iam::{self.account_id}:root", self.account_id, False

    def _unverified_session(self, request: Request) -> tuple[str, str, str, bool] | None:
        """Without authentication, the STS session a request's token names (so
        ``GetCallerIdentity`` with assumed-role credentials answers the role's session
        there too); its MAC is still checked."""
        token = request.headers.get("x-amz-security-token")
        issuer = self.issuer()
        match = _CREDENTIAL.search(request.headers.get("authorization", ""))
        if not token or issuer is None or match is None:
            return None
        try:
            claims, _ = issuer.verify(match.group(1), token)
        except SessionError:
            return None
        if not claims.arn:
            return None
        return claims.account_id, claims.arn, claims.user_id, True

    # ------------------------------------------------------------------ AssumeRole
    async def _assume_role(
        self, form: dict[str, str], account: str, caller_arn: str, temporary: bool
    ) -> str:
        role_arn, session_name = form.get("RoleArn"), form.get("RoleSessionName")
        problems = [
            *_length("roleArn", role_arn, 20, 2048),
            *_length("roleSessionName", session_name, 2, 64),
        ]
        if session_name is not None and not _SESSION_NAME.fullmatch(session_name):
            problems.append(
                _value("roleSessionName", session_name)
                + r"Member must satisfy regular expression pattern: [\w+=,.@-]*"
            )
        duration = _duration(form, problems, default=3600, most=MAX_ROLE_DURATION_S)
        _raise_if(problems)
        assert role_arn is not None and session_name is not None
        parsed = parse_role_arn(role_arn)
        if parsed is None:
            raise StsError("ValidationError", f"{role_arn} is invalid")
        role_account, _path, role_name = parsed
        role = await self.roles.role_by_arn(role_arn) if self.roles is not None else None
        if not self._may_assume(role, role_account, account, caller_arn):
            raise StsError(
                "AccessDenied",
                f"User: {caller_arn} is not authorized to perform: sts:AssumeRole on"
                f" resource: {role_arn}",
                403,
            )
        chained = temporary and ":assumed-role/" in caller_arn
        if chained and duration > CHAINED_MAX_S:
            raise StsError(
                "ValidationError",
                "The requested DurationSeconds exceeds the 1 hour session limit for roles"
                " assumed by role chaining.",
            )
        if role is not None and duration > role.max_session_duration:
            raise StsError(
                "ValidationError",
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
            )
        role_id = role.role_id if role is not None else _stable_role_id(role_arn)
        assumed_arn = f"arn:aws:sts::{role_account}:assumed-role/{role_name}/{session_name}"
        assumed_id = f"{role_id}:{session_name}"
        session = self._issue(role_account, assumed_arn, assumed_id, duration)
        return (
            _credentials(session)
            + "<AssumedRoleUser>"
            + el("AssumedRoleId", assumed_id)
            + el("Arn", assumed_arn)
            + "</AssumedRoleUser>"
        )

    def _may_assume(
        self, role: Role | None, role_account: str, account: str, caller_arn: str
    ) -> bool:
        """Under ``--iam enforce``, and for a role in another account whenever
        authentication is on (accounts are isolated then), the role must exist and its
        trust policy must name the caller. Otherwise any role ARN of the caller's own
        account may be assumed, stored or not, as any role ARN may be given to a function."""
        must_check = self.iam_enforce or (self.auth_on and role_account != account)
        if not must_check:
            return True
        if role is None:
            return False
        return trust_allows(role.trust_policy, caller_arn=caller_arn, caller_account=account)

    # ------------------------------------------------------------ GetSessionToken
    def _session_token(
        self, form: dict[str, str], account: str, arn: str, user_id: str, temporary: bool
    ) -> str:
        root = arn.endswith(":root")
        default = ROOT_SESSION_TOKEN_MAX_S if root else SESSION_TOKEN_DEFAULT_S
        most = ROOT_SESSION_TOKEN_MAX_S if root else SESSION_TOKEN_MAX_S
        problems: list[str] = []
        duration = _duration(form, problems, default=default, most=most)
        _raise_if(problems)
        if temporary:
            raise StsError(
                "AccessDenied", "Cannot call GetSessionToken with session credentials", 403
            )
        return _credentials(self._issue(account, arn, user_id, duration))

    def _issue(self, account: str, arn: str, user_id: str, duration: int) -> IssuedSession:
        issuer = self.issuer()
        if issuer is None:  # the server secret is loaded at startup, before any request
            raise StsError("ServiceUnavailable", "STS is starting; try again.", 503)
        return issuer.issue_session(account_id=account, arn=arn, user_id=user_id,
                                    duration_s=duration)  # fmt: skip


def _value(member: str, value: str) -> str:
    return f"Value '{value}' at '{member}' failed to satisfy constraint: "


def _length(member: str, value: str | None, least: int, most: int) -> list[str]:
    if value is None:
        return [f"Value null at '{member}' failed to satisfy constraint: Member must not be null"]
    if len(value) < least:
        return [_value(member, value) + f"Member must have length greater than or equal to {least}"]
    if len(value) > most:
        return [_value(member, value) + f"Member must have length less than or equal to {most}"]
    return []


def _duration(form: dict[str, str], problems: list[str], *, default: int, most: int) -> int:
    raw = form.get("DurationSeconds")
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        problems.append(_value("durationSeconds", raw) + "Member must be a number")
        return default
    if value < MIN_DURATION_S:
        problems.append(
            _value("durationSeconds", raw)
            + f"Member must have value greater than or equal to {MIN_DURATION_S}"
        )
    elif value > most:
        problems.append(
            _value("durationSeconds", raw) + f"Member must have value less than or equal to {most}"
        )
    return value


def _raise_if(problems: list[str]) -> None:
    if problems:
        count = len(problems)
        noun = "error" if count == 1 else "errors"
        raise StsError(
            "ValidationError", f"{count} validation {noun} detected: " + "; ".join(problems)
        )


def _stable_role_id(role_arn: str) -> str:
    """A role id (``AROA`` and 17 characters) for a role ARN sendoff does not store, the
    same every time, so one role's sessions share it."""
    digest = hashlib.sha256(role_arn.encode()).digest()
    return "AROA" + "".join(_ID_CHARS[b % len(_ID_CHARS)] for b in digest[:17])


def _credentials(session: IssuedSession) -> str:
    expires = datetime.fromtimestamp(session.expires_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        "<Credentials>"
        + el("AccessKeyId", session.access_key_id)
        + el("SecretAccessKey", session.secret_access_key)
        + el("SessionToken", session.session_token)
        + el("Expiration", expires)
        + "</Credentials>"
    )


def _error(code: str, message: str, request_id: str, status: int = 400) -> Response:
    return query_error(code=code, message=message, status=status, request_id=request_id,
                       xmlns=XMLNS)  # fmt: skip
