"""XML rendering of the query protocols (SNS, IAM, STS): one response and one error shape.

    <{Action}Response xmlns=...><{Action}Result>...</{Action}Result>
      <ResponseMetadata><RequestId>...</RequestId></ResponseMetadata></{Action}Response>
    <ErrorResponse xmlns=...><Error><Type>Sender|Receiver</Type><Code/><Message/></Error>
      <RequestId>...</RequestId></ErrorResponse>

Every text goes through :func:`el`, which escapes it and replaces the characters XML 1.0
cannot carry (a NUL a client sent, that an error message repeats), so a document always
parses.
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape

from starlette.responses import Response

# controls other than tab/newline/return, surrogates, U+FFFE and U+FFFF
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """``text`` with the characters XML cannot carry replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)


def unknown_action_message(action: str, version: str | None) -> str:
    """AWS's ``InvalidAction`` message for an Action a query service does not have (STS,
    IAM and SNS word it alike): ``Could not find operation X for version 2010-03-31``,
    ``NO_VERSION_SPECIFIED`` when the request carries no Version."""
    shown = "NO_VERSION_SPECIFIED" if version is None else version
    return f"Could not find operation {action} for version {shown}"


def el(name: str, value: str | None) -> str:
    """One XML element with escaped text; nothing for None."""
    return "" if value is None else f"<{name}>{escape(xml_safe(value))}</{name}>"


def query_response(action: str, result: str | None, request_id: str, *, xmlns: str) -> Response:
    body = f'<?xml version="1.0"?>\n<{action}Response xmlns="{xmlns}">'
    if result is not None:
        body += f"<{action}Result>{result}</{action}Result>"
    body += f"<ResponseMetadata>{el('RequestId', request_id)}</ResponseMetadata>"
    body += f"</{action}Response>"
    return Response(body.encode(), media_type="text/xml", headers={"x-amzn-RequestId": request_id})


def query_error(
    *,
    code: str,
    message: str,
    status: int,
    request_id: str,
    sender_fault: bool = True,
    xmlns: str = "",
    headers: dict[str, str] | None = None,
) -> Response:
    kind = "Sender" if sender_fault else "Receiver"
    namespace = f' xmlns="{xmlns}"' if xmlns else ""
    body = (
        f'<?xml version="1.0"?>\n<ErrorResponse{namespace}><Error>{el("Type", kind)}'
        f"{el('Code', code)}{el('Message', message)}</Error>"
        f"{el('RequestId', request_id)}</ErrorResponse>"
    )
    return Response(
        body.encode(),
        status_code=status,
        media_type="text/xml",
        headers={"x-amzn-RequestId": request_id, **(headers or {})},
    )
