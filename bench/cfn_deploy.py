"""How long a stack takes through the CloudFormation API, and through the AWS CLI.

    python bench/cfn_deploy.py [--stacks 5]

Starts a real ``sendoff server`` (SQLite) and reports:

* CreateStack to CREATE_COMPLETE for the announcement's stack (two functions, a role, a
  topic with a queue subscription, an EventInvokeConfig), polled every 20 ms;
* the wall time of ``aws cloudformation deploy`` of the same template (change set, wait,
  execute, wait), next to one ``aws cloudformation describe-stacks`` (the CLI's own start-up).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import client_for  # noqa: E402
from tests.support.server import start_server  # noqa: E402
from tests.support.templates.cfn import announcement  # noqa: E402


def unique(i: int) -> str:
    """The announcement with its fixed names made unique, so stacks can coexist."""
    body = announcement(tester_name=f"Tester{i}")
    return body.replace("YourLambdaFunctionOnFailure", f"OnFailure{i}").replace(
        "YourSNSTopicOnSuccess", f"OnSuccess{i}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stacks", type=int, default=5)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp())
    server = start_server(data / "srv", "--account-id", "123456789012")
    try:
        cf = client_for(server.url, "cloudformation")
        seconds = []
        for i in range(args.stacks):
            start = time.perf_counter()
            cf.create_stack(
                StackName=f"bench{i}", TemplateBody=unique(i), Capabilities=["CAPABILITY_IAM"]
            )
            while True:
                status = cf.describe_stacks(StackName=f"bench{i}")["Stacks"][0]["StackStatus"]
                if not status.endswith("IN_PROGRESS"):
                    break
                time.sleep(0.02)
            assert status == "CREATE_COMPLETE", status
            seconds.append(time.perf_counter() - start)
        print(f"CreateStack -> CREATE_COMPLETE: median {statistics.median(seconds):.2f} s, "
              f"max {max(seconds):.2f} s over {len(seconds)} stacks")  # fmt: skip
        work = data / "cli"
        work.mkdir()
        (work / "template.yaml").write_text(unique(args.stacks))
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | {
            "AWS_ENDPOINT_URL": server.url,
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        for label, command in (
            ("aws cloudformation deploy", ["deploy", "--template-file", "template.yaml",
             "--stack-name", "cli", "--capabilities", "CAPABILITY_IAM"]),
            ("aws cloudformation describe-stacks", ["describe-stacks", "--stack-name", "cli"]),
        ):  # fmt: skip
            start = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "awscli", "cloudformation", *command],
                cwd=work, env=env, capture_output=True, text=True,
            )  # fmt: skip
            assert done.returncode == 0, done.stderr
            print(f"{label}: {time.perf_counter() - start:.2f} s")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
