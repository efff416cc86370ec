"""Misfires after an outage: what a restarted loop records for the instants it slept through.

The store is the truth: a schedule whose ``next_fire_at`` is in the past is simply due,
so a restart needs nothing in memory (a new Scheduler on a new engine does the same as the
old one). Each instant ends as exactly one row (or in one range row), by the misfire
policy and the catch-up window (DESIGN, "Misfires").
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from tickwork.schedule.policies import ExecutionStatus, ScheduleState
from tickwork.service.schedules import MissedFire
from tickwork.store.engine import create_store_engine

from .helpers import (
    MINUTE,
    Outcome,
    Rig,
    at,
    count_executions,
    every,
    fires,
    make_rig,
    outcomes,
    ranges,
    set_status,
)

BACK_AT = at("12:07:30")
"""Tickwork was down from just after the 09:00 fire until 12:07:30."""
TOO_OLD: list[Outcome] = [
    (t, "missed", "catchup_window")
    for t in ("09:15", "09:30", "09:45", "10:00", "10:15", "10:30", "10:45", "11:00")
]
"""More than an hour before 12:07:30: never run, whatever the policy."""

EXPECTED_INSIDE_WINDOW: dict[str, list[Outcome]] = {
    # 11:15 ... 12:00 are late but inside the 1h window; the policy decides.
    "run_once": [
        ("11:15", "missed", "misfire"),
        ("11:30", "missed", "misfire"),
        ("11:45", "missed", "misfire"),
        ("12:00", "queued", None),
    ],
    # A catch-up is one unit: the first starts, the rest wait behind it, in order.
    "run_all": [
        ("11:15", "queued", None),
        ("11:30", "buffered", None),
        ("11:45", "buffered", None),
        ("12:00", "buffered", None),
    ],
    "skip": [
        ("11:15", "missed", "misfire"),
        ("11:30", "missed", "misfire"),
        ("11:45", "missed", "misfire"),
        ("12:00", "missed", "misfire"),
    ],
}


def _fired_once_then_down(engine: Engine, *policies: str) -> tuple[Rig, dict[str, uuid.UUID]]:
    """One ``*/15`` schedule per misfire policy (named after it), created at 08:50, fired
    at 09:00 (and finished, so overlap does not interfere), then the outage."""
    rig = make_rig(engine, at("08:50"))
    jobs = {
        policy: rig.create(every("*/15 * * * *", policy, misfire=policy, catchup_window="1h")).id
        for policy in policies
    }
    rig.fire_at(at("09:00"))
    for job_id in jobs.values():
        set_status(engine, job_id, at("09:00"), "succeeded")
    return rig, jobs


@pytest.mark.parametrize("restart", ["same scheduler", "new process"])
def test_three_hour_outage_records_every_instant_by_misfire_policy(
    store_url: str, store_engine: Engine, restart: str
) -> None:
    rig, jobs = _fired_once_then_down(store_engine, "run_once", "run_all", "skip")

    rig.clock.set(BACK_AT)
    if restart == "new process":
        # Nothing carried over in memory: a new engine, a new scheduler, the same store.
        engine = create_store_engine(store_url)
        try:
            report = rig.restarted(engine).fire_due()
        finally:
            engine.dispose()
    else:
        report = rig.scheduler.fire_due()

    assert (report.schedules, report.inserted, report.missed_ranges) == (3, 36, 0)
    for policy, job_id in jobs.items():
        expected = [("09:00", "succeeded", None), *TOO_OLD, *EXPECTED_INSIDE_WINDOW[policy]]
        assert outcomes(store_engine, job_id) == expected, policy
        for row in fires(store_engine, job_id)[1:]:
            assert row.created_at == BACK_AT
            assert row.lateness_ms == (BACK_AT - row.scheduled_for) // timedelta(milliseconds=1)
            runs = row.status in (ExecutionStatus.QUEUED, ExecutionStatus.BUFFERED)
            assert row.not_before == (row.scheduled_for if runs else None)
            assert row.queued_at == (BACK_AT if row.status is ExecutionStatus.QUEUED else None)
        after = rig.service.get(job_id)
        assert (after.next_fire_at, after.last_fired_at) == (at("12:15"), at("12:00"))
        assert (after.runs_count, after.state) == (13, ScheduleState.ACTIVE)
    # Firing again at the same instant finds nothing due and changes nothing.
    assert rig.scheduler.fire_due().inserted == 0
    assert count_executions(store_engine) == 3 * 13


def test_an_instant_exactly_catchup_window_old_still_runs(store_engine: Engine) -> None:
    """Back at exactly 12:00: 11:00 is one hour old, which is inside a 1h window."""
    rig, jobs = _fired_once_then_down(store_engine, "run_all")
    job_id = jobs["run_all"]

    rig.fire_at(at("12:00"))

    assert outcomes(store_engine, job_id)[1:] == [
        *TOO_OLD[:-1],
        ("11:00", "queued", None),
        ("11:15", "buffered", None),
        ("11:30", "buffered", None),
        ("11:45", "buffered", None),
        ("12:00", "buffered", None),
    ]


def test_a_run_all_catch_up_behind_a_run_in_flight_is_skipped_as_one_unit(
    store_engine: Engine,
) -> None:
    """The 09:00 run is still running when the loop comes back: the first catch-up run
    meets ``overlap: skip`` like any fire, and the rest of the catch-up goes with it."""
    rig = make_rig(store_engine, at("08:50"))
    job = rig.create(every("*/15 * * * *", misfire="run_all"))
    rig.fire_at(at("09:00"))
    set_status(store_engine, job.id, at("09:00"), "running")

    rig.fire_at(BACK_AT)

    assert outcomes(store_engine, job.id) == [
        ("09:00", "running", None),
        *TOO_OLD,
        *((t, "skipped", "overlap") for t in ("11:15", "11:30", "11:45", "12:00")),
    ]


def test_ten_hour_outage_on_a_frequent_schedule_stores_one_range(store_engine: Engine) -> None:
    """Every minute, down for 10 hours: 540 instants older than the window become one
    range row, the 59 misfires inside it stay rows, and ``missed()`` lists all 599."""
    rig = make_rig(store_engine, at("08:59:30"))
    job = rig.create(every("* * * * *"))
    rig.fire_at(at("09:00"))
    set_status(store_engine, job.id, at("09:00"), "succeeded")

    back = at("19:00:30")
    rig.clock.set(back)
    report = rig.restarted().fire_due()

    assert (report.missed_ranges, report.inserted) == (1, 60)
    (stored,) = ranges(store_engine, job.id)
    assert (stored.first, stored.last, stored.count) == (at("09:01"), at("18:00"), 540)
    assert (stored.reason, stored.created_at) == ("catchup_window", back)
    rows = outcomes(store_engine, job.id)
    assert rows[0] == ("09:00", "succeeded", None)
    assert rows[1:-1] == [(t, "missed", "misfire") for t in _minutes(at("18:01"), at("18:59"))]
    assert rows[-1] == ("19:00", "queued", None)

    missed = rig.service.missed(job.id)
    too_old = [
        MissedFire(at(t), ExecutionStatus.MISSED, "catchup_window")
        for t in _minutes(at("09:01"), at("18:00"))
    ]
    misfires = [
        MissedFire(at(t), ExecutionStatus.MISSED, "misfire")
        for t in _minutes(at("18:01"), at("18:59"))
    ]
    assert missed == too_old + misfires
    after = rig.service.get(job.id)
    assert (after.runs_count, after.next_fire_at) == (601, at("19:01"))


def test_outage_shorter_than_the_grace_is_not_a_misfire(store_engine: Engine) -> None:
    """A loop that wakes half a second late fires on time, even under ``misfire: skip``."""
    rig = make_rig(store_engine)
    job = rig.create(every("*/15 * * * *", misfire="skip"))

    rig.fire_at(at("09:15") + timedelta(milliseconds=500))

    assert outcomes(store_engine, job.id) == [("09:15", "queued", None)]
    assert fires(store_engine, job.id)[0].lateness_ms == 500


def _minutes(first: datetime, last: datetime) -> list[str]:
    count = (last - first) // MINUTE + 1
    return [(first + i * MINUTE).strftime("%H:%M") for i in range(count)]
