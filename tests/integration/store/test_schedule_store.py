"""The ScheduleStore contract, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine

from tickwork.errors import Conflict, NotFound
from tickwork.schedule.policies import ExecutionStatus, ScheduleState
from tickwork.store.engine import reads_only
from tickwork.store.protocols import NewSchedule, ScheduleStore
from tickwork.store.schedules import SqlScheduleStore

from .helpers import T0, insert_execution

STORE: ScheduleStore = SqlScheduleStore()


def new_schedule(name: str = "nightly", **values: object) -> NewSchedule:
    fields: dict[str, object] = {
        "id": uuid.uuid4(),
        "namespace": "default",
        "name": name,
        "document": {"name": name, "trigger": {"cron": "0 7 * * *"}},
        "trigger_kind": "cron",
        "timezone": "Europe/Berlin",
        "created_at": T0,
        "next_fire_at": T0 + timedelta(hours=1),
    }
    fields.update(values)
    return NewSchedule(**fields)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------
# CRUD


def test_an_inserted_schedule_reads_back_as_stored(store_engine: Engine) -> None:
    schedule = new_schedule(pause_note="note", managed_by="ops.yaml")
    with store_engine.begin() as conn:
        inserted = STORE.insert(conn, schedule)
    with store_engine.connect() as conn:
        by_id = STORE.get(conn, schedule.id)
        by_name = STORE.get_by_name(conn, "default", "nightly")

    assert by_id == by_name == inserted
    assert by_id.document == {"name": "nightly", "trigger": {"cron": "0 7 * * *"}}
    assert by_id.state is ScheduleState.ACTIVE
    assert (by_id.revision, by_id.runs_count, by_id.consecutive_failures) == (1, 0, 0)
    assert by_id.created_at == by_id.updated_at == T0
    assert by_id.next_fire_at == T0 + timedelta(hours=1)
    assert by_id.next_fire_at.tzinfo is UTC
    assert (by_id.pause_note, by_id.managed_by, by_id.last_fired_at) == ("note", "ops.yaml", None)


def test_a_taken_name_in_the_namespace_is_a_conflict(store_engine: Engine) -> None:
    with store_engine.begin() as conn:
        STORE.insert(conn, new_schedule())

    with pytest.raises(Conflict) as refused, store_engine.begin() as conn:
        STORE.insert(conn, new_schedule())

    assert refused.value.constraint == "uq_schedules_namespace_name"


def test_the_same_name_in_another_namespace_is_another_schedule(store_engine: Engine) -> None:
    with store_engine.begin() as conn:
        STORE.insert(conn, new_schedule())
        STORE.insert(conn, new_schedule(namespace="team-b"))
        names = [(s.namespace, s.name) for s in STORE.list_all(conn)]
        in_b = STORE.list_all(conn, namespace="team-b")

    assert names == [("default", "nightly"), ("team-b", "nightly")]
    assert [s.namespace for s in in_b] == ["team-b"]


def test_missing_schedules_are_not_found(store_engine: Engine) -> None:
    missing = uuid.uuid4()
    with store_engine.begin() as conn:
        with pytest.raises(NotFound):
            STORE.get(conn, missing)
        with pytest.raises(NotFound):
            STORE.get_by_name(conn, "default", "nope")
        with pytest.raises(NotFound):
            STORE.delete(conn, missing)


def test_a_schedule_reads_with_its_newest_run_that_ran(store_engine: Engine) -> None:
    schedule = new_schedule()
    with store_engine.begin() as conn:
        STORE.insert(conn, schedule)
        alone = STORE.get_with_last_run(conn, schedule.id)
        insert_execution(conn, schedule.id, status="failed", scheduled_for=T0)
        newest = insert_execution(
            conn, schedule.id, status="succeeded", scheduled_for=T0 + timedelta(minutes=1)
        )
        for later, status in enumerate(("skipped", "missed"), start=2):
            insert_execution(
                conn, schedule.id, status=status, scheduled_for=T0 + timedelta(minutes=later)
            )
        other = STORE.insert(conn, new_schedule("other"))
        insert_execution(conn, other.id, scheduled_for=T0 + timedelta(hours=1))
    with reads_only(store_engine).connect() as conn:
        stored = STORE.get(conn, schedule.id)
        record, last = STORE.get_with_last_run(conn, schedule.id)
        with pytest.raises(NotFound):
            STORE.get_with_last_run(conn, uuid.uuid4())

    assert alone == (stored, None)
    assert record == stored
    assert last is not None
    assert (last.id, last.status, last.scheduled_for) == (
        newest,
        ExecutionStatus.SUCCEEDED,
        T0 + timedelta(minutes=1),
    )


def test_list_is_ordered_by_namespace_then_name(store_engine: Engine) -> None:
    with store_engine.begin() as conn:
        for namespace, name in [("b", "x"), ("a", "z"), ("a", "y")]:
            STORE.insert(conn, new_schedule(name, namespace=namespace))
        listed = [(s.namespace, s.name) for s in STORE.list_all(conn)]

    assert listed == [("a", "y"), ("a", "z"), ("b", "x")]


def test_an_update_writes_the_changes_and_bumps_the_revision(store_engine: Engine) -> None:
    later = T0 + timedelta(minutes=5)
    with store_engine.begin() as conn:
        stored = STORE.insert(conn, new_schedule())
        changed = dataclasses.replace(
            stored,
            document={"name": "nightly", "trigger": {"every": "1h"}},
            trigger_kind="interval",
            state=ScheduleState.PAUSED,
            pause_note="maintenance",
            next_fire_at=None,
        )
        updated = STORE.update(conn, changed, later)
    with store_engine.connect() as conn:
        read = STORE.get(conn, stored.id)

    assert read == updated
    assert read.revision == 2
    assert read.updated_at == later and read.created_at == T0
    assert read.document == {"name": "nightly", "trigger": {"every": "1h"}}
    assert (read.trigger_kind, read.state, read.pause_note) == ("interval", "paused", "maintenance")
    assert read.next_fire_at is None


def test_an_update_from_a_stale_revision_is_a_conflict(store_engine: Engine) -> None:
    with store_engine.begin() as conn:
        stored = STORE.insert(conn, new_schedule())
        STORE.update(conn, dataclasses.replace(stored, timezone="UTC"), T0)

    with pytest.raises(Conflict) as refused, store_engine.begin() as conn:
        STORE.update(conn, dataclasses.replace(stored, timezone="Asia/Tokyo"), T0)

    assert refused.value.constraint == "revision"
    with store_engine.connect() as conn:
        assert STORE.get(conn, stored.id).timezone == "UTC"


def test_updating_a_deleted_schedule_is_not_found(store_engine: Engine) -> None:
    with store_engine.begin() as conn:
        stored = STORE.insert(conn, new_schedule())
        STORE.delete(conn, stored.id)
        with pytest.raises(NotFound):
            STORE.update(conn, stored, T0)


def test_a_deleted_schedule_is_gone(store_engine: Engine) -> None:
    with store_engine.begin() as conn:
        stored = STORE.insert(conn, new_schedule())
        STORE.insert(conn, new_schedule("other"))
        STORE.delete(conn, stored.id)
        with pytest.raises(NotFound):
            STORE.get(conn, stored.id)
        assert [s.name for s in STORE.list_all(conn)] == ["other"]


# --------------------------------------------------------------------------------------
# Due schedules


def test_due_returns_active_schedules_at_or_before_now_soonest_first(
    store_engine: Engine,
) -> None:
    now = T0 + timedelta(hours=1)
    with store_engine.begin() as conn:
        for name, offset, state in [
            ("late", timedelta(minutes=-1), ScheduleState.ACTIVE),
            ("exactly-now", timedelta(0), ScheduleState.ACTIVE),
            ("earliest", timedelta(minutes=-30), ScheduleState.ACTIVE),
            ("future", timedelta(microseconds=1), ScheduleState.ACTIVE),
            ("paused", timedelta(minutes=-40), ScheduleState.PAUSED),
            ("completed", timedelta(minutes=-40), ScheduleState.COMPLETED),
        ]:
            STORE.insert(conn, new_schedule(name, next_fire_at=now + offset, state=state))
        STORE.insert(conn, new_schedule("never", next_fire_at=None))

        due = [s.name for s in STORE.due(conn, now, limit=10)]

    assert due == ["earliest", "late", "exactly-now"]


def test_due_compares_instants_whatever_the_offset_they_were_written_with(
    store_engine: Engine,
) -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    with store_engine.begin() as conn:
        STORE.insert(conn, new_schedule("b", next_fire_at=(T0 + timedelta(minutes=1))))
        STORE.insert(conn, new_schedule("a", next_fire_at=T0.astimezone(tokyo)))

        due = [s.name for s in STORE.due(conn, T0.astimezone(tokyo), limit=10)]
        both = [s.name for s in STORE.due(conn, T0 + timedelta(minutes=1), limit=10)]

    assert due == ["a"]
    assert both == ["a", "b"]


def test_due_returns_at_most_limit_schedules_the_soonest(store_engine: Engine) -> None:
    with store_engine.begin() as conn:
        for minute in [5, 1, 4, 2, 3]:
            STORE.insert(
                conn, new_schedule(f"m{minute}", next_fire_at=T0 + timedelta(minutes=minute))
            )
        due = [s.name for s in STORE.due(conn, T0 + timedelta(hours=1), limit=3)]

    assert due == ["m1", "m2", "m3"]


def test_next_due_at_is_the_earliest_next_fire_of_active_schedules(store_engine: Engine) -> None:
    with store_engine.begin() as conn:
        assert STORE.next_due_at(conn) is None
        STORE.insert(conn, new_schedule("never", next_fire_at=None))
        assert STORE.next_due_at(conn) is None
        STORE.insert(conn, new_schedule("later", next_fire_at=T0 + timedelta(hours=2)))
        STORE.insert(conn, new_schedule("soon", next_fire_at=T0 + timedelta(hours=1)))
        STORE.insert(conn, new_schedule("paused", next_fire_at=T0, state=ScheduleState.PAUSED))

        earliest = STORE.next_due_at(conn)

    assert earliest == T0 + timedelta(hours=1)
    assert earliest is not None and earliest.tzinfo is UTC
