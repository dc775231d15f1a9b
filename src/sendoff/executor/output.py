"""Capturing what a function process prints, one invocation at a time.

The process's stdout and stderr share one pipe (so their lines stay in order, as in
CloudWatch). The pipe is read as soon as it is readable, so a chatty function never
blocks on a full pipe, but only a bounded head and tail of each invocation's output is
kept. When the runtime posts its response, `drain()` reads whatever is still in the pipe
synchronously: output written before the response is then always in that invocation's
log, never in the next one's.
"""

from __future__ import annotations

import asyncio
import os
from collections import deque

LINE_LIMIT_BYTES = 256 * 1024
"""Lambda truncates a single log line (a CloudWatch log event) at 256 KB."""
DEFAULT_LOG_LIMIT_BYTES = 2 * LINE_LIMIT_BYTES
"""Per invocation: room for one maximal line in the head and one in the tail. With
`max_environments` busy this bounds all captured output (64 x 512 KiB = 32 MiB)."""
_READ_SIZE = 64 * 1024
_READS_PER_WAKEUP = 16


class BoundedLog:
    """Keeps the first and last `limit // 2` bytes written and counts the rest; a
    line longer than LINE_LIMIT_BYTES keeps only its first LINE_LIMIT_BYTES."""

    def __init__(self, limit: int = DEFAULT_LOG_LIMIT_BYTES) -> None:
        self._line_length = 0
        self._head_limit = limit // 2
        self._tail_limit = limit - self._head_limit
        self._head = bytearray()
        self._tail: deque[bytes] = deque()
        self._tail_size = 0
        self.dropped = 0
        self.line_dropped = 0
        """Bytes cut from overlong lines (silently, as Lambda does)."""

    def write(self, data: bytes) -> None:
        data = self._cut_long_lines(data)
        room = self._head_limit - len(self._head)
        if room > 0:
            self._head += data[:room]
            data = data[room:]
            if not data:
                return
        self._tail.append(data)
        self._tail_size += len(data)
        while self._tail_size - len(self._tail[0]) >= self._tail_limit:
            self._tail_size -= len(self._tail[0])
            self.dropped += len(self._tail.popleft())
        excess = self._tail_size - self._tail_limit
        if excess > 0:
            self._tail[0] = self._tail[0][excess:]
            self._tail_size -= excess
            self.dropped += excess

    def _cut_long_lines(self, data: bytes) -> bytes:
        last_newline = data.rfind(b"\n")
        if self._line_length + len(data) <= LINE_LIMIT_BYTES:  # no line can be too long
            if last_newline < 0:
                self._line_length += len(data)
            else:
                self._line_length = len(data) - last_newline - 1
            return data
        kept: list[bytes] = []
        start = 0
        while start < len(data):
            newline = data.find(b"\n", start)
            end = len(data) if newline < 0 else newline
            room = max(0, LINE_LIMIT_BYTES - self._line_length)
            take = min(end - start, room)
            kept.append(data[start : start + take])
            self.line_dropped += end - start - take
            if newline < 0:
                self._line_length += end - start
                break
            kept.append(b"\n")
            self._line_length = 0
            start = newline + 1
        return b"".join(kept)

    def __len__(self) -> int:
        return len(self._head) + self._tail_size

    def text(self) -> str:
        """The kept output, with a marker where bytes were dropped."""
        head = self._head.decode("utf-8", "replace")
        tail = b"".join(self._tail).decode("utf-8", "replace")
        if not self.dropped:
            return head + tail
        marker = f"\n[sendoff: {self.dropped} bytes of output truncated]\n"
        return head + marker + tail


class OutputCapture:
    """Reads a child's output pipe without blocking the event loop."""

    def __init__(self, fd: int, *, limit: int = DEFAULT_LOG_LIMIT_BYTES) -> None:
        self._fd = fd
        self._limit = limit
        self._loop: asyncio.AbstractEventLoop | None = None
        self.log = BoundedLog(limit)
        self.eof = False
        os.set_blocking(fd, False)

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self._fd, self._read_ready)

    def take(self) -> BoundedLog:
        """Return what was captured so far and start a new log."""
        log, self.log = self.log, BoundedLog(self._limit)
        return log

    def drain(self, max_reads: int = 256) -> None:
        """Read what the pipe holds right now (bounded, in case a child keeps writing)."""
        self._read(max_reads)

    def close(self) -> None:
        if self._fd < 0:
            return
        if self._loop is not None and not self.eof:
            self._loop.remove_reader(self._fd)
        os.close(self._fd)
        self._fd = -1

    def _read_ready(self) -> None:
        self._read(_READS_PER_WAKEUP)

    def _read(self, max_reads: int) -> None:
        if self.eof or self._fd < 0:
            return
        for _ in range(max_reads):
            try:
                data = os.read(self._fd, _READ_SIZE)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                data = b""
            if not data:
                self.eof = True
                if self._loop is not None:
                    self._loop.remove_reader(self._fd)
                return
            self.log.write(data)
