"""While runs wait for slots, the worker claims them in batches, not one per finished run."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from tickwork.node import Node
from tickwork.schedule.policies import ExecutionStatus
from tickwork.store.queue import ClaimedRun, SqlQueueStore
from tickwork.testing import FakeClock
from tickwork.worker import loop

from . import targets
from .rig import T0, get_run, python_schedule, run, settings, settle

SLOTS = 8  # a claim comes once a quarter of them, 2, is free


async def until(check: Callable[[], bool], what: str) -> None:
    for _ in range(2000):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never: {what}")


def test_a_freed_slot_waits_for_a_batch_before_the_next_claim(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    claims: list[int] = []
    claim = SqlQueueStore.claim

    def counted(self: SqlQueueStore, *args: Any, **kwargs: Any) -> list[ClaimedRun]:
        claimed = claim(self, *args, **kwargs)
        if claimed:
            claims.append(len(claimed))
        return claimed

    monkeypatch.setattr(SqlQueueStore, "claim", counted)
    monkeypatch.setattr(loop, "CLAIM_LINGER", timedelta(hours=1))  # only a batch claims here
    targets.RELEASES.clear()

    async def scenario() -> None:
        clock = FakeClock(T0)
        queued = Node(store_url, clock=clock)  # queue every run before the worker starts
        runs = {}
        for n in range(12):
            document = python_schedule(f"held-{n}", f"{targets.__name__}:held", input={"n": n})
            schedule = queued.schedules.create(document)
            runs[n] = queued.schedules.trigger_now(schedule.id)[0].id
        queued.close()

        def release(n: int) -> None:
            targets.RELEASES.setdefault(n, asyncio.Event()).set()

        # Not running_node: it waits for an idle worker, and these runs hold their slots.
        node = Node(store_url, clock=clock, worker=settings(slots=SLOTS))
        task = asyncio.create_task(node.run())
        try:

            def status(n: int) -> ExecutionStatus:
                return get_run(node, runs[n]).status

            await until(lambda: node.worker.running == SLOTS, "every slot taken")
            running = [n for n in runs if status(n) is ExecutionStatus.RUNNING]
            assert len(running) == SLOTS
            assert claims == [SLOTS]

            release(running[0])
            await until(lambda: status(running[0]) is ExecutionStatus.SUCCEEDED, "a run done")
            await asyncio.sleep(0.1)  # room for a claim that should not come
            assert claims == [SLOTS]  # one free slot of eight: no claim yet
            assert node.worker.running == SLOTS - 1

            release(running[1])
            await until(lambda: node.worker.running == SLOTS, "two runs claimed together")
            assert claims == [SLOTS, 2]

            for n in runs:
                release(n)
            await until(
                lambda: all(status(n) is ExecutionStatus.SUCCEEDED for n in runs), "all done"
            )
            await settle(node)
        finally:
            for n in runs:
                release(n)
            node.stop()
            await task
            node.close()
        assert sum(claims) == len(runs)

    run(scenario)
