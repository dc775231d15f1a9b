"""The checksums S3 verifies and returns: MD5 (ETag, Content-MD5) and the flexible
checksums SDKs send (CRC32, CRC32C, CRC64NVME, SHA1, SHA256), base64 of the big-endian
digest as in ``x-amz-checksum-<name>``.

CRC32 comes from zlib. CRC32C and CRC64NVME have no stdlib implementation (botocore
uses awscrt, which is optional and absent here): small table-driven ones follow, slow
(pure Python, a few MB/s) but computed only when a client asks for them.
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from typing import Protocol

ALGORITHMS = ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256")


class Hasher(Protocol):
    def update(self, data: bytes, /) -> None: ...
    def digest(self) -> bytes: ...


def _table(poly: int, bits: int) -> list[int]:
    table = []
    for n in range(256):
        crc = n
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC32C = _table(0x82F63B78, 32)
_CRC64NVME = _table(0x9A6C9329AC4BC9B5, 64)


class _TableCrc:
    def __init__(self, table: list[int], bits: int) -> None:
        self._table = table
        self._mask = (1 << bits) - 1
        self._bytes = bits // 8
        self._crc = self._mask

    def update(self, data: bytes, /) -> None:
        crc, table = self._crc, self._table
        for byte in data:
            crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
        self._crc = crc

    def digest(self) -> bytes:
        return (self._crc ^ self._mask).to_bytes(self._bytes, "big")


class _Crc32:
    def __init__(self) -> None:
        self._crc = 0

    def update(self, data: bytes, /) -> None:
        self._crc = zlib.crc32(data, self._crc)

    def digest(self) -> bytes:
        return self._crc.to_bytes(4, "big")


def new_hasher(algorithm: str) -> Hasher:
    """A running checksum for one of :data:`ALGORITHMS` (upper-case name)."""
    if algorithm == "CRC32":
        return _Crc32()
    if algorithm == "CRC32C":
        return _TableCrc(_CRC32C, 32)
    if algorithm == "CRC64NVME":
        return _TableCrc(_CRC64NVME, 64)
    if algorithm == "SHA1":
        return hashlib.sha1()
    if algorithm == "SHA256":
        return hashlib.sha256()
    raise ValueError(algorithm)


def encoded(hasher: Hasher) -> str:
    return base64.b64encode(hasher.digest()).decode()
