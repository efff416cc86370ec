"""Several workers on one PostgreSQL store split the queue: every run is executed once."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from tickwork.node import Node
from tickwork.schedule.policies import ExecutionStatus
from tickwork.testing import FakeClock

from .rig import T0, http_schedule, run, settings, settle, statuses
from .sink import serving


@pytest.mark.postgres
def test_two_nodes_share_the_queue_and_run_each_run_once(pg_database_url: str) -> None:
    async def scenario() -> None:
        clock = FakeClock(T0)
        async with serving() as sink:
            nodes = [Node(pg_database_url, clock=clock, worker=settings(slots=7)) for _ in range(2)]
            tasks = [asyncio.create_task(node.run()) for node in nodes]
            for node in nodes:
                await settle(node)
            schedule = nodes[0].schedules.create(http_schedule("shared", sink.url))
            runs = [nodes[0].schedules.trigger_now(schedule.id)[0] for _ in range(60)]
            for _ in range(3):
                for node in nodes:
                    await settle(node)

            keys = Counter(r.headers["Idempotency-Key"] for r in sink.received)
            assert set(keys) == {str(r.id) for r in runs}
            assert max(keys.values()) == 1
            assert statuses(nodes[0].engine) == {ExecutionStatus.SUCCEEDED.value: 60}
            for node in nodes:
                node.stop()
            await asyncio.gather(*tasks)
            for node in nodes:
                node.close()

    run(scenario)
