"""The notes a worker process sends its server (workers.JobNotes): the ids of the jobs it
started and settled, each once per batch, in writes the kernel keeps whole (at most
PIPE_BUF bytes), read back by the server however the reads split them."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from sendoff.config.settings import Settings
from sendoff.store.base import EventRecord, EventState
from sendoff.workers import JobNotes, WorkerProcesses


def record(n: int) -> EventRecord:
    return EventRecord(
        id=f"{n:08d}-0000-4000-8000-000000000000", function_key="a/r/f",
        state=EventState.RUNNING, due_at=0.0, enqueued_at=0.0, body={},
    )  # fmt: skip


def test_a_batch_names_each_job_once_in_whole_writes() -> None:
    read, write = os.pipe()
    os.set_blocking(read, False)
    notes = JobNotes(write)

    async def run() -> None:
        for n in range(300):
            notes.job_started(record(n))
            notes.job_finished(record(n))
        notes.flush()

    asyncio.run(run())
    chunks = []
    while True:
        try:
            chunks.append(os.read(read, 65536))
        except BlockingIOError:
            break
    data = b"".join(chunks)
    assert data.decode().split() == [record(n).id for n in range(300)]
    assert len(data) > 4096  # more than one write, each ending a line
    os.close(read)
    os.close(write)


def test_the_server_reads_lines_split_across_reads() -> None:
    children = WorkerProcesses(Settings(data_dir=Path("/d")), 0)
    read, write = os.pipe()
    os.set_blocking(read, False)
    children._notes_read = read
    heard: list[str] = []
    children.on_jobs = heard.extend
    os.write(write, b"first\nsec")
    children._read_notes()
    os.write(write, b"ond\n" + b"x" * 500 + b"\nthird\n")
    children._read_notes()
    children._read_notes()  # nothing more to read: nothing heard
    assert heard == ["first", "second", "third"]  # an over-long line is dropped
    os.close(read)
    os.close(write)
