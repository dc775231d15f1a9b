"""The kernel facts the isolation relies on: who owns a loopback socket, uid locks."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from sendoff.executor import peers
from sendoff.executor.sandbox import UidPool


def test_socket_owner_finds_the_clients_socket_both_ways() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname()) as client:
            accepted, peer = server.accept()
            with accepted:
                expected = (os.geteuid(), os.fstat(client.fileno()).st_ino)
                local = server.getsockname()
                assert peers._sock_diag_owner(peer, local) == expected
                assert peers._proc_net_owner(peer, local) == expected
                assert peers.socket_owner(peer, local) == expected
                assert peers.processes_hold_socket([os.getpid()], expected[1])
                assert not peers.processes_hold_socket([os.getpid()], expected[1] + 10**9)
                assert peers.socket_owner(("127.0.0.1", 1), local) is None


def test_uid_pools_in_two_processes_never_share_a_uid(tmp_path: Path) -> None:
    first, second = UidPool(lock_dir=tmp_path), UidPool(lock_dir=tmp_path)
    a, b = first.acquire(), second.acquire()
    assert a != b
    first.release(a)
    assert second.acquire() == a  # free again once released
