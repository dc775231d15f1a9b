"""UUID-shaped identifiers, made cheaply: the hot path makes several per event.

``uuid.uuid4()`` asks the kernel for 16 random bytes each time; these ids come from a
Mersenne Twister seeded from the kernel once per process (and again after a fork). They
name things (request ids, message ids, receipt handles of a local engine); they are not
secrets.

``ordered_id`` puts the time in milliseconds in its first 48 bits, so ids sort in the order
they were made: rows keyed by them go to the end of an index instead of a random page,
and listing by id lists by arrival. Both keep UUID version 4's layout (the version and
variant bits), like the request ids AWS hands out.
"""

from __future__ import annotations

import os
import random
import time

_random = random.Random(os.urandom(32))


def _reseed() -> None:
    _random.seed(os.urandom(32))


os.register_at_fork(after_in_child=_reseed)

_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_SET = (0x4000 << 64) | (0x8000 << 48)


def _format(value: int) -> str:
    text = f"{(value & _CLEAR) | _SET:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def random_id() -> str:
    """A random id in UUID v4 form, like ``str(uuid.uuid4())``."""
    return _format(_random.getrandbits(128))


def ordered_id() -> str:
    """A UUID v4-shaped id whose first 48 bits are the current time in milliseconds."""
    return _format((time.time_ns() // 1_000_000) << 80 | _random.getrandbits(80))


def random_hex() -> str:
    """32 random hex digits, like ``uuid.uuid4().hex``."""
    return f"{_random.getrandbits(128):032x}"
