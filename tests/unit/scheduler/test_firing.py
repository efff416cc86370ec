"""settle(): every instant due by now becomes exactly one row, by the schedule's policies."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tickwork.schedule.fires import iter_nominal_fires
from tickwork.schedule.jitter import jitter_delay
from tickwork.schedule.misfire import FireAction, FireReason, MissedRange, expand
from tickwork.schedule.policies import ExecutionStatus, ExecutionTrigger, ScheduleState
from tickwork.schedule.rules import ScheduleRules, rules_from_stored
from tickwork.scheduler.firing import Settlement, settle, settle_many
from tickwork.spec.documents import ScheduleDocument
from tickwork.store.protocols import ActiveCounts, ScheduleAdvance, ScheduleRecord

QUEUED, BUFFERED = ExecutionStatus.QUEUED, ExecutionStatus.BUFFERED
SKIPPED, MISSED = ExecutionStatus.SKIPPED, ExecutionStatus.MISSED
ACTIVE, PAUSED, COMPLETED = ScheduleState.ACTIVE, ScheduleState.PAUSED, ScheduleState.COMPLETED
IDLE = ActiveCounts(active=0, buffered=0)
BUSY = ActiveCounts(active=1, buffered=0)

SCHEDULE_ID = uuid.UUID("01900000-0000-7000-8000-0000000000aa")
CREATED_AT = datetime(2026, 6, 1, 11, 30, tzinfo=UTC)
ACTION = {"kind": "http", "url": "https://example.internal/hooks/report"}


def at(hhmm: str, second: float = 0) -> datetime:
    hour, minute = hhmm.split(":")
    base = datetime(2026, 6, 1, int(hour), int(minute), tzinfo=UTC)
    return base + timedelta(seconds=second)


def schedule(
    *,
    next_fire_at: datetime | None,
    state: ScheduleState = ACTIVE,
    runs_count: int = 0,
    last_fired_at: datetime | None = None,
    **fields: Any,
) -> tuple[ScheduleRecord, ScheduleRules]:
    """A stored schedule (hourly on the hour unless ``fields`` say otherwise) and its rules."""
    data: dict[str, Any] = {"name": "report", "trigger": {"cron": "0 * * * *"}, "action": ACTION}
    data.update(fields)
    document = ScheduleDocument.from_mapping(data).model_dump(mode="json")
    record = ScheduleRecord(
        id=SCHEDULE_ID,
        namespace="default",
        name="report",
        document=document,
        trigger_kind=next(iter(document["trigger"])),
        timezone=document["timezone"],
        state=state,
        pause_note=None,
        next_fire_at=next_fire_at,
        last_fired_at=last_fired_at,
        runs_count=runs_count,
        consecutive_failures=0,
        revision=1,
        managed_by=None,
        managed_file=None,
        created_at=CREATED_AT,
        updated_at=CREATED_AT,
    )
    rules = rules_from_stored(document, schedule_id=SCHEDULE_ID, created_at=CREATED_AT)
    return record, rules


def counter() -> Callable[[], uuid.UUID]:
    """Ids 1, 2, 3, … so tests can see which row got which."""
    numbers = iter(range(1, 1_000_000))
    return lambda: uuid.UUID(int=next(numbers))


def settled(
    record: ScheduleRecord,
    rules: ScheduleRules,
    now: datetime,
    active: ActiveCounts = IDLE,
    *,
    paused: bool | None = None,
) -> Settlement:
    found = settle(record, rules, now, active, counter(), paused=paused)
    assert found is not None
    return found


def rows(settlement: Settlement) -> list[tuple[str, ExecutionStatus, str | None]]:
    """(HH:MM, status, reason) of each execution row, in order."""
    return [(e.scheduled_for.strftime("%H:%M"), e.status, e.reason) for e in settlement.executions]


# -- nothing due -----------------------------------------------------------------------


def test_nothing_is_due_before_next_fire_at() -> None:
    record, rules = schedule(next_fire_at=at("13:00"))
    assert settle(record, rules, at("12:59", 59.999), IDLE, counter()) is None


def test_a_schedule_without_next_fire_at_or_completed_owes_nothing() -> None:
    record, rules = schedule(next_fire_at=None)
    assert settle(record, rules, at("15:00"), IDLE, counter()) is None
    record, rules = schedule(next_fire_at=at("13:00"), state=COMPLETED)
    assert settle(record, rules, at("15:00"), IDLE, counter()) is None


# -- on time ---------------------------------------------------------------------------


def test_an_instant_due_now_runs_and_the_schedule_moves_on() -> None:
    record, rules = schedule(
        next_fire_at=at("13:00"),
        input={"day": "mon"},
        priority=7,
        concurrency_key="reports",
        retry={"max_attempts": 4},
    )
    now = at("13:00", 0.25)

    found = settled(record, rules, now)

    (row,) = found.executions
    assert row.id == uuid.UUID(int=1)
    assert (row.trigger, row.scheduled_for, row.status, row.reason) == (
        ExecutionTrigger.SCHEDULE,
        at("13:00"),
        QUEUED,
        None,
    )
    assert (row.schedule_id, row.schedule_name, row.namespace) == (SCHEDULE_ID, "report", "default")
    assert (row.created_at, row.queued_at, row.not_before) == (now, now, at("13:00"))
    assert row.lateness_ms == 250
    assert (row.input, row.priority, row.concurrency_key, row.max_attempts) == (
        {"day": "mon"},
        7,
        "reports",
        4,
    )
    assert row.workflow_name is None  # the inline action runs
    assert found.advance == ScheduleAdvance(
        schedule_id=SCHEDULE_ID,
        next_fire_at=at("14:00"),
        last_fired_at=at("13:00"),
        runs_count=1,
        state=ACTIVE,
    )
    assert (found.fired, found.missed_ranges, found.cancel_others) == (1, [], False)


def test_runs_count_adds_to_what_was_handled_before() -> None:
    record, rules = schedule(next_fire_at=at("13:00"), runs_count=41, last_fired_at=at("12:00"))
    assert settled(record, rules, at("13:00")).advance.runs_count == 42


# -- misfires --------------------------------------------------------------------------


def test_an_outage_runs_the_latest_instant_in_the_window_and_records_the_rest() -> None:
    # Hourly, down from 12:59 to 16:30, catch-up window 1h (run_once): 16:00 runs.
    record, rules = schedule(next_fire_at=at("13:00"))

    found = settled(record, rules, at("16:30"))

    assert rows(found) == [
        ("13:00", MISSED, "catchup_window"),
        ("14:00", MISSED, "catchup_window"),
        ("15:00", MISSED, "catchup_window"),
        ("16:00", QUEUED, None),
    ]
    assert found.executions[-1].lateness_ms == 30 * 60 * 1000
    assert [e.not_before for e in found.executions[:3]] == [None, None, None]
    assert [e.queued_at for e in found.executions[:3]] == [None, None, None]
    assert found.advance.runs_count == 4
    assert (found.advance.last_fired_at, found.advance.next_fire_at) == (at("16:00"), at("17:00"))


def test_an_instant_within_the_grace_given_runs_even_under_skip() -> None:
    # The loop widens the grace by the time its earlier batches took: an instant due when
    # the pass began is on time in its last batch too.
    record, rules = schedule(next_fire_at=at("13:00"), misfire="skip")
    now = at("13:00", 2.5)

    late = settle(record, rules, now, IDLE, counter())
    widened = settle(record, rules, now, IDLE, counter(), grace=timedelta(seconds=3))

    assert late is not None and rows(late) == [("13:00", MISSED, "misfire")]
    assert widened is not None and rows(widened) == [("13:00", QUEUED, None)]


def test_run_all_catch_up_runs_one_after_another() -> None:
    record, rules = schedule(next_fire_at=at("13:00"), misfire="run_all", catchup_window="3h")

    found = settled(record, rules, at("15:30"))

    # The first meets the overlap policy (idle: starts); the rest queue up behind it.
    assert rows(found) == [
        ("13:00", QUEUED, None),
        ("14:00", BUFFERED, None),
        ("15:00", BUFFERED, None),
    ]
    assert found.fired == 3


def test_run_all_catch_up_under_allow_queues_every_run() -> None:
    record, rules = schedule(
        next_fire_at=at("13:00"), misfire="run_all", catchup_window="3h", overlap="allow"
    )
    found = settled(record, rules, at("15:30"), BUSY)
    assert rows(found) == [
        ("13:00", QUEUED, None),
        ("14:00", QUEUED, None),
        ("15:00", QUEUED, None),
    ]


def test_a_busy_schedule_under_skip_skips_the_whole_catch_up() -> None:
    record, rules = schedule(next_fire_at=at("13:00"), misfire="run_all", catchup_window="3h")
    found = settled(record, rules, at("15:30"), BUSY)
    assert rows(found) == [
        ("13:00", SKIPPED, "overlap"),
        ("14:00", SKIPPED, "overlap"),
        ("15:00", SKIPPED, "overlap"),
    ]
    assert found.fired == 0
    assert found.advance.runs_count == 3  # skipped instants are handled too


def test_buffer_all_on_a_busy_schedule_buffers_the_catch_up() -> None:
    record, rules = schedule(
        next_fire_at=at("13:00"), misfire="run_all", catchup_window="3h", overlap="buffer_all"
    )
    found = settled(record, rules, at("14:30"), BUSY)
    assert rows(found) == [("13:00", BUFFERED, None), ("14:00", BUFFERED, None)]
    assert found.executions[0].queued_at is None


def test_cancel_other_asks_to_cancel_the_runs_in_flight_and_starts() -> None:
    record, rules = schedule(next_fire_at=at("13:00"), overlap="cancel_other")
    found = settled(record, rules, at("13:00"), BUSY)
    assert found.cancel_others is True
    assert rows(found) == [("13:00", QUEUED, None)]


def test_cancel_other_on_an_idle_schedule_cancels_nothing() -> None:
    record, rules = schedule(next_fire_at=at("13:00"), overlap="cancel_other")
    assert settled(record, rules, at("13:00")).cancel_others is False


# -- paused ----------------------------------------------------------------------------


def test_a_paused_schedule_records_every_due_instant_skipped_and_runs_none() -> None:
    record, rules = schedule(next_fire_at=at("13:00"), state=PAUSED)

    found = settled(record, rules, at("15:30"))

    assert rows(found) == [
        ("13:00", SKIPPED, "paused"),
        ("14:00", SKIPPED, "paused"),
        ("15:00", SKIPPED, "paused"),
    ]
    assert found.advance == ScheduleAdvance(
        schedule_id=SCHEDULE_ID,
        next_fire_at=at("16:00"),
        last_fired_at=at("15:00"),
        runs_count=3,
        state=PAUSED,
    )


def test_paused_overrides_the_stored_state_both_ways() -> None:
    record, rules = schedule(next_fire_at=at("13:00"))
    assert rows(settled(record, rules, at("13:00"), paused=True)) == [("13:00", SKIPPED, "paused")]
    record, rules = schedule(next_fire_at=at("13:00"), state=PAUSED)
    assert rows(settled(record, rules, at("13:00"), paused=False)) == [("13:00", QUEUED, None)]


# -- long streaks, windows -------------------------------------------------------------


def test_a_long_streak_of_misses_is_one_range_and_every_instant_is_counted() -> None:
    # Every minute, down from 12:00 to 15:00 (catch-up window 1h, run_once): 12:01 ...
    # 13:59 are older than the window (119, folded), 14:00 ... 14:59 are misfires
    # (60 rows), 15:00 runs.
    record, rules = schedule(next_fire_at=at("12:01"), trigger={"cron": "* * * * *"})

    found = settled(record, rules, at("15:00"))

    assert found.missed_ranges == [
        MissedRange(at("12:01"), at("13:59"), 119, FireReason.CATCHUP_WINDOW, FireAction.MISSED)
    ]
    assert len(found.executions) == 61
    assert {(e.status, e.reason) for e in found.executions[:-1]} == {(MISSED, "misfire")}
    assert found.executions[0].scheduled_for == at("14:00")
    assert rows(found)[-1] == ("15:00", QUEUED, None)
    assert found.advance.runs_count == 180
    # The range is listable instant by instant from the trigger.
    listed = [d.scheduled_for for d in expand(found.missed_ranges, rules.trigger)]
    assert listed == list(iter_nominal_fires(rules.trigger, at("12:00"), at("13:59")))


def test_the_last_of_max_runs_completes_the_schedule() -> None:
    record, rules = schedule(next_fire_at=at("14:00"), runs_count=2, max_runs=3)

    found = settled(record, rules, at("16:00"))

    assert rows(found) == [("14:00", MISSED, "catchup_window")]  # the 3rd and last instant
    assert (found.advance.next_fire_at, found.advance.state) == (None, COMPLETED)
    assert found.advance.runs_count == 3


def test_instants_after_end_at_are_not_owed_and_the_schedule_completes() -> None:
    record, rules = schedule(next_fire_at=at("13:00"), end_at="2026-06-01T14:30:00Z")

    found = settled(record, rules, at("15:00"))

    # 15:00 is past end_at: not owed, though the clock reached it.
    assert rows(found) == [("13:00", MISSED, "catchup_window"), ("14:00", QUEUED, None)]
    assert (found.advance.next_fire_at, found.advance.state) == (None, COMPLETED)


def test_a_paused_schedule_that_runs_out_completes() -> None:
    record, rules = schedule(next_fire_at=at("13:00"), state=PAUSED, max_runs=1)
    found = settled(record, rules, at("13:30"))
    assert rows(found) == [("13:00", SKIPPED, "paused")]
    assert found.advance.state is COMPLETED


def test_an_interval_schedule_settles_on_its_creation_grid() -> None:
    # Created 11:30, every 45m: 12:15, 13:00, 13:45, ...
    record, rules = schedule(next_fire_at=at("12:15"), trigger={"interval": "45m"})
    found = settled(record, rules, at("13:00", 0.5))
    assert rows(found) == [("12:15", MISSED, "misfire"), ("13:00", QUEUED, None)]
    assert found.advance.next_fire_at == at("13:45")


# -- jitter ----------------------------------------------------------------------------


def test_jitter_delays_the_start_deterministically_not_the_instant() -> None:
    record, rules = schedule(next_fire_at=at("13:00"), jitter="10m")

    first = settled(record, rules, at("13:00"))
    again = settled(record, rules, at("13:00"))

    (row,) = first.executions
    delay = jitter_delay(str(SCHEDULE_ID), at("13:00"), timedelta(minutes=10))
    assert row.scheduled_for == at("13:00")
    assert row.not_before == at("13:00") + delay
    assert timedelta(0) <= delay <= timedelta(minutes=10)
    assert again.executions[0].not_before == row.not_before


@pytest.mark.parametrize("state", [PAUSED, ACTIVE])
def test_rows_that_do_not_run_get_no_start_time(state: ScheduleState) -> None:
    record, rules = schedule(next_fire_at=at("10:00"), state=state, jitter="10m")
    found = settled(record, rules, at("13:00"))
    not_run = [e for e in found.executions if e.status in (SKIPPED, MISSED)]
    assert not_run
    assert {(e.not_before, e.queued_at) for e in not_run} == {(None, None)}


def test_every_row_gets_its_own_id() -> None:
    record, rules = schedule(next_fire_at=at("10:00"), trigger={"cron": "* * * * *"})
    found = settle(record, rules, at("15:00"), IDLE, counter())
    assert found is not None
    ids = [e.id for e in found.executions]
    assert len(ids) == len(set(ids)) == 61


# -- a batch ---------------------------------------------------------------------------


def test_settle_many_settles_a_mixed_batch_as_settle_does_one_at_a_time() -> None:
    """Schedules that share a timing are decided once; none may get another's decision."""
    now = at("13:00", 0.5)
    cases: list[tuple[dict[str, Any], datetime, ScheduleState, int, ActiveCounts]] = [
        ({}, at("12:00"), ACTIVE, 0, IDLE),  # on time
        ({"priority": 3}, at("12:00"), ACTIVE, 0, IDLE),  # the same timing, its own rows
        ({}, at("09:30"), ACTIVE, 7, IDLE),  # an outage
        ({}, at("12:00"), ACTIVE, 0, BUSY),  # busy under skip
        ({"overlap": "cancel_other"}, at("12:00"), ACTIVE, 0, BUSY),
        ({"trigger": {"cron": "H * * * *"}}, at("12:00"), ACTIVE, 0, IDLE),  # hashed ...
        ({"trigger": {"cron": "H * * * *"}}, at("12:00"), ACTIVE, 0, IDLE),  # ... apart
        ({"max_runs": 3}, at("12:00"), ACTIVE, 2, IDLE),  # its last run
        ({"max_runs": 3}, at("12:00"), ACTIVE, 1, IDLE),  # not yet
        ({"misfire": "run_all", "catchup_window": "3h"}, at("10:30"), ACTIVE, 0, IDLE),
        ({"misfire": "skip"}, at("10:30"), ACTIVE, 0, IDLE),
        ({}, at("10:30"), PAUSED, 0, IDLE),
        ({"trigger": {"at": "2026-06-01T12:59:59.900000Z"}}, at("11:00"), ACTIVE, 0, IDLE),
        ({}, at("13:00"), ACTIVE, 0, IDLE),  # not due yet
        ({"trigger": {"interval": "15m"}}, at("12:40"), ACTIVE, 0, IDLE),
    ]
    records, rules_of, active_of = [], {}, {}
    for number, (fields, since, state, runs_count, active) in enumerate(cases):
        record, _ = schedule(next_fire_at=None, **fields)
        schedule_id = uuid.UUID(int=1000 + number)
        rules = rules_from_stored(record.document, schedule_id=schedule_id, created_at=CREATED_AT)
        records.append(
            replace(
                record,
                id=schedule_id,
                state=state,
                runs_count=runs_count,
                next_fire_at=rules.next_fire(since, runs_count),
            )
        )
        rules_of[schedule_id], active_of[schedule_id] = rules, active
    grace = timedelta(seconds=2)

    batch = settle_many(records, rules_of, now, active_of, counter(), grace=grace)

    ids = counter()
    one_at_a_time = [
        settle(record, rules_of[record.id], now, active_of[record.id], ids, grace=grace)
        for record in records
    ]
    assert batch == [s for s in one_at_a_time if s is not None]
    assert len(batch) == len(cases) - 1
    hashed = [s.executions[-1].scheduled_for for s in batch[5:7]]
    assert hashed[0] != hashed[1]
