"""``sendoff credentials create|list|delete``: access keys for ``--auth sigv4``.

These open the store directly (as ``sendoff migrate`` does), not the HTTP API: before the
first key exists no request to a sigv4 server can be authenticated. Run them where the
store is reachable, with the server's ``--data-dir`` or ``--store``.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sendoff.cli.output import add_output_option, emit_json, wants_json
from sendoff.config.settings import env_var_for
from sendoff.errors import ConfigError

T = TypeVar("T")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("credentials", help="access keys for --auth sigv4 (opens the store)")
    actions = parser.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create an access key and print its secret")
    create.add_argument("--account-id", default=None, help="account the key acts in"
                        f" (default: the server's, [env {env_var_for('account_id')}])")  # fmt: skip
    create.add_argument("--name", default="sendoff", help="IAM user name shown by STS")
    listing = actions.add_parser("list", help="list access keys (never their secrets)")
    delete = actions.add_parser("delete", help="delete an access key")
    delete.add_argument("access_key_id")
    for p in (create, listing, delete):
        p.add_argument("--data-dir", dest="data_dir", default=None, help="as for server")
        store_help = f"store URL, as for server [env {env_var_for('store_url')}]"
        p.add_argument("--store", dest="store_url", default=None, help=store_help)
    add_output_option(create)
    add_output_option(listing)


def run(args: argparse.Namespace) -> int:
    from sendoff.auth.credentials import Credentials
    from sendoff.config.settings import load_settings
    from sendoff.errors import StoreError
    from sendoff.store import open_store

    flags = {"data_dir": args.data_dir, "store_url": args.store_url,
             "account_id": getattr(args, "account_id", None)}  # fmt: skip
    settings = load_settings(flags)
    if args.data_dir is None and not settings.store_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)

    def with_store(work: Callable[[Credentials], Awaitable[T]]) -> T:
        async def go() -> T:
            store = open_store(settings.resolved_store_url)
            await store.open()
            try:
                return await work(Credentials(store))
            finally:
                await store.close()

        try:
            return asyncio.run(go())
        except StoreError as exc:
            raise ConfigError(str(exc)) from exc

    if args.action == "create":
        name = args.name

        async def create(c: Credentials) -> Any:
            return await c.create(account_id=settings.account_id, name=name)

        cred = with_store(create)
        if wants_json(args):
            return emit_json({"AccessKeyId": cred.access_key_id,
                              "SecretAccessKey": cred.secret_access_key,
                              "AccountId": cred.account_id, "UserName": cred.name,
                              "Arn": cred.arn})  # fmt: skip
        print(f"AccessKeyId:     {cred.access_key_id}")
        print(f"SecretAccessKey: {cred.secret_access_key}")
        print(f"Account:         {cred.account_id} ({cred.arn})")
        print("The secret is shown once here; keep it safe.")
        return 0
    if args.action == "list":

        async def listing(c: Credentials) -> Any:
            return await c.list()

        creds = with_store(listing)
        rows = [{"AccessKeyId": c.access_key_id, "AccountId": c.account_id, "UserName": c.name,
                 "CreateDate": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(c.created_at))}
                for c in creds]  # fmt: skip
        if wants_json(args):
            return emit_json(rows)
        if not rows:
            print("no access keys (create one: sendoff credentials create)")
        for row in rows:
            print("  ".join(row[k] for k in ("AccessKeyId", "AccountId", "CreateDate", "UserName")))
        return 0
    key = args.access_key_id

    async def delete(c: Credentials) -> bool:
        return await c.delete(key)

    if not with_store(delete):
        raise ConfigError(f"no access key {key}")
    print(f"deleted {key}")
    return 0
