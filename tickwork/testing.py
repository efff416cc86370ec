"""Public helpers for testing code built on Tickwork: a clock that tests move by hand.

Everything in Tickwork that waits takes a :class:`tickwork.clock.Clock`. Given a
:class:`FakeClock`, nothing sleeps for real: a loop awaiting ``sleep_until`` stays
suspended until the test calls :meth:`FakeClock.advance` or :meth:`FakeClock.set` past the
instant (or sets the ``wake`` event), so an hour-long outage or a DST night is tested in
milliseconds, and ``sleepers`` shows what the code under test is waiting for.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from tickwork.clock import require_aware

__all__ = ["FakeClock"]


class FakeClock:
    """A :class:`~tickwork.clock.Clock` whose time moves only when a test moves it.

    ``monotonic()`` starts at 0.0 and counts the time moved forward; moving the wall clock
    backwards with :meth:`set` (a simulated clock step) leaves it where it is.
    """

    def __init__(self, start: datetime) -> None:
        self._now = require_aware(start, "start")
        self._elapsed = timedelta(0)
        self._sleepers: list[tuple[datetime, asyncio.Event]] = []

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._elapsed / timedelta(seconds=1)

    @property
    def sleepers(self) -> tuple[datetime, ...]:
        """The instants pending ``sleep_until`` calls wait for, earliest first."""
        return tuple(sorted(deadline for deadline, _ in self._sleepers))

    def advance(self, delta: timedelta) -> None:
        """Move time forward by ``delta`` and wake every sleeper now due."""
        if delta < timedelta(0):
            raise ValueError(f"advance() moves time forward only (got {delta}); use set()")
        self.set(self._now + delta)

    def set(self, instant: datetime) -> None:
        """Move the wall clock to ``instant`` (either way) and wake every sleeper now due."""
        instant = require_aware(instant)
        if instant > self._now:
            self._elapsed += instant - self._now
        self._now = instant
        for deadline, due in self._sleepers:
            if deadline <= instant:
                due.set()

    async def sleep_until(self, instant: datetime, wake: asyncio.Event | None = None) -> None:
        deadline = require_aware(instant)
        while self._now < deadline and (wake is None or not wake.is_set()):
            entry = (deadline, asyncio.Event())
            self._sleepers.append(entry)
            try:
                await _first_set(entry[1], wake)
            finally:
                self._sleepers.remove(entry)


async def _first_set(due: asyncio.Event, wake: asyncio.Event | None) -> None:
    """Wait until ``due`` or ``wake`` is set."""
    if wake is None:
        await due.wait()
        return
    waits = [asyncio.ensure_future(due.wait()), asyncio.ensure_future(wake.wait())]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiting in waits:
            waiting.cancel()
        await asyncio.gather(*waits, return_exceptions=True)
