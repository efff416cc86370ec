"""The ExecutionStore contract, on SQLite and PostgreSQL: exactly-once fires above all."""

from __future__ import annotations

import threading
import uuid
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tickwork.errors import Conflict, NotFound
from tickwork.schedule.misfire import FireReason, MissedRange
from tickwork.schedule.policies import ExecutionStatus, ExecutionTrigger, ScheduleState
from tickwork.store.engine import create_store_engine
from tickwork.store.executions import SqlExecutionStore
from tickwork.store.protocols import ActiveCounts, ExecutionStore, NewExecution, ScheduleAdvance
from tickwork.store.tables import executions, missed_ranges, schedules

from .helpers import T0, insert_execution, insert_schedule

STORE: ExecutionStore = SqlExecutionStore()


def fire(
    schedule_id: uuid.UUID,
    scheduled_for: datetime = T0,
    *,
    trigger: ExecutionTrigger = ExecutionTrigger.SCHEDULE,
    status: ExecutionStatus = ExecutionStatus.QUEUED,
) -> NewExecution:
    return NewExecution(
        id=uuid.uuid4(),
        schedule_id=schedule_id,
        schedule_name="nightly",
        namespace="default",
        trigger=trigger,
        scheduled_for=scheduled_for,
        status=status,
        created_at=T0,
        queued_at=T0,
        input={"n": 1},
    )


def fires_every_minute(schedule_id: uuid.UUID, count: int) -> list[NewExecution]:
    return [fire(schedule_id, T0 + timedelta(minutes=i)) for i in range(count)]


def count_rows(engine: Engine, table: sa.Table = executions) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


@pytest.fixture
def schedule_id(store_engine: Engine) -> uuid.UUID:
    with store_engine.begin() as conn:
        return insert_schedule(conn, next_fire_at=T0)


# --------------------------------------------------------------------------------------
# record_fires: exactly once


def test_recorded_fires_read_back_as_given(store_engine: Engine, schedule_id: uuid.UUID) -> None:
    new = fire(schedule_id)
    with store_engine.begin() as conn:
        assert STORE.record_fires(conn, [new]) == 1
        stored = STORE.get(conn, new.id)

    assert stored.schedule_id == schedule_id
    assert stored.trigger is ExecutionTrigger.SCHEDULE
    assert stored.status is ExecutionStatus.QUEUED
    assert stored.scheduled_for == T0 and stored.queued_at == T0
    assert stored.input == {"n": 1}
    assert (stored.attempt, stored.max_attempts, stored.started_at) == (1, 1, None)


def test_recording_the_same_fires_twice_inserts_them_once(
    store_engine: Engine, schedule_id: uuid.UUID
) -> None:
    batch = fires_every_minute(schedule_id, 5)
    with store_engine.begin() as conn:
        assert STORE.record_fires(conn, batch) == 5
    with store_engine.begin() as conn:
        # new ids, same instants: what a restarted scheduler would plan again
        again = [fire(schedule_id, f.scheduled_for) for f in batch]
        assert STORE.record_fires(conn, again) == 0
        assert STORE.record_fires(conn, batch) == 0

    assert count_rows(store_engine) == 5


def test_a_batch_mixing_new_and_fired_instants_inserts_only_the_new(
    store_engine: Engine, schedule_id: uuid.UUID
) -> None:
    with store_engine.begin() as conn:
        STORE.record_fires(conn, fires_every_minute(schedule_id, 3))  # minutes 0, 1, 2
    with store_engine.begin() as conn:
        inserted = STORE.record_fires(conn, fires_every_minute(schedule_id, 5))  # 0..4
        stored = STORE.list_for_schedule(conn, schedule_id)

    assert inserted == 2
    assert [e.scheduled_for for e in stored] == [
        T0 + timedelta(minutes=m) for m in range(4, -1, -1)
    ]


def test_duplicates_within_one_batch_insert_once(
    store_engine: Engine, schedule_id: uuid.UUID
) -> None:
    with store_engine.begin() as conn:
        assert STORE.record_fires(conn, [fire(schedule_id), fire(schedule_id)]) == 1

    assert count_rows(store_engine) == 1


