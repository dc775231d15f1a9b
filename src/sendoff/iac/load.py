"""Read a template file and turn it into what gets applied (the only file I/O before planning).

``load_template`` parses the file, checks its structure, applies the SAM transform when
the template asks for it, and packages local function code (paths relative to the
template's directory). Problems come back as one TemplateError with lines where known.
"""

from __future__ import annotations

from pathlib import Path

from sendoff.iac.errors import IacError, TemplateError
from sendoff.iac.package import CodePackager
from sendoff.iac.sam import transform
from sendoff.iac.template import Template, check_structure, parse_template
from sendoff.model.json_types import JSON


def load_template(path: Path, packager: CodePackager | None = None) -> tuple[Template, JSON]:
    """(the template as written, the processed template to apply)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise IacError(f"cannot read template {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise IacError(f"template {path} is not UTF-8 text") from None
    template = parse_template(text, source=str(path))
    problems = check_structure(template)
    if problems:
        raise template.located(problems)
    packager = packager or CodePackager(path.parent)
    body = template.body
    if template.is_serverless:
        try:
            body = transform(body, code_digest=packager.digest)
        except TemplateError as exc:
            raise template.located(exc.problems) from None
    body, problems = packager.package(body)
    if problems:
        raise template.located(problems)
    return template, body
