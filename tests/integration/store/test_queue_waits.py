"""Runs held by a concurrency key wait for a run of their key to end, not for the clock."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine

from tickwork.schedule.policies import ExecutionStatus
from tickwork.store.executions import SqlExecutionStore
from tickwork.store.queue import SqlQueueStore

from .helpers import T0, insert_execution, insert_schedule

QUEUE = SqlQueueStore()
RUNS = SqlExecutionStore()


def test_a_concurrency_waiter_stays_waiting_until_its_key_frees(store_engine: Engine) -> None:
    with store_engine.begin() as conn:
        schedule_id = insert_schedule(conn)
        first, second = (
            insert_execution(
                conn,
                schedule_id,
                scheduled_for=T0 + timedelta(minutes=i),
                not_before=T0,
                concurrency_key="warehouse",
            )
            for i in range(2)
        )
        claimed = QUEUE.claim(
            conn, now=T0, worker_id="w1", lease_until=T0 + timedelta(seconds=30), limit=2
        )
    assert [run.execution.id for run in claimed] == [first]

    later = T0 + timedelta(minutes=5)
    with store_engine.begin() as conn:
        assert QUEUE.promote_due(conn, later) == 0  # the clock does not release it
        held = RUNS.get(conn, second)
    assert (held.status, held.reason, held.not_before) == (
        ExecutionStatus.WAITING,
        "concurrency",
        None,
    )

    with store_engine.begin() as conn:
        assert QUEUE.cancel(conn, first, later, "cancelled_by_user") is not None
        released = RUNS.get(conn, second)
    assert (released.status, released.reason) == (ExecutionStatus.QUEUED, None)
