"""Time is injected: the scheduler and the worker take a :class:`Clock`, never ``datetime.now()``.

Decisions (misfires, overlap, jitter, retries, leases) are pure functions of an explicit
``now``; only the loops read the clock, and they read the one they were given. Tests pass
:class:`tickwork.testing.FakeClock` and move time instead of sleeping, so a DST day or an
hour-long outage is tested in milliseconds; production passes :class:`SystemClock`.
Patching a module-level clock from tests is what this avoids: a patch misses every module
that imported the name first.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Protocol

__all__ = ["MAX_NAP_S", "Clock", "SystemClock", "require_aware"]

MAX_NAP_S = 5.0
"""Longest single wait in :meth:`SystemClock.sleep_until` before the wall clock is read again.

Timers run on the monotonic clock, which does not follow wall-clock steps (NTP corrections,
a VM or laptop resuming from suspend). Re-reading the wall clock at least this often
bounds how late a fire can be after such a step; it costs one wake-up every few seconds.
"""

_OVERSLEEP_S = 0.001
"""Added to each wait so a timer that fires a hair early does not make us spin."""


class Clock(Protocol):
    """The source of time for everything that waits or stamps."""

    def now(self) -> datetime:
        """The current instant, aware, in UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin that never go backwards: for measuring elapsed
        time (timeouts, heartbeats), never for deciding when something is due."""
        ...

    async def sleep_until(self, instant: datetime, wake: asyncio.Event | None = None) -> None:
        """Return once ``now() >= instant``, or as soon as ``wake`` is set, whichever is first.

        Never returns early otherwise: a loop that sleeps until its next due instant may
        act on everything due when this returns. ``wake`` is how a change (a new schedule,
        a NOTIFY) cuts the sleep short; it is not cleared here.
        """
        ...


def require_aware(instant: datetime, name: str = "instant") -> datetime:
    """``instant`` in UTC; ``ValueError`` when it is naive (a naive time has no meaning
    across nodes and zones, so it is a programming error here, never local time)."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime (got naive {instant.isoformat()})")
    return instant.astimezone(UTC)


class SystemClock:
    """The real clock: ``datetime.now(UTC)``, ``time.monotonic()`` and asyncio timers."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep_until(self, instant: datetime, wake: asyncio.Event | None = None) -> None:
        deadline = require_aware(instant)
        while wake is None or not wake.is_set():
            remaining_s = (deadline - self.now()).total_seconds()
            if remaining_s <= 0:
                return
            nap_s = min(remaining_s + _OVERSLEEP_S, MAX_NAP_S)
            if wake is None:
                await asyncio.sleep(nap_s)
                continue
            try:
                await asyncio.wait_for(wake.wait(), nap_s)
            except TimeoutError:
                continue
