"""Authentication failures in each protocol's error shape: the one place they are mapped.

The codes (JSON/REST code, query code, status) are in ``_CODES`` below; the table with
sources is in docs/security.md. Lambda REST and ``/_sendoff`` answer ``{"message": ...}``
with ``x-amzn-ErrorType``; SQS JSON answers ``{"__type": "com.amazon.coral.service#<Code>"}``
plus ``x-amzn-query-error: <query code>;Sender``; other JSON targets (EventBridge)
``{"__type": "<Code>"}``; query services (SNS, STS) an ``<ErrorResponse>``.
"""

from __future__ import annotations

import json

from starlette.responses import Response

from sendoff.auth.sigv4 import AuthFailure
from sendoff.model.ids import ordered_id

BAD_SIGNATURE = (
    "The request signature we calculated does not match the signature you provided. Check"
    " your AWS Secret Access Key and signing method. Consult the service documentation for"
    " details."
)
INVALID_TOKEN = "The security token included in the request is invalid."

# kind -> (JSON/REST code, query code, status, default message)
_CODES: dict[str, tuple[str, str, int, str]] = {
    "unknown_key": ("UnrecognizedClientException", "InvalidClientTokenId", 403, INVALID_TOKEN),
    "bad_signature": ("InvalidSignatureException", "SignatureDoesNotMatch", 403, BAD_SIGNATURE),
    "missing": (
        "MissingAuthenticationTokenException",
        "MissingAuthenticationToken",
        403,
        "Missing Authentication Token",
    ),
    "incomplete": ("IncompleteSignatureException", "IncompleteSignature", 400, ""),
    "expired": ("InvalidSignatureException", "SignatureDoesNotMatch", 403, ""),
    "presign_expired": ("AccessDeniedException", "RequestExpired", 403, "Request has expired."),
    "too_large": (
        "RequestEntityTooLargeException",
        "RequestEntityTooLarge",
        413,
        "Request must be smaller than 70167211 bytes for the operation",
    ),
    "token_expired": (
        "ExpiredTokenException",
        "ExpiredToken",
        403,
        "The security token included in the request is expired",
    ),
}
_QUERY_XMLNS = {
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
    "sns": "http://sns.amazonaws.com/doc/2010-03-31/",
    "cloudformation": "http://cloudformation.amazonaws.com/doc/2010-05-15/",
}
CORAL = "com.amazon.coral.service#"


def protocol_of(path: str, target: str | None) -> str:
    """``rest`` (Lambda, /_sendoff), ``sqs``, ``json`` (other X-Amz-Target) or ``query``."""
    if path != "/":
        return "rest"
    if target:
        return "sqs" if target.startswith("AmazonSQS.") else "json"
    return "query"


def failure_response(failure: AuthFailure, *, protocol: str, service: str | None) -> Response:
    json_code, query_code, status, default = _CODES[failure.kind]
    message = failure.message if failure.message and failure.message != failure.kind else default
    if failure.kind == "missing" and protocol != "rest":
        message = "Request is missing Authentication Token"  # coral's wording (JSON, query)
    request_id = ordered_id()
    if protocol == "query":
        xmlns = _QUERY_XMLNS.get(service or "", _QUERY_XMLNS["sns"])
        body = (
            f'<?xml version="1.0"?>\n<ErrorResponse xmlns="{xmlns}"><Error><Type>Sender</Type>'
            f"<Code>{query_code}</Code><Message>{_xml(message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        return Response(body.encode(), status_code=status, media_type="text/xml",
                        headers={"x-amzn-RequestId": request_id})  # fmt: skip
    headers = {"x-amzn-RequestId": request_id, "x-amzn-ErrorType": json_code}
    if protocol == "rest":
        return Response(json.dumps({"message": message}).encode(), status_code=status,
                        media_type="application/json", headers=headers)  # fmt: skip
    if protocol == "sqs":
        headers["x-amzn-query-error"] = f"{query_code};Sender"
        return Response(
            json.dumps({"__type": CORAL + json_code, "message": message}).encode(),
            status_code=status,
            media_type="application/x-amz-json-1.0",
            headers=headers,
        )
    return Response(json.dumps({"__type": json_code, "message": message}).encode(),
                    status_code=status, media_type="application/x-amz-json-1.1",
                    headers=headers)  # fmt: skip


# kind -> (S3 code, status, message), as S3 answers them
_S3_CODES: dict[str, tuple[str, int, str]] = {
    "unknown_key": ("InvalidAccessKeyId", 403,
                    "The AWS Access Key Id you provided does not exist in our records."),
    "bad_signature": ("SignatureDoesNotMatch", 403, BAD_SIGNATURE),
    "missing": ("AccessDenied", 403, "Access Denied"),
    "incomplete": ("AuthorizationQueryParametersError", 400,
                   "The authorization header or query parameters are malformed."),
    "expired": ("RequestTimeTooSkewed", 403,
                "The difference between the request time and the current time is too large."),
    "presign_expired": ("AccessDenied", 403, "Request has expired"),
    "too_large": ("EntityTooLarge", 400, "Your proposed upload exceeds the maximum allowed size"),
    "token_expired": ("ExpiredToken", 400, "The provided token has expired."),
}  # fmt: skip


def s3_failure_response(failure: AuthFailure) -> Response:
    """S3's ``<Error>`` document (with ``x-amz-request-id``)."""
    code, status, default = _S3_CODES[failure.kind]
    message = failure.message if failure.message and failure.message != failure.kind else default
    request_id = ordered_id().replace("-", "")[:16].upper()
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
        f"<Message>{_xml(message)}</Message><RequestId>{request_id}</RequestId></Error>"
    )
    return Response(body.encode(), status_code=status, media_type="application/xml",
                    headers={"x-amz-request-id": request_id})  # fmt: skip


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