def test_manual_runs_for_a_fired_instant_are_not_deduplicated(
    store_engine: Engine, schedule_id: uuid.UUID
) -> None:
    manual = ExecutionTrigger.MANUAL
    with store_engine.begin() as conn:
        assert STORE.record_fires(conn, [fire(schedule_id)]) == 1
        assert STORE.record_fires(conn, [fire(schedule_id, trigger=manual)]) == 1
        assert STORE.record_fires(conn, [fire(schedule_id, trigger=manual)]) == 1
        assert STORE.record_fires(conn, [fire(schedule_id)]) == 0

    assert count_rows(store_engine) == 3


def test_each_fire_keeps_its_own_input_whether_shared_or_not(
    store_engine: Engine, schedule_id: uuid.UUID
) -> None:
    shared = {"report": "daily"}
    batch = [
        *(replace(f, input=shared) for f in fires_every_minute(schedule_id, 3)),
        replace(fire(schedule_id, T0 + timedelta(minutes=3)), input={"report": "weekly"}),
        replace(fire(schedule_id, T0 + timedelta(minutes=4)), input={}),
    ]
    with store_engine.begin() as conn:
        assert STORE.record_fires(conn, batch) == 5
        stored = {e.id: e.input for e in STORE.list_for_schedule(conn, schedule_id)}

    assert stored == {f.id: f.input for f in batch}


def test_an_inserted_run_comes_back_as_stored(store_engine: Engine, schedule_id: uuid.UUID) -> None:
    run = fire(schedule_id, trigger=ExecutionTrigger.MANUAL)
    with store_engine.begin() as conn:
        inserted = STORE.insert_run(conn, run)
        stored = STORE.get(conn, run.id)

    assert inserted == stored
    assert (inserted.trigger, inserted.attempt, inserted.input) == (
        ExecutionTrigger.MANUAL,
        1,
        {"n": 1},
    )
    with pytest.raises(Conflict), store_engine.begin() as conn:
        STORE.insert_run(conn, fire(uuid.uuid4(), trigger=ExecutionTrigger.MANUAL))


def test_an_empty_batch_records_nothing(store_engine: Engine) -> None:
    with store_engine.begin() as conn:
        assert STORE.record_fires(conn, []) == 0


def test_fires_of_an_unknown_schedule_are_a_conflict(store_engine: Engine) -> None:
    with pytest.raises(Conflict), store_engine.begin() as conn:
        STORE.record_fires(conn, [fire(uuid.uuid4())])


def test_a_large_batch_is_recorded_whole(store_engine: Engine, schedule_id: uuid.UUID) -> None:
    with store_engine.begin() as conn:
        assert STORE.record_fires(conn, fires_every_minute(schedule_id, 2500)) == 2500
    with store_engine.begin() as conn:
        assert STORE.record_fires(conn, fires_every_minute(schedule_id, 2501)) == 1


