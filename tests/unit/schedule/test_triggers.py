"""Triggers: cron on a zone's wall clock (DST pinned with the real transitions), interval
on elapsed time, one-off instants; all answers strictly after, in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tickwork.cron import CronSyntaxError
from tickwork.errors import InvalidSpec, UnknownTimeZone
from tickwork.schedule.triggers import (
    EPOCH,
    AtTrigger,
    CronTrigger,
    IntervalTrigger,
    Trigger,
    as_utc,
)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=UTC)


def take(trigger: Trigger, after: datetime, n: int) -> list[datetime]:
    """The first ``n`` instants of ``trigger`` after ``after``."""
    out: list[datetime] = []
    current = trigger.next_after(after)
    while current is not None and len(out) < n:
        out.append(current)
        current = trigger.next_after(current)
    return out


# -- cron ------------------------------------------------------------------------------


def test_cron_results_are_utc_and_strictly_after() -> None:
    trigger = CronTrigger("0 9 * * *", "UTC", "s1")
    found = trigger.next_after(utc(2026, 1, 5, 9, 0))
    assert found == utc(2026, 1, 6, 9, 0)
    assert found is not None and found.tzinfo is UTC


def test_cron_accepts_an_aware_instant_in_any_zone() -> None:
    trigger = CronTrigger("0 9 * * *", "UTC")
    tokyo = timezone(timedelta(hours=9))
    assert trigger.next_after(datetime(2026, 1, 5, 17, 0, tzinfo=tokyo)) == utc(2026, 1, 5, 9, 0)
    assert trigger.next_after(datetime(2026, 1, 5, 18, 0, tzinfo=tokyo)) == utc(2026, 1, 6, 9, 0)


def test_cron_parses_once_and_compares_by_definition() -> None:
    a = CronTrigger("H * * * *", "UTC", "schedule-a")
    assert a.expr is a.expr
    assert a == CronTrigger("H * * * *", "UTC", "schedule-a")
    assert a != CronTrigger("H * * * *", "UTC", "schedule-b")


def test_cron_h_spreads_by_hash_key_and_is_stable() -> None:
    after = utc(2026, 1, 1)
    first = CronTrigger("H * * * *", "UTC", "schedule-a").next_after(after)
    again = CronTrigger("H * * * *", "UTC", "schedule-a").next_after(after)
    assert first == again


def test_cron_rejects_bad_expression_and_zone_at_construction() -> None:
    with pytest.raises(CronSyntaxError):
        CronTrigger("61 * * * *", "UTC")
    with pytest.raises(UnknownTimeZone):
        CronTrigger("0 * * * *", "Mars/Olympus")


def test_cron_exhausted_year_field_gives_none() -> None:
    trigger = CronTrigger("0 0 0 1 1 * 2027", "UTC")
    assert trigger.next_after(utc(2026, 6, 1)) == utc(2027, 1, 1)
    assert trigger.next_after(utc(2027, 1, 1)) is None


# Europe/Berlin 2026-03-29: 02:00 CET (01:00 UTC) jumps to 03:00 CEST.
# Europe/Berlin 2026-10-25: 03:00 CEST (01:00 UTC) falls back to 02:00 CET; 02:xx twice.


def test_berlin_spring_forward_fixed_time_in_gap_runs_once_right_after_jump() -> None:
    trigger = CronTrigger("30 2 * * *", "Europe/Berlin")
    assert take(trigger, utc(2026, 3, 27, 12), 3) == [
        utc(2026, 3, 28, 1, 30),  # 02:30 CET
        utc(2026, 3, 29, 1, 0),  # 02:30 does not exist: 03:00 CEST
        utc(2026, 3, 30, 0, 30),  # 02:30 CEST
    ]


def test_berlin_spring_forward_two_fixed_times_in_gap_run_once() -> None:
    trigger = CronTrigger("0,30 2 * * *", "Europe/Berlin")
    assert take(trigger, utc(2026, 3, 28, 12), 2) == [utc(2026, 3, 29, 1, 0), utc(2026, 3, 30, 0)]


def test_berlin_spring_forward_wall_clock_job_skips_missing_hour() -> None:
    trigger = CronTrigger("0 * * * *", "Europe/Berlin")
    assert take(trigger, utc(2026, 3, 28, 22, 30), 4) == [
        utc(2026, 3, 28, 23),  # 00:00 CET
        utc(2026, 3, 29, 0),  # 01:00 CET
        utc(2026, 3, 29, 1),  # 03:00 CEST
        utc(2026, 3, 29, 2),  # 04:00 CEST
    ]


def test_berlin_spring_forward_every_15_minutes() -> None:
    trigger = CronTrigger("*/15 * * * *", "Europe/Berlin")
    assert take(trigger, utc(2026, 3, 29, 0, 30), 3) == [
        utc(2026, 3, 29, 0, 45),  # 01:45 CET
        utc(2026, 3, 29, 1, 0),  # 03:00 CEST
        utc(2026, 3, 29, 1, 15),
    ]


def test_berlin_fall_back_fixed_time_runs_on_first_pass_only() -> None:
    trigger = CronTrigger("30 2 * * *", "Europe/Berlin")
    assert take(trigger, utc(2026, 10, 23, 12), 3) == [
        utc(2026, 10, 24, 0, 30),  # 02:30 CEST
        utc(2026, 10, 25, 0, 30),  # 02:30 CEST, first pass; not again at 01:30 UTC
        utc(2026, 10, 26, 1, 30),  # 02:30 CET
    ]


def test_berlin_fall_back_wall_clock_job_follows_both_passes() -> None:
    trigger = CronTrigger("0 * * * *", "Europe/Berlin")
    assert take(trigger, utc(2026, 10, 24, 21, 30), 5) == [
        utc(2026, 10, 24, 22),  # 00:00 CEST
        utc(2026, 10, 24, 23),  # 01:00 CEST
        utc(2026, 10, 25, 0),  # 02:00 CEST
        utc(2026, 10, 25, 1),  # 02:00 CET
        utc(2026, 10, 25, 2),  # 03:00 CET
    ]


def test_berlin_fall_back_asking_from_inside_the_repeated_hour() -> None:
    trigger = CronTrigger("30 2 * * *", "Europe/Berlin")
    # 02:45 CEST, between the first-pass fire and the second pass of 02:30.
    assert trigger.next_after(utc(2026, 10, 25, 0, 45)) == utc(2026, 10, 26, 1, 30)


# -- interval --------------------------------------------------------------------------


def test_interval_fires_on_the_anchor_grid_strictly_after() -> None:
    anchor = utc(2026, 1, 1, 10, 3, 20)
    trigger = IntervalTrigger(timedelta(minutes=15), anchor)
    assert trigger.next_after(anchor) == utc(2026, 1, 1, 10, 18, 20)
    assert trigger.next_after(utc(2026, 1, 1, 10, 18, 19)) == utc(2026, 1, 1, 10, 18, 20)
    assert trigger.next_after(utc(2026, 1, 1, 10, 18, 20)) == utc(2026, 1, 1, 10, 33, 20)


def test_interval_anchor_in_the_future_only_sets_the_phase() -> None:
    trigger = IntervalTrigger(timedelta(hours=1), utc(2030, 1, 1, 0, 30))
    assert trigger.next_after(utc(2026, 5, 5, 7, 0)) == utc(2026, 5, 5, 7, 30)


def test_interval_without_anchor_aligns_to_epoch() -> None:
    trigger = IntervalTrigger(timedelta(minutes=15))
    assert trigger.next_after(utc(2026, 1, 1, 0, 7)) == utc(2026, 1, 1, 0, 15)
    assert trigger.anchor is None
    assert trigger.next_after(EPOCH) == EPOCH + timedelta(minutes=15)


def test_interval_is_elapsed_time_across_berlin_dst() -> None:
    berlin_anchor = datetime(2026, 3, 29, 1, 0, tzinfo=timezone(timedelta(hours=1)))
    trigger = IntervalTrigger(timedelta(hours=1), berlin_anchor)
    assert take(trigger, utc(2026, 3, 29, 0), 3) == [
        utc(2026, 3, 29, 1),
        utc(2026, 3, 29, 2),
        utc(2026, 3, 29, 3),
    ]
    assert trigger.anchor == utc(2026, 3, 29, 0)


def test_interval_rejects_non_positive_every_and_naive_anchor() -> None:
    with pytest.raises(InvalidSpec):
        IntervalTrigger(timedelta(0))
    with pytest.raises(InvalidSpec):
        IntervalTrigger(timedelta(seconds=-5))
    with pytest.raises(ValueError, match="aware"):
        IntervalTrigger(timedelta(minutes=1), datetime(2026, 1, 1))


def test_interval_past_datetime_max_gives_none() -> None:
    trigger = IntervalTrigger(timedelta(days=365 * 100))
    assert trigger.next_after(datetime(9990, 1, 1, tzinfo=UTC)) is None


@given(
    every_us=st.integers(min_value=1, max_value=10**12),
    anchor_offset_us=st.integers(min_value=-(10**15), max_value=10**15),
    after_offset_us=st.integers(min_value=-(10**15), max_value=10**15),
)
def test_interval_next_is_the_smallest_grid_point_after(
    every_us: int, anchor_offset_us: int, after_offset_us: int
) -> None:
    every = timedelta(microseconds=every_us)
    anchor = utc(2026, 1, 1) + timedelta(microseconds=anchor_offset_us)
    after = utc(2026, 1, 1) + timedelta(microseconds=after_offset_us)
    found = IntervalTrigger(every, anchor).next_after(after)
    assert found is not None
    assert after < found <= after + every
    assert (found - anchor) % every == timedelta(0)


# -- at --------------------------------------------------------------------------------


def test_at_fires_once() -> None:
    trigger = AtTrigger(utc(2026, 12, 1, 9))
    assert trigger.next_after(utc(2026, 11, 30)) == utc(2026, 12, 1, 9)
    assert trigger.next_after(utc(2026, 12, 1, 9)) is None
    assert trigger.next_after(utc(2027, 1, 1)) is None


def test_at_normalises_to_utc() -> None:
    trigger = AtTrigger(datetime(2026, 12, 1, 10, tzinfo=timezone(timedelta(hours=1))))
    assert trigger.at == utc(2026, 12, 1, 9) and trigger.at.tzinfo is UTC


# -- instants --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "trigger",
    [CronTrigger("* * * * *"), IntervalTrigger(timedelta(seconds=1)), AtTrigger(utc(2026, 1, 1))],
)
def test_every_trigger_refuses_naive_instants(trigger: Trigger) -> None:
    assert isinstance(trigger, Trigger)
    with pytest.raises(ValueError, match="aware"):
        trigger.next_after(datetime(2026, 1, 1))


def test_as_utc_refuses_non_datetimes() -> None:
    with pytest.raises(TypeError):
        as_utc("2026-01-01", "x")  # type: ignore[arg-type]
