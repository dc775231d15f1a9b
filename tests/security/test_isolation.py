"""Function isolation (issue 11 §3), against real servers in each sandbox mode.

What a function must not reach: the server's environment (inherited or through
/proc/<server pid>/environ), the SQLite store, another environment's Runtime API, and
the host after its invocation timed out (grandchildren that called setsid included).
"""

from __future__ import annotations

import os
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.security.isolation_support import (
    ALLOWED_ENV,
    SECRET,
    create,
    invoke,
    lambda_of,
    probe_function,
    require_bwrap,
    require_root,
    sandboxed_server,
)
from tests.support.server import start_server, wait_until

# -- the Runtime API of another environment ---------------------------------------------

VICTIM = """
import os

def handler(event, context):
    return {"api": os.environ["AWS_LAMBDA_RUNTIME_API"], "n": event.get("n")}
"""

ATTACKER = """
import socket

def handler(event, context):
    host, port = event["target"].split(":")
    try:
        with socket.create_connection((host, int(port)), timeout=8) as sock:
            sock.sendall(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\\r\\n"
                         b"Host: x\\r\\n\\r\\n")
            head = sock.recv(65536).decode("latin-1")
            if not head:
                return {"next": "closed"}
            rid = [line.split(": ")[1] for line in head.split("\\r\\n")
                   if line.lower().startswith("lambda-runtime-aws-request-id")][0]
            sock.sendall(f"POST /2018-06-01/runtime/invocation/{rid}/response HTTP/1.1\\r\\n"
                         "Host: x\\r\\nContent-Length: 8\\r\\n\\r\\n\\"forged\\"".encode())
            return {"next": head, "forged": sock.recv(65536).decode("latin-1")}
    except OSError as error:
        return {"next": "error: " + type(error).__name__}
"""


def _connections_to(port: int) -> int:
    """Established TCP connections to 127.0.0.1:port (from /proc/net/tcp)."""
    remote = f"0100007F:{port:04X}"
    with open("/proc/net/tcp") as table:
        return sum(1 for line in table if line.split()[2:4] == [remote, "01"])


@pytest.mark.parametrize("mode", ["none", "auto"])
def test_another_environments_runtime_api_refuses_a_function(tmp_path: Path, mode: str) -> None:
    with sandboxed_server(tmp_path, mode) as server:
        client = lambda_of(server)
        victim = create(client, {"app.py": VICTIM}, "python3.12")
        attacker = create(client, {"app.py": ATTACKER}, "python3.12")
        first, _ = invoke(client, victim, {"n": 1})
        assert re.fullmatch(r"127\.0\.0\.1:\d+", first["api"])  # AWS's own format
        port = int(first["api"].split(":")[1])
        assert _connections_to(port) == 1  # the victim's runtime, waiting in /next

        # The attacker long-polls the victim's /next, then the victim is invoked: without
        # the peer check the attacker got the victim's event and answered for it.
        with ThreadPoolExecutor(1) as pool:
            stolen = pool.submit(invoke, lambda_of(server), attacker, {"target": first["api"]})
            wait_until(lambda: stolen.done() or _connections_to(port) >= 2, timeout=20)
            second, _ = invoke(client, victim, {"n": 2})
            attack = stolen.result(timeout=30)[0]
        assert second == {"api": first["api"], "n": 2}  # its own answer, same environment
        assert "200 OK" not in attack["next"] and "forged" not in attack, attack


# -- the function's environment ---------------------------------------------------------

ENV_DUMP = """
import os

def handler(event, context):
    return sorted(os.environ)
"""


@pytest.mark.parametrize("mode", ["none", "auto"])
def test_a_function_sees_only_lambdas_variables_and_its_own(tmp_path: Path, mode: str) -> None:
    with sandboxed_server(tmp_path, mode) as server:
        client = lambda_of(server)
        name = create(
            client, {"app.py": ENV_DUMP}, "python3.12", Environment={"Variables": {"MINE": "1"}}
        )
        names, _ = invoke(client, name)
    assert "MINE" in names and "AWS_LAMBDA_RUNTIME_API" in names
    # LC_CTYPE: Python sets it itself when LANG's locale is not installed (PEP 538)
    extra = set(names) - {"MINE", "LC_CTYPE"} - ALLOWED_ENV
    assert not extra, extra
    if mode == "none":
        assert "PWD" not in names


# -- timeout kills the whole tree -------------------------------------------------------

