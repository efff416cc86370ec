"""The run queue's batched claim and finish, on SQLite and PostgreSQL: what one statement
writes for many runs reads back exactly as the column types store it."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tickwork.schedule.policies import ExecutionStatus
from tickwork.store.executions import execution_from_row
from tickwork.store.queue import FinishedRun, SqlQueueStore, StepRecord
from tickwork.store.tables import executions, schedules, step_results, workflows

from .helpers import T0, insert_execution, insert_schedule

QUEUE = SqlQueueStore()
LEASE = T0 + timedelta(seconds=30)


ACTION = {"kind": "http", "url": "http://example.test/", "body": {"day": "{{ x }}"}}
RETRY = {"max_attempts": 2, "retry_on": ["5xx"], "multiplier": 1.5}
DOCUMENT = {"name": "nightly", "action": ACTION, "timeout": "30s", "retry": RETRY}


def queue_runs(engine: Engine, count: int) -> list[uuid.UUID]:
    with engine.begin() as conn:
        schedule_id = insert_schedule(conn, document=DOCUMENT)
        return [
            insert_execution(
                conn,
                schedule_id,
                scheduled_for=T0 + timedelta(minutes=i),
                input={"n": i},
                max_attempts=3,
            )
            for i in range(count)
        ]


def step(run_id: uuid.UUID, output: str) -> StepRecord:
    return StepRecord(
        execution_id=run_id,
        step="action",
        attempt=1,
        status=ExecutionStatus.SUCCEEDED,
        started_at=T0,
        finished_at=T0 + timedelta(milliseconds=1500),
        status_code=200,
        output=output,
        detail={"url": "http://example.test/", "response_headers": {"X-A": "1"}},
    )


def test_a_claim_returns_the_rows_as_stored_now(store_engine: Engine) -> None:
    ids = queue_runs(store_engine, 3)
    with store_engine.begin() as conn:
        claimed = QUEUE.claim(conn, now=T0, worker_id="w1", lease_until=LEASE, limit=2)
    assert [run.execution.id for run in claimed] == ids[:2]
    with store_engine.connect() as conn:
        rows = conn.execute(sa.select(executions).where(executions.c.id.in_(ids[:2])))
        stored = {row["id"]: execution_from_row(row) for row in rows.mappings()}
        revision = conn.execute(sa.select(schedules.c.revision)).scalar_one()
    for run in claimed:
        assert run.execution == stored[run.execution.id]
        assert run.execution.status is ExecutionStatus.RUNNING
        assert (run.execution.worker_id, run.execution.lease_expires_at) == ("w1", LEASE)
        assert run.plan is not None
        assert json.loads(run.plan.action or "") == ACTION
        assert json.loads(run.plan.retry or "") == RETRY
        assert (run.plan.timeout, run.plan.workflow, run.plan.pause_after_failures) == (
            "30s",
            None,
            None,
        )
        assert run.schedule_revision == revision
        assert (run.workflow, run.workflow_version) == (None, None)


def test_a_claim_reads_the_named_workflow_and_equal_actions_as_equal_text(
    store_engine: Engine,
) -> None:
    steps = {"steps": [{"name": "one", "action": ACTION}]}
    with store_engine.begin() as conn:
        conn.execute(
            sa.insert(workflows).values(
                id=uuid.uuid4(),
                namespace="default",
                name="report",
                document=steps,
                created_at=T0,
                updated_at=T0,
            )
        )
        named = insert_schedule(
            conn, "weekly", document={"workflow": "report", "pause_after_failures": 3}
        )
        first = insert_schedule(conn, "first", document={"action": ACTION, "name": "first"})
        second = insert_schedule(conn, "second", document={"name": "second", "action": ACTION})
        insert_execution(conn, named, workflow_name="report")
        insert_execution(conn, first, scheduled_for=T0 + timedelta(minutes=1))
        insert_execution(conn, second, scheduled_for=T0 + timedelta(minutes=2))
        orphan = insert_execution(conn, None, scheduled_for=T0 + timedelta(minutes=3))
    with store_engine.begin() as conn:
        claimed = QUEUE.claim(conn, now=T0, worker_id="w1", lease_until=LEASE, limit=10)
    workflow_run, first_run, second_run, orphan_run = claimed
    assert workflow_run.plan is not None
    assert (workflow_run.plan.action, workflow_run.plan.workflow) == (None, "report")
    assert workflow_run.plan.pause_after_failures == 3
    assert json.loads(workflow_run.workflow or "") == steps
    assert workflow_run.workflow_version == 1
    assert first_run.plan is not None and second_run.plan is not None
    assert first_run.plan == second_run.plan  # one parsed plan serves both schedules
    assert orphan_run.execution.id == orphan
    assert (orphan_run.plan, orphan_run.schedule_revision) == (None, None)


def test_a_finished_batch_records_only_the_runs_the_worker_still_holds(
    store_engine: Engine,
) -> None:
    ids = queue_runs(store_engine, 4)
    with store_engine.begin() as conn:
        QUEUE.claim(conn, now=T0, worker_id="w1", lease_until=LEASE, limit=4)
        # One run was cancelled meanwhile, another taken over by a second worker.
        conn.execute(
            sa.update(executions).where(executions.c.id == ids[2]).values(status="cancelled")
        )
        conn.execute(sa.update(executions).where(executions.c.id == ids[3]).values(worker_id="w2"))
    done = T0 + timedelta(seconds=2)
    retry_at = T0 + timedelta(seconds=9)
    finished = [
        FinishedRun(
            execution_id=ids[0],
            status=ExecutionStatus.SUCCEEDED,
            finished_at=done,
            result={"ok": True, "text": "naïve \x00 bytes", "items": [1, 2.5, None]},
            steps=(step(ids[0], "first\x00line"),),
        ),
        FinishedRun(
            execution_id=ids[1],
            status=ExecutionStatus.RETRYING,
            finished_at=done,
            error="HTTP 503",
            result="a backslash and u0000 as written: \\u0000",
            not_before=retry_at,
            steps=(step(ids[1], "second"),),
        ),
        *(
            FinishedRun(execution_id=i, status=ExecutionStatus.SUCCEEDED, finished_at=done)
            for i in ids[2:]
        ),
    ]
    with store_engine.begin() as conn:
        ended = QUEUE.finish(conn, "w1", finished, done)
    assert ended.recorded == frozenset(ids[:2])

    with store_engine.connect() as conn:
        rows = conn.execute(sa.select(executions).where(executions.c.id.in_(ids))).mappings()
        runs = {row["id"]: execution_from_row(row) for row in rows}
        steps = {
            row["execution_id"]: row for row in conn.execute(sa.select(step_results)).mappings()
        }
    first, second = runs[ids[0]], runs[ids[1]]
    assert (first.status, first.finished_at, first.attempt) == (ExecutionStatus.SUCCEEDED, done, 1)
    assert first.result == {"ok": True, "text": "naïve \ufffd bytes", "items": [1, 2.5, None]}
    assert (first.worker_id, first.lease_expires_at) == (None, None)
    assert (second.status, second.finished_at) == (ExecutionStatus.RETRYING, None)
    assert (second.not_before, second.attempt, second.error) == (retry_at, 2, "HTTP 503")
    assert second.result == "a backslash and u0000 as written: \\u0000"
    assert runs[ids[2]].status is ExecutionStatus.CANCELLED
    assert (runs[ids[3]].status, runs[ids[3]].worker_id) == (ExecutionStatus.RUNNING, "w2")

    assert set(steps) == {ids[0], ids[1]}
    recorded = steps[ids[0]]
    assert (recorded["status"], recorded["status_code"]) == ("succeeded", 200)
    assert (recorded["started_at"], recorded["finished_at"]) == (
        T0,
        T0 + timedelta(milliseconds=1500),
    )
    assert recorded["output"] == "first\ufffdline"
    assert recorded["output_truncated"] is False
    assert recorded["detail"] == {"url": "http://example.test/", "response_headers": {"X-A": "1"}}
    assert recorded["exit_code"] is None


def test_finishing_again_records_nothing_twice(store_engine: Engine) -> None:
    ids = queue_runs(store_engine, 2)
    with store_engine.begin() as conn:
        QUEUE.claim(conn, now=T0, worker_id="w1", lease_until=LEASE, limit=2)
    finished = [
        FinishedRun(
            execution_id=i,
            status=ExecutionStatus.SUCCEEDED,
            finished_at=T0,
            steps=(step(i, "out"),),
        )
        for i in ids
    ]
    with store_engine.begin() as conn:
        assert QUEUE.finish(conn, "w1", finished, T0).recorded == frozenset(ids)
    with store_engine.begin() as conn:
        assert QUEUE.finish(conn, "w1", finished, T0).recorded == frozenset()
    with store_engine.connect() as conn:
        count = conn.execute(sa.select(sa.func.count()).select_from(step_results)).scalar_one()
    assert count == 2
