"""Injected time: FakeClock moves only when the test moves it; sleepers wake on time or on wake."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tickwork.clock import Clock, SystemClock
from tickwork.testing import FakeClock

START = datetime(2026, 3, 8, 6, 0, tzinfo=UTC)


def test_fake_clock_is_a_clock() -> None:
    clock: Clock = FakeClock(START)
    assert clock.now() == START


def test_now_is_utc_even_when_started_in_another_offset() -> None:
    clock = FakeClock(datetime(2026, 3, 8, 7, 0, tzinfo=timezone(timedelta(hours=1))))
    assert clock.now() == START
    assert clock.now().utcoffset() == timedelta(0)


def test_refuses_a_naive_start() -> None:
    with pytest.raises(ValueError, match="aware"):
        FakeClock(datetime(2026, 3, 8, 6, 0))


def test_advance_moves_now_and_monotonic() -> None:
    clock = FakeClock(START)
    clock.advance(timedelta(minutes=90, milliseconds=250))
    assert clock.now() == START + timedelta(minutes=90, milliseconds=250)
    assert clock.monotonic() == 5400.25


def test_advance_refuses_going_back() -> None:
    clock = FakeClock(START)
    with pytest.raises(ValueError, match="forward only"):
        clock.advance(timedelta(seconds=-1))


def test_set_back_steps_the_wall_clock_but_not_monotonic() -> None:
    clock = FakeClock(START)
    clock.set(START + timedelta(hours=1))
    clock.set(START)
    assert clock.now() == START
    assert clock.monotonic() == 3600.0


def test_sleep_until_a_past_instant_returns_at_once() -> None:
    clock = FakeClock(START)
    asyncio.run(clock.sleep_until(START - timedelta(seconds=1)))
    asyncio.run(clock.sleep_until(START))
    assert list(clock.sleepers) == []


def test_sleep_until_is_woken_by_advance_reaching_the_instant() -> None:
    clock = FakeClock(START)
    due = START + timedelta(minutes=5)

    async def scenario() -> None:
        sleeper = asyncio.create_task(clock.sleep_until(due))
        await asyncio.sleep(0)
        assert list(clock.sleepers) == [due]
        clock.advance(timedelta(minutes=4, seconds=59))
        await asyncio.sleep(0)
        assert not sleeper.done()  # one second early is still early
        clock.advance(timedelta(seconds=1))
        await asyncio.wait_for(sleeper, timeout=1)
        assert list(clock.sleepers) == []

    asyncio.run(scenario())


def test_sleep_until_is_woken_by_set_past_the_instant() -> None:
    clock = FakeClock(START)
    due = START + timedelta(hours=1)

    async def scenario() -> None:
        sleeper = asyncio.create_task(clock.sleep_until(due))
        await asyncio.sleep(0)
        clock.set(due + timedelta(days=1))
        await asyncio.wait_for(sleeper, timeout=1)

    asyncio.run(scenario())


def test_only_sleepers_that_are_due_wake() -> None:
    clock = FakeClock(START)
    early, late = START + timedelta(minutes=1), START + timedelta(minutes=10)

    async def scenario() -> None:
        first = asyncio.create_task(clock.sleep_until(early))
        second = asyncio.create_task(clock.sleep_until(late))
        await asyncio.sleep(0)
        assert list(clock.sleepers) == [early, late]
        clock.advance(timedelta(minutes=1))
        await asyncio.wait_for(first, timeout=1)
        assert not second.done()
        assert list(clock.sleepers) == [late]
        second.cancel()
        await asyncio.gather(second, return_exceptions=True)
        assert list(clock.sleepers) == []  # a cancelled sleeper leaves nothing behind

    asyncio.run(scenario())


def test_sleep_until_is_cut_short_by_the_wake_event() -> None:
    clock = FakeClock(START)

    async def scenario() -> None:
        wake = asyncio.Event()
        sleeper = asyncio.create_task(clock.sleep_until(START + timedelta(days=1), wake))
        await asyncio.sleep(0)
        assert not sleeper.done()
        wake.set()
        await asyncio.wait_for(sleeper, timeout=1)
        assert clock.now() == START  # woken by the event, not by time
        assert list(clock.sleepers) == []

    asyncio.run(scenario())


def test_sleep_until_with_a_wake_event_still_wakes_on_time() -> None:
    clock = FakeClock(START)

    async def scenario() -> None:
        wake = asyncio.Event()
        sleeper = asyncio.create_task(clock.sleep_until(START + timedelta(seconds=30), wake))
        await asyncio.sleep(0)
        clock.advance(timedelta(seconds=30))
        await asyncio.wait_for(sleeper, timeout=1)
        assert not wake.is_set()

    asyncio.run(scenario())


def test_sleep_until_returns_at_once_when_wake_is_already_set() -> None:
    clock = FakeClock(START)

    async def scenario() -> None:
        wake = asyncio.Event()
        wake.set()
        await asyncio.wait_for(clock.sleep_until(START + timedelta(days=1), wake), timeout=1)

    asyncio.run(scenario())


def test_sleep_until_refuses_a_naive_instant() -> None:
    clock = FakeClock(START)
    with pytest.raises(ValueError, match="aware"):
        asyncio.run(clock.sleep_until(datetime(2026, 3, 8, 7, 0)))


def test_system_clock_now_is_aware_utc() -> None:
    now = SystemClock().now()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)


def test_system_clock_sleep_until_a_past_instant_returns_at_once() -> None:
    clock = SystemClock()
    past = datetime(2000, 1, 1, tzinfo=UTC)
    asyncio.run(asyncio.wait_for(clock.sleep_until(past), timeout=1))


def test_system_clock_sleep_is_cut_short_by_the_wake_event() -> None:
    clock = SystemClock()

    async def scenario() -> None:
        wake = asyncio.Event()
        far = clock.now() + timedelta(days=365)
        sleeper = asyncio.create_task(clock.sleep_until(far, wake))
        await asyncio.sleep(0)
        assert not sleeper.done()
        wake.set()
        await asyncio.wait_for(sleeper, timeout=1)

    asyncio.run(scenario())


def test_system_clock_refuses_a_naive_instant() -> None:
    with pytest.raises(ValueError, match="aware"):
        asyncio.run(SystemClock().sleep_until(datetime(2026, 1, 1)))
