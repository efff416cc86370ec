"""Sortable execution ids: UUIDv7 (RFC 9562, section 5.7), made here (Python 3.11 has none).

Layout, most significant bits first: 48 bits of Unix time in milliseconds, the version
(``0111``), 12 bits ``rand_a``, the variant (``10``), 62 bits ``rand_b``. Ids therefore
sort by creation time as integers, as strings and as database UUIDs, which keeps the
executions index append-only and lets ``ORDER BY id`` mean "oldest first".

Within one generator, ids are strictly increasing even when several are made in the same
millisecond or the clock steps back (RFC 9562 section 6.2, method 2): the 74 random bits
of the previous id are incremented by one instead of redrawn, and the timestamp never goes
below the previous one. A fresh millisecond draws 73 random bits, so the increments have
room for 2**73 ids before the timestamp has to move on by itself.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from tickwork.clock import Clock

__all__ = ["IdGenerator", "new_id", "timestamp_ms"]

_TAIL_BITS = 74  # rand_a (12) + rand_b (62)
_SEED_BITS = _TAIL_BITS - 1  # headroom for incrementing within one millisecond
_MAX_MS = (1 << 48) - 1
_VERSION = 0x7 << 76
_VARIANT = 0b10 << 62
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class IdGenerator:
    """Makes UUIDv7 ids; inject one with a fake clock and fixed random bits in tests.

    Thread-safe: Python steps run in threads and may ask for ids too.
    """

    def __init__(
        self, clock: Clock | None = None, *, randbits: Callable[[int], int] = secrets.randbits
    ) -> None:
        self._clock = clock
        self._randbits = randbits
        self._lock = threading.Lock()
        self._last_ms = -1
        self._last_tail = 0

    def new(self, now_ms: int | None = None) -> uuid.UUID:
        """A new id stamped ``now_ms`` (default: the clock's now), greater than the last one."""
        if now_ms is None:
            now_ms = self._clock_ms()
        if not 0 <= now_ms <= _MAX_MS:
            raise ValueError(f"now_ms must be within 0..2**48-1 (got {now_ms})")
        with self._lock:
            if now_ms > self._last_ms:
                ms, tail = now_ms, self._randbits(_SEED_BITS)
            else:
                ms, tail = self._last_ms, self._last_tail + 1
                if tail >> _TAIL_BITS:  # 2**73 ids in one millisecond: borrow the next one
                    ms, tail = ms + 1, self._randbits(_SEED_BITS)
            self._last_ms, self._last_tail = ms, tail
        rand_a, rand_b = tail >> 62, tail & ((1 << 62) - 1)
        return uuid.UUID(int=(ms << 80) | _VERSION | (rand_a << 64) | _VARIANT | rand_b)

    def _clock_ms(self) -> int:
        if self._clock is None:
            return time.time_ns() // 1_000_000
        return (self._clock.now() - _EPOCH) // timedelta(milliseconds=1)


_default = IdGenerator()


def new_id(now_ms: int | None = None) -> uuid.UUID:
    """A new UUIDv7 from the process-wide generator (the system clock)."""
    return _default.new(now_ms)


def timestamp_ms(value: uuid.UUID) -> int:
    """The Unix time in milliseconds stamped in a UUIDv7."""
    if value.version != 7:
        raise ValueError(f"{value} is not a UUIDv7 (version {value.version})")
    return value.int >> 80
