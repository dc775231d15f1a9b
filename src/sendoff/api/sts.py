"""STS ``GetCallerIdentity`` (query protocol at ``/``, signing name ``sts``).

AWS tools call it first to learn who they are. It answers for the verified caller
(``scope["sendoff.caller"]``, set by sendoff.auth.gate): an access key's IAM user, or a
function's assumed role. Without authentication it answers for the server's account, as
its root. Other STS actions are refused with AWS's ``InvalidAction``.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from sendoff.api.context import CALLER_KEY
from sendoff.api.query_xml import el, query_error, query_response, unknown_action_message
from sendoff.model.ids import ordered_id

XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/"
ACTIONS = frozenset({"GetCallerIdentity"})


class StsApi:
    def __init__(self, *, account_id: str) -> None:
        self.account_id = account_id

    async def endpoint(self, request: Request) -> Response:
        request_id = ordered_id()
        form = dict(parse_qsl((await request.body()).decode(errors="replace")))
        action = form.get("Action") or request.query_params.get("Action") or ""
        if action != "GetCallerIdentity":
            version = form.get("Version", request.query_params.get("Version"))
            return _error("InvalidAction", unknown_action_message(action, version), request_id)
        caller = request.scope.get(CALLER_KEY)
        if caller is None:
            account, arn, user_id = (
                self.account_id,
                f"arn:aws:iam::{self.account_id}:root",
                (self.account_id),
            )
        else:
            account, arn, user_id = caller.account_id, caller.arn, caller.user_id
        result = el("Arn", arn) + el("UserId", user_id) + el("Account", account)
        return query_response("GetCallerIdentity", result, request_id, xmlns=XMLNS)


def _error(code: str, message: str, request_id: str) -> Response:
    return query_error(code=code, message=message, status=400, request_id=request_id, xmlns=XMLNS)
