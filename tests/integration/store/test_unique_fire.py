"""Exactly-once firing: one execution per (schedule, nominal instant) for schedule fires."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine

from tickwork.errors import Conflict
from tickwork.store.errors import translated_errors

from .helpers import T0, insert_execution, insert_schedule


def test_a_second_schedule_fire_for_the_same_instant_is_refused(store_engine: Engine) -> None:
    with store_engine.begin() as connection:
        schedule_id = insert_schedule(connection)
        insert_execution(connection, schedule_id, scheduled_for=T0)

    with (
        pytest.raises(Conflict) as refused,
        translated_errors(),
        store_engine.begin() as connection,
    ):
        insert_execution(connection, schedule_id, scheduled_for=T0)

    assert refused.value.constraint == "uq_executions_schedule_fire"


def test_the_same_instant_in_another_offset_is_the_same_fire(store_engine: Engine) -> None:
    with store_engine.begin() as connection:
        schedule_id = insert_schedule(connection)
        insert_execution(connection, schedule_id, scheduled_for=T0)

    same_instant = T0.astimezone(ZoneInfo("Asia/Tokyo"))
    with pytest.raises(Conflict), translated_errors(), store_engine.begin() as connection:
        insert_execution(connection, schedule_id, scheduled_for=same_instant)


@pytest.mark.parametrize("trigger", ["manual", "backfill", "retry"])
def test_other_triggers_may_repeat_a_fired_instant(store_engine: Engine, trigger: str) -> None:
    with store_engine.begin() as connection:
        schedule_id = insert_schedule(connection)
        insert_execution(connection, schedule_id, scheduled_for=T0)
        insert_execution(connection, schedule_id, trigger=trigger, scheduled_for=T0)
        insert_execution(connection, schedule_id, trigger=trigger, scheduled_for=T0)


def test_other_instants_and_other_schedules_fire_freely(store_engine: Engine) -> None:
    with store_engine.begin() as connection:
        first = insert_schedule(connection, "first")
        second = insert_schedule(connection, "second")
        insert_execution(connection, first, scheduled_for=T0)
        insert_execution(connection, first, scheduled_for=T0 + timedelta(microseconds=1))
        insert_execution(connection, second, scheduled_for=T0)


def test_an_idempotency_key_starts_one_manual_run_per_schedule(store_engine: Engine) -> None:
    with store_engine.begin() as connection:
        first = insert_schedule(connection, "first")
        second = insert_schedule(connection, "second")
        insert_execution(connection, first, trigger="manual", idempotency_key="k1")
        insert_execution(connection, second, trigger="manual", idempotency_key="k1")

    with (
        pytest.raises(Conflict) as refused,
        translated_errors(),
        store_engine.begin() as connection,
    ):
        insert_execution(connection, first, trigger="manual", idempotency_key="k1")
    assert refused.value.constraint == "uq_executions_schedule_idempotency"


def test_an_idempotency_key_starts_one_run_per_workflow_without_schedule(
    store_engine: Engine,
) -> None:
    with store_engine.begin() as connection:
        insert_execution(
            connection, None, trigger="manual", workflow_name="report", idempotency_key="k1"
        )
        insert_execution(
            connection, None, trigger="manual", workflow_name="other", idempotency_key="k1"
        )

    with (
        pytest.raises(Conflict) as refused,
        translated_errors(),
        store_engine.begin() as connection,
    ):
        insert_execution(
            connection, None, trigger="manual", workflow_name="report", idempotency_key="k1"
        )
    assert refused.value.constraint == "uq_executions_workflow_idempotency"
