"""Where a function's code comes from: an inline ``ZipFile`` or an S3 object.

``Code`` of CreateFunction (and the body of UpdateFunctionCode) names one of them:
``ZipFile`` (base64 zip bytes) or ``S3Bucket`` + ``S3Key`` (+ ``S3ObjectVersion``). An S3
object is read through the fetcher the S3 wiring installs (``FunctionRegistry.s3_code``),
as the caller's account: a bucket of another account is refused, because sendoff does not
evaluate bucket policies. Lambda's errors, all ``InvalidParameterValueException``:

* "Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified
  key does not exist." (quoted from CloudTrail and CloudFormation by users, e.g.
  aws-samples/aws-service-catalog-reference-architectures#108);
* "Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 Error Message: The
  specified bucket does not exist" (the same form; moto's wording);
* "Your access has been denied by S3, please make sure your request credentials have
  permission to GetObject for <bucket>/<key>. S3 Error Code: AccessDenied. S3 Error
  Message: Access Denied".

The object's size is capped at the unzipped-size quota (250 MB): a package from S3 may be
bigger than an inline one (50 MB) but never bigger than what it unzips to.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from sendoff.functions.errors import InvalidParameterValue
from sendoff.functions.validation import check_package, code_sha256, read_package

# (account, bucket, key, version id) -> the object's bytes; raises InvalidParameterValue
S3CodeFetch = Callable[[str, str, str, str | None], Awaitable[bytes]]

NO_SOURCE = (
    "Please provide a source for function code: ZipFile or S3Bucket and S3Key (ImageUri is"
    " not supported by sendoff)."
)


def get_object_error(code: str, message: str) -> InvalidParameterValue:
    return InvalidParameterValue(
        f"Error occurred while GetObject. S3 Error Code: {code}. S3 Error Message: {message}"
    )


def access_denied(bucket: str, key: str) -> InvalidParameterValue:
    return InvalidParameterValue(
        "Your access has been denied by S3, please make sure your request credentials have"
        f" permission to GetObject for {bucket}/{key}. S3 Error Code: AccessDenied. S3 Error"
        " Message: Access Denied"
    )


async def read_code(
    code: dict[str, Any], *, operation: str, account: str, fetch: S3CodeFetch | None
) -> tuple[bytes, str]:
    """The package's zip bytes and CodeSha256, from ``ZipFile`` or ``S3Bucket``/``S3Key``."""
    if "ZipFile" in code:
        return await read_package(code["ZipFile"], operation=operation)
    bucket, key = code.get("S3Bucket"), code.get("S3Key")
    if not bucket or not key:
        raise InvalidParameterValue(NO_SOURCE)
    if not isinstance(bucket, str) or not isinstance(key, str):
        raise InvalidParameterValue(NO_SOURCE)
    if fetch is None:
        raise get_object_error("NoSuchBucket", "The specified bucket does not exist")
    version = code.get("S3ObjectVersion")
    data = await fetch(account, bucket, key, str(version) if version else None)
    await asyncio.to_thread(check_package, data)
    return data, code_sha256(data)
