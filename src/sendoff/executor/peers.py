"""Who is on the other end of a loopback TCP connection (Linux `/proc/net/tcp`).

Every environment's Runtime API listens on a loopback port, and any local process can
connect to a loopback port. The kernel knows which socket connected, though: the
client's end appears in `/proc/net/tcp` with its owner's uid and its inode, and an inode
can be matched against the `socket:[inode]` links in `/proc/<pid>/fd` of a process. The
Runtime API asks this module once per accepted connection, so `AWS_LAMBDA_RUNTIME_API`
stays the bare `127.0.0.1:<port>` that every runtime client (awslambdaric, curl, the
Node.js and Go clients) expects, and no secret needs to be handed out.
"""

from __future__ import annotations

import os
import socket
import struct
from collections.abc import Iterable


def _hex_address(address: tuple[str, int]) -> bytes:
    """`/proc/net/tcp`'s spelling of an IPv4 address and port (`0100007F:1F90`)."""
    (packed,) = struct.unpack("=I", socket.inet_aton(address[0]))
    return b"%08X:%04X" % (packed, address[1])


def socket_owner(peer: tuple[str, int], local: tuple[str, int]) -> tuple[int, int] | None:
    """(uid, inode) of the socket at `peer` connected to `local`, or None if not found."""
    want_local, want_remote = _hex_address(peer), _hex_address(local)
    try:
        with open("/proc/net/tcp", "rb") as table:
            lines = table.read().splitlines()
    except OSError:
        return None
    for line in lines[1:]:
        fields = line.split()
        if len(fields) > 9 and fields[1] == want_local and fields[2] == want_remote:
            try:
                return int(fields[7]), int(fields[9])
            except ValueError:
                return None
    return None


def processes_hold_socket(pids: Iterable[int], inode: int) -> bool:
    """True when one of `pids` has the socket `inode` open."""
    target = f"socket:[{inode}]"
    for pid in pids:
        fd_dir = f"/proc/{pid}/fd"
        try:
            names = os.listdir(fd_dir)
        except OSError:
            continue
        for name in names:
            try:
                if os.readlink(f"{fd_dir}/{name}") == target:
                    return True
            except OSError:
                continue
    return False
