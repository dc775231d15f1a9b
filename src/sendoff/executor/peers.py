"""Who is on the other end of a loopback TCP connection (Linux).

Every environment's Runtime API listens on a loopback port, and any local process can
connect to a loopback port. The kernel knows which socket connected, though: the
client's end has an owner uid and an inode (asked of sock_diag netlink, or read from
`/proc/net/tcp`), and the inode can be matched against the `socket:[inode]` links in
`/proc/<pid>/fd`. The Runtime API asks this once per accepted connection, so
`AWS_LAMBDA_RUNTIME_API` stays the bare `127.0.0.1:<port>` that every runtime client
(awslambdaric, curl, the Node.js and Go clients) expects, and no secret is handed out.
"""

from __future__ import annotations

import errno
import os
import socket
import struct
from collections.abc import Iterable


def _hex_address(address: tuple[str, int]) -> bytes:
    """`/proc/net/tcp`'s spelling of an IPv4 address and port (`0100007F:1F90`)."""
    (packed,) = struct.unpack("=I", socket.inet_aton(address[0]))
    return b"%08X:%04X" % (packed, address[1])


_NETLINK_SOCK_DIAG = 4
_SOCK_DIAG_BY_FAMILY = 20
_NLMSG_ERROR = 2
_NLM_F_REQUEST = 1
_ALL_STATES = 0xFFFFFFFF
_NO_COOKIE = 0xFFFFFFFF


def socket_owner(peer: tuple[str, int], local: tuple[str, int]) -> tuple[int, int] | None:
    """(uid, inode) of the socket at `peer` connected to `local`, or None if not found.

    Asks the kernel for that one socket (sock_diag netlink, tens of microseconds);
    `/proc/net/tcp` lists every socket of the network namespace (milliseconds on a busy
    host) and is only the fallback.
    """
    try:
        return _sock_diag_owner(peer, local)
    except OSError:
        return _proc_net_owner(peer, local)


def _sock_diag_owner(peer: tuple[str, int], local: tuple[str, int]) -> tuple[int, int] | None:
    src = socket.inet_aton(peer[0]) + bytes(12)
    dst = socket.inet_aton(local[0]) + bytes(12)
    request = (
        struct.pack("=BBBxI", socket.AF_INET, socket.IPPROTO_TCP, 0, _ALL_STATES)
        + struct.pack("!HH16s16s", peer[1], local[1], src, dst)
        + struct.pack("=III", 0, _NO_COOKIE, _NO_COOKIE)
    )
    header = struct.pack("=IHHII", 16 + len(request), _SOCK_DIAG_BY_FAMILY, _NLM_F_REQUEST, 1, 0)
    with socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, _NETLINK_SOCK_DIAG) as sock:
        sock.settimeout(1.0)
        sock.send(header + request)
        reply = sock.recv(8192)
    if len(reply) < 16:
        return None
    _, kind, _, _, _ = struct.unpack_from("=IHHII", reply)
    if kind == _NLMSG_ERROR:
        (error,) = struct.unpack_from("=i", reply, 16)
        if -error == errno.ENOENT:  # no such socket (it closed already)
            return None
        raise OSError(-error, "sock_diag failed")
    if kind != _SOCK_DIAG_BY_FAMILY or len(reply) < 16 + 72:
        return None
    # inet_diag_msg: 4 bytes, sockid (48), expires, rqueue, wqueue, uid, inode
    uid, inode = struct.unpack_from("=II", reply, 16 + 4 + 48 + 12)
    return uid, inode


def _proc_net_owner(peer: tuple[str, int], local: tuple[str, int]) -> tuple[int, int] | None:
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
