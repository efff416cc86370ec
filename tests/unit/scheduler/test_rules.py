"""rules_from_stored: a validated, stored document read back as the rules the loop fires by."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tickwork.schedule.fires import Window
from tickwork.schedule.policies import MisfirePolicy, OverlapPolicy
from tickwork.schedule.rules import ScheduleRules, rules_from_stored
from tickwork.schedule.triggers import AtTrigger, CronTrigger, IntervalTrigger
from tickwork.spec.documents import ScheduleDocument

SCHEDULE_ID = uuid.UUID("01900000-0000-7000-8000-00000000000a")
OTHER_ID = uuid.UUID("01900000-0000-7000-8000-00000000000b")
# An odd creation instant, off every round grid, so anchoring at it is visible.
CREATED_AT = datetime(2026, 6, 1, 12, 7, 13, 500_000, tzinfo=UTC)
ACTION = {"kind": "http", "url": "https://example.internal/hooks/report"}


def stored(**fields: Any) -> dict[str, Any]:
    """The canonical stored form of a valid document (what the service writes)."""
    data: dict[str, Any] = {"name": "report", "trigger": {"cron": "0 * * * *"}, "action": ACTION}
    data.update(fields)
    return ScheduleDocument.from_mapping(data).model_dump(mode="json")


def rules(document: dict[str, Any], schedule_id: uuid.UUID = SCHEDULE_ID) -> ScheduleRules:
    return rules_from_stored(document, schedule_id=schedule_id, created_at=CREATED_AT)


def test_every_firing_field_of_the_document_reaches_the_rules() -> None:
    document = stored(
        trigger={"cron": "30 2 * * 1-5"},
        timezone="Europe/Berlin",
        start_at="2026-06-01T00:00:00+02:00",
        end_at="2026-12-31T23:59:59Z",
        max_runs=50,
        jitter="30s",
        overlap="buffer_all",
        misfire="run_all",
        catchup_window="PT2H",
        priority=5,
        concurrency_key="reports",
        retry={"max_attempts": 7},
        input={"day": "today", "n": 1},
        action=None,
        workflow="send-report",
    )

    assert rules(document) == ScheduleRules(
        trigger=CronTrigger("30 2 * * 1-5", "Europe/Berlin", hash_key=str(SCHEDULE_ID)),
        window=Window(
            start_at=datetime(2026, 5, 31, 22, 0, tzinfo=UTC),
            end_at=datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC),
            max_runs=50,
        ),
        jitter=timedelta(seconds=30),
        overlap=OverlapPolicy.BUFFER_ALL,
        misfire=MisfirePolicy.RUN_ALL,
        catchup_window=timedelta(hours=2),
        priority=5,
        concurrency_key="reports",
        max_attempts=7,
        workflow="send-report",
        input={"day": "today", "n": 1},
    )


def test_a_minimal_document_gets_the_documented_defaults() -> None:
    assert rules(stored()) == ScheduleRules(
        trigger=CronTrigger("0 * * * *", "UTC", hash_key=str(SCHEDULE_ID)),
        window=Window(),
        jitter=timedelta(0),
        overlap=OverlapPolicy.SKIP,
        misfire=MisfirePolicy.RUN_ONCE,
        catchup_window=timedelta(hours=1),
        priority=0,
        concurrency_key=None,
        max_attempts=3,
        workflow=None,
        input={},
    )


def test_a_zero_catchup_window_stays_zero_not_the_default() -> None:
    # "0s" is falsy once parsed: it must not fall back to the 1h default.
    assert rules(stored(catchup_window="0s")).catchup_window == timedelta(0)


def test_the_window_bounds_come_back_in_utc() -> None:
    window = rules(stored(start_at="2026-07-01T09:00:00+02:00")).window
    assert window.start_at == datetime(2026, 7, 1, 7, 0, tzinfo=UTC)
    assert window.start_at.tzinfo is UTC


def test_an_interval_without_anchor_is_anchored_at_creation() -> None:
    found = rules(stored(trigger={"interval": "15m"}))

    assert found.trigger == IntervalTrigger(timedelta(minutes=15), CREATED_AT)
    # The first fire is one interval after creation, not on a round quarter hour.
    assert found.next_fire(CREATED_AT, 0) == CREATED_AT + timedelta(minutes=15)
    assert found.next_fire(CREATED_AT + timedelta(minutes=20), 0) == CREATED_AT + timedelta(
        minutes=30
    )


def test_an_interval_with_an_anchor_keeps_the_anchor_grid() -> None:
    found = rules(stored(trigger={"interval": "1h", "anchor": "2026-01-01T00:30:00+01:00"}))

    anchor = datetime(2025, 12, 31, 23, 30, tzinfo=UTC)
    assert found.trigger == IntervalTrigger(timedelta(hours=1), anchor)
    assert found.next_fire(CREATED_AT, 0) == datetime(2026, 6, 1, 12, 30, tzinfo=UTC)


def test_an_at_trigger_is_its_instant_in_utc() -> None:
    found = rules(stored(trigger={"at": "2026-12-01T09:00:00-05:00"}))

    at = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    assert found.trigger == AtTrigger(at)
    assert found.next_fire(CREATED_AT, 0) == at
    assert found.next_fire(at, 0) is None


def test_h_fields_are_hashed_by_the_schedule_id() -> None:
    document = stored(trigger={"cron": "H H * * *"})
    mine, again, other = rules(document), rules(document), rules(document, OTHER_ID)

    assert mine.trigger == CronTrigger("H H * * *", "UTC", hash_key=str(SCHEDULE_ID))
    # Deterministic for one schedule (every node and restart agrees) ...
    assert mine.next_fire(CREATED_AT, 0) == again.next_fire(CREATED_AT, 0)
    # ... and spread across schedules: these two ids hash to different daily instants.
    assert mine.next_fire(CREATED_AT, 0) != other.next_fire(CREATED_AT, 0)
    expected = CronTrigger("H H * * *", "UTC", hash_key=str(SCHEDULE_ID)).next_after(CREATED_AT)
    assert mine.next_fire(CREATED_AT, 0) == expected


def test_the_window_and_max_runs_bound_next_fire() -> None:
    found = rules(stored(max_runs=2, end_at="2026-06-01T15:00:00Z"))

    assert found.next_fire(CREATED_AT, 0) == datetime(2026, 6, 1, 13, 0, tzinfo=UTC)
    assert found.next_fire(CREATED_AT, 2) is None  # max_runs used up
    assert found.next_fire(datetime(2026, 6, 1, 15, 0, tzinfo=UTC), 0) is None  # end_at reached


def test_timing_changes_with_the_trigger_or_window_only() -> None:
    base = rules(stored())

    assert rules(stored(description="other words", priority=9)).timing() == base.timing()
    assert rules(stored(trigger={"cron": "5 * * * *"})).timing() != base.timing()
    assert rules(stored(timezone="Europe/Berlin")).timing() != base.timing()
    assert rules(stored(max_runs=3)).timing() != base.timing()


def test_schedules_share_a_timing_key_exactly_when_their_instants_are_the_same() -> None:
    base = rules(stored())
    # Another schedule, other words: the same instants.
    assert rules(stored(priority=9, overlap="allow"), OTHER_ID).timing_key == base.timing_key
    for other in (
        stored(trigger={"cron": "5 * * * *"}),
        stored(timezone="Europe/Berlin"),
        stored(max_runs=3),
        stored(start_at="2026-07-01T00:00:00Z"),
        stored(end_at="2026-07-01T00:00:00Z"),
    ):
        assert rules(other).timing_key != base.timing_key
    # H fields hash the schedule id: two schedules on one H expression fire apart.
    hashed = stored(trigger={"cron": "H H * * *"})
    assert rules(hashed).timing_key == rules(hashed).timing_key
    assert rules(hashed).timing_key != rules(hashed, OTHER_ID).timing_key
    # An interval without anchor runs on its creation grid: created apart, apart.
    interval = stored(trigger={"interval": "15m"})
    later = rules_from_stored(
        interval, schedule_id=OTHER_ID, created_at=CREATED_AT + timedelta(seconds=1)
    )
    assert rules(interval).timing_key != later.timing_key
    assert rules(interval).timing_key == rules(interval, OTHER_ID).timing_key


def test_a_document_without_input_gets_an_empty_one_it_cannot_change() -> None:
    found = rules(stored())
    assert found.input == {}
    assert not isinstance(found.input, dict)
