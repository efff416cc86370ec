"""Nominal instants: the trigger's instants trimmed by start_at, end_at and max_runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tickwork.errors import InvalidSpec
from tickwork.schedule.fires import (
    Window,
    is_retired,
    iter_nominal_fires,
    next_fire,
    nominal_fires,
)
from tickwork.schedule.triggers import AtTrigger, CronTrigger, IntervalTrigger


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=UTC)


HOURLY = CronTrigger("0 * * * *", "UTC")


def test_fires_in_half_open_interval() -> None:
    assert nominal_fires(HOURLY, utc(2026, 1, 1, 1), utc(2026, 1, 1, 4)) == [
        utc(2026, 1, 1, 2),
        utc(2026, 1, 1, 3),
        utc(2026, 1, 1, 4),
    ]


def test_start_at_is_inclusive_and_nothing_comes_before_it() -> None:
    fires = nominal_fires(HOURLY, utc(2026, 1, 1), utc(2026, 1, 1, 5), start_at=utc(2026, 1, 1, 3))
    assert fires == [utc(2026, 1, 1, 3), utc(2026, 1, 1, 4), utc(2026, 1, 1, 5)]


def test_start_at_between_instants() -> None:
    fires = nominal_fires(
        HOURLY, utc(2026, 1, 1), utc(2026, 1, 1, 5), start_at=utc(2026, 1, 1, 3, 0, 1)
    )
    assert fires == [utc(2026, 1, 1, 4), utc(2026, 1, 1, 5)]


def test_end_at_is_inclusive_and_nothing_comes_after_it() -> None:
    fires = nominal_fires(HOURLY, utc(2026, 1, 1), utc(2026, 1, 2), end_at=utc(2026, 1, 1, 2))
    assert fires == [utc(2026, 1, 1, 1), utc(2026, 1, 1, 2)]


def test_max_runs_counts_fires_already_made() -> None:
    fires = nominal_fires(HOURLY, utc(2026, 1, 1), utc(2026, 1, 2), max_runs=5, runs_so_far=3)
    assert fires == [utc(2026, 1, 1, 1), utc(2026, 1, 1, 2)]
    assert nominal_fires(HOURLY, utc(2026, 1, 1), utc(2026, 1, 2), max_runs=5, runs_so_far=5) == []
    assert nominal_fires(HOURLY, utc(2026, 1, 1), utc(2026, 1, 2), max_runs=5, runs_so_far=9) == []


def test_next_fire_honours_the_window() -> None:
    assert next_fire(HOURLY, utc(2026, 1, 1, 0, 30)) == utc(2026, 1, 1, 1)
    assert next_fire(HOURLY, utc(2026, 1, 1), start_at=utc(2026, 2, 1)) == utc(2026, 2, 1)
    assert next_fire(HOURLY, utc(2026, 1, 1, 2), end_at=utc(2026, 1, 1, 2)) is None
    assert next_fire(HOURLY, utc(2026, 1, 1), max_runs=1, runs_so_far=1) is None


def test_iter_nominal_fires_is_lazy_and_unbounded() -> None:
    every_second = IntervalTrigger(timedelta(seconds=1))
    stream = iter_nominal_fires(every_second, utc(2026, 1, 1))
    assert [next(stream) for _ in range(3)] == [
        utc(2026, 1, 1, 0, 0, 1),
        utc(2026, 1, 1, 0, 0, 2),
        utc(2026, 1, 1, 0, 0, 3),
    ]


def test_window_validation() -> None:
    with pytest.raises(InvalidSpec, match="end_at"):
        Window(start_at=utc(2026, 2, 1), end_at=utc(2026, 1, 1))
    with pytest.raises(InvalidSpec, match="max_runs"):
        Window(max_runs=0)
    with pytest.raises(ValueError, match="aware"):
        Window(start_at=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="runs_so_far"):
        nominal_fires(HOURLY, utc(2026, 1, 1), utc(2026, 1, 2), runs_so_far=-1)


# -- retirement ------------------------------------------------------------------------


def test_not_retired_while_fires_remain() -> None:
    assert not is_retired(HOURLY, utc(2026, 1, 1))
    assert not is_retired(HOURLY, utc(2026, 1, 1), end_at=utc(2026, 1, 1, 1))
    assert not is_retired(HOURLY, utc(2026, 1, 1), max_runs=3, runs_so_far=2)


def test_retired_when_max_runs_reached() -> None:
    assert is_retired(HOURLY, utc(2026, 1, 1), max_runs=3, runs_so_far=3)


def test_retired_when_end_at_passed() -> None:
    assert is_retired(HOURLY, utc(2026, 1, 1, 1), end_at=utc(2026, 1, 1, 1))
    assert is_retired(HOURLY, utc(2026, 1, 1, 0, 30), end_at=utc(2026, 1, 1, 0, 45))


def test_retired_when_at_trigger_fired() -> None:
    at = AtTrigger(utc(2026, 12, 1, 9))
    assert not is_retired(at, utc(2026, 12, 1, 8, 59))
    assert is_retired(at, utc(2026, 12, 1, 9))


def test_retired_when_cron_years_exhausted() -> None:
    cron = CronTrigger("0 0 12 1 1 * 2026-2027", "Europe/Berlin")
    assert not is_retired(cron, utc(2026, 6, 1))
    assert is_retired(cron, utc(2027, 1, 1, 11))


def test_at_trigger_outside_window_never_fires() -> None:
    at = AtTrigger(utc(2026, 12, 1, 9))
    assert is_retired(at, utc(2026, 1, 1), start_at=utc(2026, 12, 2))
    assert next_fire(at, utc(2026, 1, 1), end_at=utc(2026, 11, 30)) is None


# -- properties ------------------------------------------------------------------------

minutes = st.integers(min_value=0, max_value=3000)


@given(
    every_min=st.integers(min_value=1, max_value=120),
    after_m=minutes,
    span_m=minutes,
    start_m=st.none() | minutes,
    end_m=st.none() | minutes,
    max_runs=st.none() | st.integers(min_value=1, max_value=30),
    runs_so_far=st.integers(min_value=0, max_value=40),
)
def test_nominal_fires_are_the_trigger_instants_inside_every_bound(
    every_min: int,
    after_m: int,
    span_m: int,
    start_m: int | None,
    end_m: int | None,
    max_runs: int | None,
    runs_so_far: int,
) -> None:
    base = utc(2026, 3, 1)

    def at(m: int) -> datetime:
        return base + timedelta(minutes=m)

    if start_m is not None and end_m is not None and end_m < start_m:
        start_m, end_m = end_m, start_m
    trigger = IntervalTrigger(timedelta(minutes=every_min), base)
    after, until = at(after_m), at(after_m + span_m)
    start_at = None if start_m is None else at(start_m)
    end_at = None if end_m is None else at(end_m)
    fires = nominal_fires(
        trigger,
        after,
        until,
        start_at=start_at,
        end_at=end_at,
        max_runs=max_runs,
        runs_so_far=runs_so_far,
    )
    # Oracle: every grid point in (after, until] inside [start_at, end_at], then the cap.
    expected = [
        at(m)
        for m in range(after_m + 1, after_m + span_m + 1)
        if m % every_min == 0
        and (start_m is None or m >= start_m)
        and (end_m is None or m <= end_m)
    ]
    if max_runs is not None:
        expected = expected[: max(0, max_runs - runs_so_far)]
    assert fires == expected
    nxt = next_fire(
        trigger,
        after,
        start_at=start_at,
        end_at=end_at,
        max_runs=max_runs,
        runs_so_far=runs_so_far,
    )
    assert nxt == (fires[0] if fires else nxt)
    if nxt is None:
        assert fires == []
        assert is_retired(
            trigger,
            after,
            start_at=start_at,
            end_at=end_at,
            max_runs=max_runs,
            runs_so_far=runs_so_far,
        )