@pytest.mark.postgres
def test_racing_recorders_on_postgres_insert_each_fire_once(pg_database_url: str) -> None:
    engine = create_store_engine(pg_database_url)
    try:
        with engine.begin() as conn:
            schedule_id = insert_schedule(conn)
        instants = [T0 + timedelta(minutes=i) for i in range(200)]
        barrier = threading.Barrier(2, timeout=30)
        inserted: list[int] = []
        errors: list[BaseException] = []

        def record() -> None:
            try:
                batch = [fire(schedule_id, instant) for instant in instants]
                with engine.connect() as conn, conn.begin():
                    conn.exec_driver_sql("SELECT 1")  # connected before the race starts
                    barrier.wait()
                    inserted.append(STORE.record_fires(conn, batch))
            except BaseException as exc:  # reported by the main thread
                errors.append(exc)

        threads = [threading.Thread(target=record) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

        assert not errors
        assert sum(inserted) == 200
        assert count_rows(engine) == 200
    finally:
        engine.dispose()


# --------------------------------------------------------------------------------------
# advance_schedule: in the fires' transaction


def schedule_row(engine: Engine, schedule_id: uuid.UUID) -> sa.RowMapping:
    with engine.connect() as conn:
        query = sa.select(schedules).where(schedules.c.id == schedule_id)
        return conn.execute(query).mappings().one()


def test_advance_schedules_moves_each_schedule_to_its_own_place(store_engine: Engine) -> None:
    with store_engine.begin() as conn:
        ongoing = insert_schedule(conn, "ongoing", next_fire_at=T0)
        finished = insert_schedule(conn, "finished", next_fire_at=T0)
        untouched = insert_schedule(conn, "untouched", next_fire_at=T0)
        STORE.advance_schedules(
            conn,
            [
                ScheduleAdvance(
                    schedule_id=ongoing,
                    next_fire_at=T0 + timedelta(hours=1),
                    last_fired_at=T0,
                    runs_count=8,
                    state=ScheduleState.ACTIVE,
                ),
                ScheduleAdvance(
                    schedule_id=finished,
                    next_fire_at=None,
                    last_fired_at=T0,
                    runs_count=1,
                    state=ScheduleState.COMPLETED,
                ),
            ],
        )

    def where(schedule_id: uuid.UUID) -> tuple[object, ...]:
        row = schedule_row(store_engine, schedule_id)
        return (row["next_fire_at"], row["last_fired_at"], row["runs_count"], row["state"])

    assert where(ongoing) == (T0 + timedelta(hours=1), T0, 8, "active")
    assert where(finished) == (None, T0, 1, "completed")
    assert where(untouched) == (T0, None, 0, "active")


def test_fires_and_advance_commit_together(store_engine: Engine, schedule_id: uuid.UUID) -> None:
    with store_engine.begin() as conn:
        STORE.record_fires(conn, fires_every_minute(schedule_id, 3))
        STORE.advance_schedule(
            conn,
            schedule_id,
            next_fire_at=T0 + timedelta(minutes=3),
            last_fired_at=T0 + timedelta(minutes=2),
            runs_count=3,
            state=ScheduleState.ACTIVE,
        )

    row = schedule_row(store_engine, schedule_id)
    assert row["next_fire_at"] == T0 + timedelta(minutes=3)
    assert row["last_fired_at"] == T0 + timedelta(minutes=2)
    assert (row["runs_count"], row["state"], row["revision"]) == (3, "active", 1)
    assert count_rows(store_engine) == 3


def test_fires_and_advance_roll_back_together(store_engine: Engine, schedule_id: uuid.UUID) -> None:
    class Crash(Exception):
        pass

    def fire_advance_and_crash() -> None:
        with store_engine.begin() as conn:
            assert STORE.record_fires(conn, fires_every_minute(schedule_id, 3)) == 3
            STORE.advance_schedule(
                conn,
                schedule_id,
                next_fire_at=None,
                last_fired_at=T0 + timedelta(minutes=2),
                runs_count=3,
                state=ScheduleState.COMPLETED,
            )
            raise Crash

    with pytest.raises(Crash):
        fire_advance_and_crash()

    row = schedule_row(store_engine, schedule_id)
    assert (row["next_fire_at"], row["last_fired_at"], row["runs_count"]) == (T0, None, 0)
    assert row["state"] == "active"
    assert count_rows(store_engine) == 0
    with store_engine.begin() as conn:  # and the fires can still be recorded afterwards
        assert STORE.record_fires(conn, fires_every_minute(schedule_id, 3)) == 3


def test_a_failed_advance_takes_the_fires_with_it(
    store_engine: Engine, schedule_id: uuid.UUID
) -> None:
    def fire_and_advance_from_a_stale_read() -> None:
        with store_engine.begin() as conn:
            STORE.record_fires(conn, fires_every_minute(schedule_id, 3))
            STORE.advance_schedule(
                conn,
                schedule_id,
                next_fire_at=T0,
                last_fired_at=T0,
                runs_count=3,
                state=ScheduleState.ACTIVE,
                expected_revision=7,  # edited since the loop read it
            )

    with pytest.raises(Conflict):
        fire_and_advance_from_a_stale_read()

    assert count_rows(store_engine) == 0


def test_advancing_at_a_stale_revision_is_a_conflict(
    store_engine: Engine, schedule_id: uuid.UUID
) -> None:
    def advance(revision: int) -> None:
        with store_engine.begin() as conn:
            STORE.advance_schedule(
                conn,
                schedule_id,
                next_fire_at=T0 + timedelta(days=1),
                last_fired_at=T0,
                runs_count=1,
                state=ScheduleState.ACTIVE,
                expected_revision=revision,
            )

    with pytest.raises(Conflict) as refused:
        advance(2)
    assert refused.value.constraint == "revision"
    advance(1)
    assert schedule_row(store_engine, schedule_id)["runs_count"] == 1


def test_advancing_a_missing_schedule_is_not_found(store_engine: Engine) -> None:
    for revision in (None, 1):
        with pytest.raises(NotFound), store_engine.begin() as conn:
            STORE.advance_schedule(
                conn,
                uuid.uuid4(),
                next_fire_at=None,
                last_fired_at=None,
                runs_count=0,
                state=ScheduleState.ACTIVE,
                expected_revision=revision,
            )


# --------------------------------------------------------------------------------------
# Missed ranges, reads, counts


def test_a_missed_range_is_one_row(store_engine: Engine, schedule_id: uuid.UUID) -> None:
    missed = MissedRange(
        first=T0, last=T0 + timedelta(hours=9), count=10, reason=FireReason.CATCHUP_WINDOW
    )
    range_id = uuid.uuid4()
    with store_engine.begin() as conn:
        STORE.record_missed_range(conn, schedule_id, missed, range_id=range_id, created_at=T0)
        row = conn.execute(sa.select(missed_ranges)).mappings().one()

    assert row["id"] == range_id and row["schedule_id"] == schedule_id
    assert (row["first_instant"], row["last_instant"]) == (missed.first, missed.last)
    assert (row["count"], row["reason"]) == (10, str(FireReason.CATCHUP_WINDOW))


def test_a_missed_range_of_an_unknown_schedule_is_a_conflict(store_engine: Engine) -> None:
    missed = MissedRange(first=T0, last=T0, count=1, reason=FireReason.CATCHUP_WINDOW)
    with pytest.raises(Conflict), store_engine.begin() as conn:
        STORE.record_missed_range(conn, uuid.uuid4(), missed, range_id=uuid.uuid4(), created_at=T0)


def test_a_missing_execution_is_not_found(store_engine: Engine) -> None:
    with pytest.raises(NotFound), store_engine.connect() as conn:
        STORE.get(conn, uuid.uuid4())


def test_list_for_schedule_is_newest_first_filtered_and_limited(
    store_engine: Engine, schedule_id: uuid.UUID
) -> None:
    statuses = [
        ExecutionStatus.SUCCEEDED,
        ExecutionStatus.FAILED,
        ExecutionStatus.SUCCEEDED,
        ExecutionStatus.QUEUED,
    ]
    with store_engine.begin() as conn:
        other = insert_schedule(conn, "other")
        STORE.record_fires(
            conn,
            [fire(schedule_id, T0 + timedelta(minutes=i), status=s) for i, s in enumerate(statuses)]
            + [fire(other, T0 + timedelta(hours=1))],
        )
        every = STORE.list_for_schedule(conn, schedule_id)
        newest_two = STORE.list_for_schedule(conn, schedule_id, limit=2)
        succeeded = STORE.list_for_schedule(conn, schedule_id, statuses=[ExecutionStatus.SUCCEEDED])
        nothing = STORE.list_for_schedule(conn, uuid.uuid4())

    minutes = [int((e.scheduled_for - T0) / timedelta(minutes=1)) for e in every]
    assert minutes == [3, 2, 1, 0]
    assert [e.scheduled_for for e in newest_two] == [e.scheduled_for for e in every[:2]]
    assert [int((e.scheduled_for - T0) / timedelta(minutes=1)) for e in succeeded] == [2, 0]
    assert nothing == []


def test_count_active_counts_queued_and_running_apart_from_buffered(
    store_engine: Engine, schedule_id: uuid.UUID
) -> None:
    with store_engine.begin() as conn:
        assert STORE.count_active(conn, schedule_id) == ActiveCounts(active=0, buffered=0)
        for i, status in enumerate(
            ["queued", "running", "running", "buffered", "succeeded", "failed", "skipped"]
        ):
            insert_execution(
                conn, schedule_id, scheduled_for=T0 + timedelta(minutes=i), status=status
            )
        other = insert_schedule(conn, "other")
        insert_execution(conn, other, status="running")

        counts = STORE.count_active(conn, schedule_id)

    assert (counts.active, counts.buffered) == (3, 1)


def test_count_active_many_counts_each_schedule_and_zero_for_the_idle(
    store_engine: Engine, schedule_id: uuid.UUID
) -> None:
    with store_engine.begin() as conn:
        others = [insert_schedule(conn, f"other-{n}") for n in range(3)]
        insert_execution(conn, schedule_id, status="running")
        insert_execution(conn, others[0], status="buffered")
        insert_execution(conn, others[1], status="succeeded")

        counts = STORE.count_active_many(conn, [schedule_id, *others])

    assert counts == {
        schedule_id: ActiveCounts(active=1, buffered=0),
        others[0]: ActiveCounts(active=0, buffered=1),
        others[1]: ActiveCounts(active=0, buffered=0),
        others[2]: ActiveCounts(active=0, buffered=0),
    }
