"""The running loop: it sleeps until the next due instant (no polling), fires when the
clock reaches it, and a change made while it sleeps takes effect at once.

Each test drives ``Scheduler.run()`` in an asyncio task under ``asyncio.run``; time only
moves when the test moves the fake clock, and ``until_idle()`` waits for the loop to have
handled it. The wall-clock ``wait_for`` is only a guard against a hang.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tickwork.scheduler.loop import Scheduler

from .helpers import MINUTE, Rig, at, document, every, fires, make_rig, outcomes

HANG_GUARD_S = 20


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    """Run an async test body to completion on a fresh event loop."""

    async def guarded() -> None:
        await asyncio.wait_for(scenario(), HANG_GUARD_S)

    asyncio.run(guarded())


@asynccontextmanager
async def running(scheduler: Scheduler) -> AsyncIterator[None]:
    """The loop in a task for the duration of the block; stopped and awaited after it."""
    task = asyncio.create_task(scheduler.run())
    try:
        await scheduler.until_idle()
        yield
    finally:
        scheduler.stop()
        await task


@contextmanager
def counting_statements(engine: Engine) -> Iterator[list[str]]:
    """Every SQL statement the engine executes inside the block."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(str(args[2]))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def test_loop_sleeps_until_the_next_instant_and_fires_when_the_clock_reaches_it(
    store_engine: Engine,
) -> None:
    async def scenario() -> None:
        rig = make_rig(store_engine)
        job = rig.create(every("*/15 * * * *"))
        async with running(rig.scheduler):
            assert rig.scheduler.sleeping_until == at("09:15")
            assert rig.clock.sleepers == (at("09:15"),)

            # Up to 09:14 nothing is due: the loop stays asleep and asks the store nothing.
            with counting_statements(store_engine) as statements:
                for _ in range(14):
                    rig.clock.advance(MINUTE)
                    await rig.scheduler.until_idle()
            assert statements == []
            assert fires(store_engine, job.id) == []

            rig.clock.set(at("09:15"))
            await rig.scheduler.until_idle()
            assert outcomes(store_engine, job.id) == [("09:15", "queued", None)]
            assert fires(store_engine, job.id)[0].lateness_ms == 0
            assert rig.scheduler.sleeping_until == at("09:30")
            assert rig.clock.sleepers == (at("09:30"),)

            rig.clock.set(at("09:30"))
            await rig.scheduler.until_idle()
            assert outcomes(store_engine, job.id)[-1] == ("09:30", "skipped", "overlap")
            assert rig.scheduler.sleeping_until == at("09:45")

    run(scenario)


def test_loop_with_nothing_scheduled_sleeps_until_woken(store_engine: Engine) -> None:
    async def scenario() -> None:
        rig = make_rig(store_engine)
        async with running(rig.scheduler):
            assert rig.scheduler.sleeping_until is None
            assert rig.clock.sleepers == ()

            rig.create(every("*/15 * * * *"))
            await rig.scheduler.until_idle()

            assert rig.clock.now() == at("09:00")
            assert rig.scheduler.sleeping_until == at("09:15")

    run(scenario)


def test_changes_made_while_the_loop_sleeps_take_effect_at_once(store_engine: Engine) -> None:
    """Create, edit, pause, resume and delete each move the loop's wake-up instant without
    the clock moving; the service wakes it through ``on_change``."""

    async def scenario() -> None:
        rig = make_rig(store_engine)
        hourly = rig.create(every("0 * * * *", name="hourly"))
        async with running(rig.scheduler):
            assert rig.scheduler.sleeping_until == at("10:00")

            once = rig.create(document("once", {"at": "2026-03-02T09:40:00Z"}))
            await rig.scheduler.until_idle()
            assert rig.scheduler.sleeping_until == at("09:40")

            # An edit from another thread (as an API request would make) wakes it too.
            await asyncio.to_thread(rig.service.update, hourly.id, every("*/5 * * * *", "hourly"))
            await rig.scheduler.until_idle()
            assert rig.scheduler.sleeping_until == at("09:05")

            rig.service.pause(hourly.id)
            await rig.scheduler.until_idle()
            assert rig.scheduler.sleeping_until == at("09:40")

            rig.service.delete(once.id)
            await rig.scheduler.until_idle()
            assert rig.scheduler.sleeping_until is None

            rig.service.resume(hourly.id)
            await rig.scheduler.until_idle()
            assert rig.scheduler.sleeping_until == at("09:05")
            assert rig.clock.now() == at("09:00")

            rig.clock.set(at("09:05"))
            await rig.scheduler.until_idle()
            assert outcomes(store_engine, hourly.id) == [("09:05", "queued", None)]
            assert rig.scheduler.sleeping_until == at("09:10")

    run(scenario)


def test_a_restarted_loop_records_the_outage_then_sleeps_until_the_next_instant(
    store_engine: Engine,
) -> None:
    """Nothing ran from 08:50 to 12:07:30; the loop's first pass settles it all."""

    async def scenario() -> None:
        rig: Rig = make_rig(store_engine, at("08:50"))
        job = rig.create(every("*/15 * * * *"))
        rig.clock.set(at("12:07:30"))
        async with running(rig.scheduler):
            assert rig.scheduler.sleeping_until == at("12:15")
        assert outcomes(store_engine, job.id) == [
            *((t, "missed", "catchup_window") for t in _quarters("09:00", 9)),
            *((t, "missed", "misfire") for t in ("11:15", "11:30", "11:45")),
            ("12:00", "queued", None),
        ]

    run(scenario)


def _quarters(first: str, count: int) -> list[str]:
    return [(at(first) + 15 * i * MINUTE).strftime("%H:%M") for i in range(count)]
