"""Cross-node wake-ups: a committed change reaches every listener; a rolled-back one none."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tickwork.scheduler.loop import Scheduler
from tickwork.service.schedules import ScheduleService
from tickwork.store.changes import ChangeListener, announce_change
from tickwork.store.engine import create_store_engine
from tickwork.testing import FakeClock

pytestmark = pytest.mark.postgres
DELIVERY_S = 10.0
"""Deadline for a notification to arrive (it normally takes milliseconds)."""


def test_a_committed_change_wakes_the_listener_and_a_rolled_back_one_does_not(
    pg_database_url: str,
) -> None:
    engine = create_store_engine(pg_database_url)
    heard = threading.Semaphore(0)
    listening = threading.Event()

    def on_change() -> None:
        heard.release()

    listener = ChangeListener(engine.url, on_change)
    listener.start()
    try:
        # The listener has subscribed once a probe notification comes through.
        def probe() -> None:
            while not listening.is_set():
                with engine.begin() as conn:
                    announce_change(conn)
                if heard.acquire(timeout=0.2):
                    listening.set()

        probe()
        with engine.connect() as conn, conn.begin() as transaction:
            announce_change(conn)
            transaction.rollback()
        with engine.begin() as conn:
            announce_change(conn)

        assert heard.acquire(timeout=DELIVERY_S)  # the committed one
        assert not heard.acquire(timeout=0.5)  # and nothing for the rolled-back one
    finally:
        listener.stop()
        engine.dispose()


def test_a_schedule_created_on_another_node_wakes_a_sleeping_loop(pg_database_url: str) -> None:
    clock = FakeClock(datetime(2026, 6, 1, 12, 0, tzinfo=UTC))
    loop_engine = create_store_engine(pg_database_url)
    other_engine = create_store_engine(pg_database_url)
    scheduler = Scheduler(loop_engine, clock)
    # The other node's service knows nothing of this loop: only NOTIFY can wake it.
    other_node = ScheduleService(other_engine, clock)

    async def scenario() -> datetime | None:
        running = asyncio.create_task(scheduler.run())
        try:
            await scheduler.until_idle()
            assert scheduler.sleeping_until is None  # nothing to fire: asleep until woken
            await asyncio.to_thread(
                other_node.create,
                {
                    "name": "elsewhere",
                    "trigger": {"cron": "30 12 * * *"},
                    "action": {"kind": "shell", "argv": ["true"]},
                },
            )
            deadline = asyncio.get_running_loop().time() + DELIVERY_S
            while scheduler.sleeping_until is None:
                assert asyncio.get_running_loop().time() < deadline, "the loop was not woken"
                await asyncio.sleep(0.01)
            return scheduler.sleeping_until
        finally:
            scheduler.stop()
            await running

    try:
        assert asyncio.run(scenario()) == clock.now() + timedelta(minutes=30)
    finally:
        loop_engine.dispose()
        other_engine.dispose()
    check = create_store_engine(pg_database_url)
    with check.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM schedules")).scalar_one() == 1
    check.dispose()
