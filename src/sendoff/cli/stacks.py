"""``sendoff deploy`` and ``sendoff stacks list|describe|delete``: infrastructure as code.

The deployment runs here, in the client: the template is read, transformed (SAM) and
checked, a change set is computed against the stack's previous deployment, and resources
are created through the server's own AWS APIs with boto3. The server keeps the stacks
(``/_sendoff/stacks``). Progress goes to stderr; stdout has the result (``--output json``
for scripts).
"""

from __future__ import annotations

import argparse

from sendoff.iac.exit_codes import ERROR, FAILED, INVALID, NOT_FOUND, OK, ROLLBACK_FAILED, USAGE

EXIT_CODES = f"""exit codes:
  {OK}  done (or nothing to change)
  {ERROR}  error (server unreachable, stack busy, ...)
  {USAGE}  bad command line
  {INVALID}  the template or parameters are invalid, or use unsupported types; nothing changed
  {FAILED}  the deployment (or deletion) failed; a deployment was rolled back
  {ROLLBACK_FAILED}  the rollback failed too: see `sendoff stacks describe`
  {NOT_FOUND}  no such stack"""

DEPLOY_EXAMPLES = f"""examples:
  sendoff deploy template.yaml
  sendoff deploy template.yaml --stack-name orders --parameter-overrides Stage=dev Retries=0
  sendoff deploy template.yaml --no-execute          # show the change set only
  sendoff deploy cdk.out/App.template.json --output json | jq .outputs

Local paths (Code, CodeUri, CDK assets) are relative to the template. Redeploying updates
the stack in place; a failure rolls back and leaves the previous version working.

{EXIT_CODES}"""

STACKS_EXAMPLES = f"""examples:
  sendoff stacks list
  sendoff stacks describe orders --events 20
  sendoff stacks describe orders --output json | jq -r .outputs.QueueUrl.value
  sendoff stacks delete orders

{EXIT_CODES}"""


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    raw = argparse.RawDescriptionHelpFormatter
    deploy = sub.add_parser(
        "deploy",
        help="deploy a CloudFormation/SAM template as a stack",
        description="Create or update a stack from a CloudFormation or SAM template.",
        epilog=DEPLOY_EXAMPLES,
        formatter_class=raw,
    )
    deploy.add_argument("template", help="template file (YAML or JSON)")
    deploy.add_argument("--stack-name", help="stack name (default: from the template's path)")
    deploy.add_argument(
        "--parameter-overrides",
        nargs="+",
        default=[],
        metavar="KEY=VALUE",
        help="parameter values (others keep their previous value or default)",
    )
    deploy.add_argument(
        "--skip-unsupported",
        action="store_true",
        help="leave out resources of types sendoff does not support",
    )
    deploy.add_argument(
        "--no-execute", action="store_true", help="show the change set without applying it"
    )
    _common(deploy)
    stacks = sub.add_parser(
        "stacks",
        help="stacks: list, describe, delete",
        description="Deployed stacks.",
        epilog=STACKS_EXAMPLES,
        formatter_class=raw,
    )
    actions = stacks.add_subparsers(dest="action", required=True)
    _common(actions.add_parser("list", help="list stacks"))
    describe = actions.add_parser("describe", help="a stack's resources, outputs and events")
    describe.add_argument("name")
    describe.add_argument("--events", type=int, default=0, help="show the last N events")
    _common(describe)
    delete = actions.add_parser("delete", help="delete a stack and every resource it created")
    delete.add_argument("name")
    _common(delete)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--region", default=None, help="region (default: the server's)")
    parser.add_argument(
        "--output",
        "-o",
        choices=("table", "json"),
        default="table",
        help="result format on stdout (default table)",
    )


def run(endpoint_url: str, args: argparse.Namespace) -> int:
    from sendoff.iac.commands import run as run_command

    return run_command(endpoint_url, args)
