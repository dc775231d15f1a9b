"""Templates sent to the CloudFormation API: the text, where it comes from, what is applied.

A template arrives as ``TemplateBody`` or as a ``TemplateURL`` naming an object in the
built-in S3 (path style ``http://host/bucket/key``, ``https://bucket.s3.amazonaws.com/key``,
``https://s3.amazonaws.com/bucket/key``, ``https://bucket.s3.<region>.amazonaws.com/key``).
The server never reads its own files for a caller: code must be inline (``ZipFile``) or in
S3 (``aws cloudformation package`` uploads it); a local path is refused, and so is
``sendoff deploy``'s local-code marker, which only the CLI writes. YAML aliases are refused
as CloudFormation refuses them (and they could make a small template huge).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from urllib.parse import unquote, urlsplit

import yaml

from sendoff.iac.errors import Problem, TemplateError
from sendoff.iac.package import MARKER
from sendoff.iac.sam import transform
from sendoff.iac.template import Template, check_structure, parse_template
from sendoff.model.json_types import JSON

MAX_BODY = 51_200  # AWS's TemplateBody limit (bytes)
MAX_URL_TEMPLATE = 1_048_576  # and a TemplateURL's

ObjectReader = Callable[[str, str, str], Awaitable[bytes | None]]
"""``(account, bucket, key)`` -> the object's bytes, or None when there is none."""

_VIRTUAL = re.compile(r"^(?P<bucket>[a-z0-9][a-z0-9.-]*)\.s3[.-]([a-z0-9-]+\.)?amazonaws\.com$")


def parse_s3_url(url: str) -> tuple[str, str] | None:
    """(bucket, key) of a TemplateURL, or None when it names no S3 object."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https", "s3") or not parts.netloc:
        return None
    if parts.scheme == "s3":
        bucket, key = parts.netloc, parts.path.lstrip("/")
    elif match := _VIRTUAL.match(parts.hostname or ""):
        bucket, key = match.group("bucket"), parts.path.lstrip("/")
    else:
        bucket, _, key = parts.path.lstrip("/").partition("/")
    key = unquote(key)
    if not bucket or not key:
        return None
    return bucket, key


def _check_yaml(text: str) -> None:
    """Refuse YAML aliases (as CloudFormation does; each may stand for a whole subtree, so
    a few kilobytes could expand to gigabytes when the template is copied or walked)."""
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if isinstance(token, yaml.AliasToken | yaml.AnchorToken):
                raise TemplateError([Problem(path=(), message=ALIASES)])
    except yaml.YAMLError:
        return  # parse_template reports it, with its line


ALIASES = "YAML aliases are not allowed in CloudFormation templates"


def load_body(text: str) -> tuple[Template, JSON]:
    """(the template as sent, the processed template: SAM expanded, S3 code named)."""
    _check_yaml(text)
    try:
        template = parse_template(text, source="template")
    except RecursionError:
        problem = Problem(path=(), message="the template is nested too deeply")
        raise TemplateError([problem]) from None
    problems = check_structure(template)
    if problems:
        raise template.located(problems)
    body = template.body
    if template.is_serverless:
        try:
            body = transform(body)
        except TemplateError as exc:
            raise template.located(exc.problems) from None
    body, problems = server_code(body)
    if problems:
        raise template.located(problems)
    return template, body


def server_code(body: JSON) -> tuple[JSON, list[Problem]]:
    """Functions' code as the server can take it: ``s3://bucket/key`` strings (SAM's CodeUri
    after ``package``) become ``{S3Bucket, S3Key}``; local paths and markers are refused."""
    problems: list[Problem] = []
    resources = dict(body.get("Resources") or {})
    for logical_id, resource in resources.items():
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::Lambda::Function":
            continue
        props = resource.get("Properties") or {}
        code = props.get("Code")
        where = ("Resources", logical_id, "Properties", "Code")
        if isinstance(code, str):
            located = parse_s3_url(code) if code.startswith("s3://") else None
            if located is None:
                problems.append(Problem(path=where, message=(
                    f"{code!r} is a local path, which the API cannot read: upload the code "
                    "with `aws cloudformation package` (or `sam deploy`), give it inline "
                    "(ZipFile), or deploy with `sendoff deploy`")))  # fmt: skip
                continue
            new_code = {"S3Bucket": located[0], "S3Key": located[1]}
            resources[logical_id] = {**resource, "Properties": {**props, "Code": new_code}}
        elif isinstance(code, dict) and MARKER in code:
            problems.append(Problem(path=where, message=f"{MARKER} is written by sendoff deploy"))
    return {**body, "Resources": resources}, problems