SPAWNER = """
import os, subprocess, sys, time

def handler(event, context):
    marker = event["marker"]
    code = "import time; time.sleep(300)"
    subprocess.Popen([sys.executable, "-S", "-c", code, marker + "-session"],
                     start_new_session=True)
    # double fork + setsid: the middle process exits, the grandchild is orphaned
    subprocess.run(["sh", "-c", f"setsid {sys.executable} -S -c '{code}' {marker}-daemon &"])
    if event.get("hang"):
        time.sleep(600)
    return "spawned"
"""


def _with_marker(marker: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                if marker.encode() in cmdline.read():
                    found.append(int(entry))
        except OSError:
            continue
    return found


@pytest.mark.parametrize("mode", ["none", "auto"])
def test_timeout_kills_setsid_grandchildren(tmp_path: Path, mode: str) -> None:
    marker = f"sendoff-grandchild-{os.urandom(6).hex()}"
    with sandboxed_server(tmp_path, mode) as server:
        client = lambda_of(server)
        name = create(client, {"app.py": SPAWNER}, "python3.12", Timeout=2)
        assert invoke(client, name, {"marker": marker + "-a"})[0] == "spawned"
        # both escaped the process group and are still running while the env is warm
        wait_until(lambda: len(_with_marker(marker + "-a")) == 2, timeout=10)

        result, response = invoke(client, name, {"marker": marker + "-b", "hang": True})
        assert response["FunctionError"] == "Unhandled"
        assert result["errorType"] == "Sandbox.Timedout"
        if mode == "none" and "cgroup per environment: no" in server.log():
            # Documented: without a cgroup only the live process tree is killed, so
            # the double-forked daemon (parent gone) escapes; the session child does not.
            wait_until(lambda: not _with_marker(marker + "-b-session"), timeout=10)
            for pid in _with_marker(marker):
                os.kill(pid, 9)
            return
        wait_until(lambda: not _with_marker(marker), timeout=10, message="grandchildren gone")


# -- what a function can read -----------------------------------------------------------


def _check_probe(report: dict[str, object], server_pid_visible: bool) -> None:
    assert report["uid"] != 0 and isinstance(report["uid"], int)
    assert report["read_db"] is False
    assert report["list_data_dir"] is False
    assert report["read_server_environ"] is False
    assert report["secret_in_server_environ"] is False
    assert report["write_tmp"] is True
    names = set(str(report["own_environ"]).split())
    user = {"DB_PATH", "DATA_DIR", "SERVER_PID", "SECRET_MARK"}
    assert names - user <= ALLOWED_ENV, names - user - ALLOWED_ENV
    assert "SENDOFF_TEST_SECRET" not in names
    if not server_pid_visible:
        assert report["read_server_cmdline"] is False


def test_uid_mode_hides_the_store_and_the_server(tmp_path: Path) -> None:
    require_root()
    with sandboxed_server(tmp_path, "uid") as server:
        assert "function sandbox: uid" in server.log()
        client = lambda_of(server)
        name = probe_function(client, server)
        report, _ = invoke(client, name)
        _check_probe(report, server_pid_visible=True)
        assert report["uid"] >= 120000
        assert str(report["tmpdir"]).startswith("/tmp/sendoff-")
        # /proc/<pid>/cmdline stays world-readable under uid (documented)
        assert report["read_server_cmdline"] is True
        tmpdir = Path(str(report["tmpdir"]))
        assert tmpdir.is_dir()
        if shutil.which("node"):
            node = create(client, {"index.js": NODE_PROBE}, "nodejs20.x", Handler="index.handler")
            answer, _ = invoke(client, node, {"server_pid": server.process.pid})
            assert answer["secret"] == [] and answer["environ"] is False
            assert answer["uid"] >= 120000 and answer["uid"] != report["uid"]
        client.delete_function(FunctionName=name)
        wait_until(lambda: not tmpdir.exists(), timeout=10, message="private TMPDIR removed")


def test_bwrap_mode_hides_the_store_and_the_server(tmp_path: Path) -> None:
    require_bwrap()
    with sandboxed_server(tmp_path, "bwrap") as server:
        assert "function sandbox: bwrap" in server.log()
        client = lambda_of(server)
        report, _ = invoke(client, probe_function(client, server))
        _check_probe(report, server_pid_visible=False)
        assert report["uid"] >= 120000
        assert report["task_root"] == report["cwd"] == "/var/task"
        assert report["tmpdir"] == ""  # a private tmpfs /tmp instead


PY_PROBE = """
import os
import resource

def handler(event, context):
    pid = event["server_pid"]
    def readable(path):
        try:
            open(path, "rb").read(1)
            return True
        except OSError:
            return False
    return {
        "secret": [k for k, v in os.environ.items() if "s3cr3t" in v or "SENDOFF" in k],
        "environ": readable(f"/proc/{pid}/environ"),
        "db": readable(event["db"]),
        "uid": os.getuid(),
        "pid": os.getpid(),
        "task_root": os.environ["LAMBDA_TASK_ROOT"],
        "files": sorted(os.listdir(".")),
        "count": event.get("count"),
        "nproc": resource.getrlimit(resource.RLIMIT_NPROC)[0],
        "tmp_writable": os.access("/tmp", os.W_OK),
    }
"""

NODE_PROBE = """
const fs = require("node:fs");
exports.handler = async (event) => {
  let environ = true;
  try { fs.readFileSync(`/proc/${event.server_pid}/environ`); } catch { environ = false; }
  return {
    secret: Object.keys(process.env).filter((k) => k.startsWith("SENDOFF")),
    environ,
    uid: process.getuid(),
    task_root: process.env.LAMBDA_TASK_ROOT,
  };
};
"""


def test_python_and_node_run_warm_under_bwrap(tmp_path: Path) -> None:
    require_bwrap()
    with sandboxed_server(tmp_path, "bwrap") as server:
        client = lambda_of(server)
        event = {"server_pid": server.process.pid, "db": str(server.data_dir / "sendoff.db")}
        py = create(client, {"app.py": PY_PROBE}, "python3.12")
        first, _ = invoke(client, py, {**event, "count": 1})
        second, _ = invoke(client, py, {**event, "count": 2})
        assert first["secret"] == [] and first["environ"] is False and first["db"] is False
        assert first["uid"] >= 120000 and first["task_root"] == "/var/task"
        assert first["files"] == ["app.py"]
        assert first["nproc"] == 1024 and first["tmp_writable"] is True
        assert second["pid"] == first["pid"] and second["count"] == 2  # warm reuse

        node = create(client, {"index.js": NODE_PROBE}, "nodejs20.x", Handler="index.handler")
        answer, _ = invoke(client, node, event)
        assert answer == {"secret": [], "environ": False, "uid": answer["uid"],
                          "task_root": "/var/task"}  # fmt: skip
        assert answer["uid"] >= 120000 and answer["uid"] != first["uid"]
        assert SECRET not in server.log()


def test_unavailable_sandbox_fails_clearly(tmp_path: Path) -> None:
    no_bwrap = {"PATH": str(tmp_path / "empty-bin"), "SENDOFF_SANDBOX": "bwrap"}
    with pytest.raises(AssertionError, match="--sandbox bwrap is not available: bwrap is not"):
        start_server(tmp_path / "srv", env=no_bwrap)
    if os.geteuid() != 0:
        with pytest.raises(AssertionError, match="--sandbox uid is not available"):
            start_server(tmp_path / "srv2", "--sandbox", "uid")


def test_no_sandbox_says_what_functions_can_read(tmp_path: Path) -> None:
    with sandboxed_server(tmp_path, "none") as server:
        log = server.log()
    assert "function sandbox: none" in log
    assert "can read every file that user can" in log and "/proc of this server" in log


# -- bounded log capture -----------------------------------------------------------------

FLOOD = """
import sys

def handler(event, context):
    chunk = ("y" * 1023 + "\\\\n") * 1024  # 1 MiB of 1 KiB lines
    for _ in range(event["mib"]):
        sys.stdout.write(chunk)
    sys.stdout.flush()
    return "done"
"""


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_a_200_mb_stdout_flood_leaves_server_memory_bounded(tmp_path: Path) -> None:
    with sandboxed_server(tmp_path, "auto") as server:
        client = lambda_of(server)
        name = create(client, {"app.py": FLOOD}, "python3.12", Timeout=120)
        assert invoke(client, name, {"mib": 1})[0] == "done"  # warm, everything loaded
        before = _rss_kib(server.process.pid)
        result, response = invoke(client, name, {"mib": 200})
        after = _rss_kib(server.process.pid)
        assert result == "done" and "FunctionError" not in response
        assert after - before < 32 * 1024, f"server RSS grew {after - before} KiB"
