"""DST rules of the cron engine (Debian/Vixie semantics), one named test per rule.

Transitions used (from the IANA database):

* America/New_York 2026-03-08: 02:00 EST (-05:00) jumps to 03:00 EDT (-04:00), so 02:00-02:59
  does not exist. 2026-11-01: 02:00 EDT falls back to 01:00 EST, so 01:00-01:59 happens twice
  (first pass -04:00 at 05:00-05:59Z, second pass -05:00 at 06:00-06:59Z).
* Europe/London 2026-03-29: 01:00 GMT jumps to 02:00 BST. 2026-10-25: 02:00 BST falls back to
  01:00 GMT.
* Australia/Lord_Howe (30-minute DST): 2026-10-04 02:00 (+10:30) jumps to 02:30 (+11:00);
  2026-04-05 02:00 (+11:00) falls back to 01:30 (+10:30), so 01:30-01:59 happens twice.
* Pacific/Apia skipped 2011-12-30 entirely: 2011-12-29 23:59:59 (-10:00) was followed by
  2011-12-31 00:00 (+14:00).

Results are compared as ``isoformat()`` strings (which carry the offset) or in UTC, never as
aware datetimes of one zone, since Python ignores ``fold`` there.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tickwork.cron import CronExpr

NY = "America/New_York"
LONDON = "Europe/London"
LORD_HOWE = "Australia/Lord_Howe"
APIA = "Pacific/Apia"


def at(
    zone: str,
    year: int,
    month: int,
    day: int,
    hour: int = 0,
    minute: int = 0,
    second: int = 0,
    *,
    fold: int = 0,
) -> datetime:
    """A wall time in ``zone`` (fold=1 picks the second pass of a repeated time)."""
    return datetime(year, month, day, hour, minute, second, tzinfo=ZoneInfo(zone), fold=fold)


def fires(text: str, after: datetime, zone: str, count: int) -> list[str]:
    expr = CronExpr.parse(text)
    return [d.isoformat() for d in itertools.islice(expr.iter_after(after, zone), count)]


def fires_until(text: str, after: datetime, end: datetime, zone: str) -> list[datetime]:
    expr = CronExpr.parse(text)
    return list(itertools.takewhile(lambda d: d < end, expr.iter_after(after, zone)))


def before(values: Iterator[datetime], end: datetime) -> list[datetime]:
    return list(itertools.takewhile(lambda d: d < end, values))


def iso(values: list[datetime]) -> list[str]:
    return [d.isoformat() for d in values]


# -- America/New_York, spring forward 2026-03-08 ------------------------------------------


def test_new_york_spring_forward_fixed_time_in_gap_runs_once_at_0300() -> None:
    """2026-03-08 02:00 EST -> 03:00 EDT: 02:30 does not exist; the job runs at 03:00 EDT."""
    assert fires("30 2 * * *", at(NY, 2026, 3, 7), NY, 3) == [
        "2026-03-07T02:30:00-05:00",
        "2026-03-08T03:00:00-04:00",
        "2026-03-09T02:30:00-04:00",
    ]


@pytest.mark.parametrize(
    ("text", "times"),
    [
        ("0,30 2 * * *", ["02:00", "02:30"]),
        ("0-59/15 2 * * *", ["02:00", "02:15", "02:30", "02:45"]),
        ("0-59 2 * * *", [f"02:{m:02d}" for m in range(60)]),
    ],
)
def test_new_york_spring_forward_several_fixed_times_in_gap_run_once(
    text: str, times: list[str]
) -> None:
    """2026-03-08 02:00 EST -> 03:00 EDT: every fixed time in the gap collapses into one
    run at 03:00 EDT."""
    got = fires_until(text, at(NY, 2026, 3, 7), at(NY, 2026, 3, 9, 3), NY)
    assert iso(got) == [
        *(f"2026-03-07T{hm}:00-05:00" for hm in times),
        "2026-03-08T03:00:00-04:00",
        *(f"2026-03-09T{hm}:00-04:00" for hm in times),
    ]


def test_new_york_spring_forward_gap_and_0300_fire_once_together() -> None:
    """2026-03-08 02:00 EST -> 03:00 EDT: 02:00 (skipped) and 03:00 are the same instant, which
    fires once; 03:30 still fires."""
    assert fires("0 2,3 * * *", at(NY, 2026, 3, 8), NY, 3) == [
        "2026-03-08T03:00:00-04:00",
        "2026-03-09T02:00:00-04:00",
        "2026-03-09T03:00:00-04:00",
    ]
    assert fires("30 2,3 * * *", at(NY, 2026, 3, 8), NY, 3) == [
        "2026-03-08T03:00:00-04:00",
        "2026-03-08T03:30:00-04:00",
        "2026-03-09T02:30:00-04:00",
    ]


def test_new_york_spring_forward_fixed_times_outside_gap_are_unaffected() -> None:
    """2026-03-08 02:00 EST -> 03:00 EDT: 01:30 and 03:30 exist and keep their times."""
    assert fires("30 1 * * *", at(NY, 2026, 3, 8), NY, 1) == ["2026-03-08T01:30:00-05:00"]
    assert fires("30 3 * * *", at(NY, 2026, 3, 8), NY, 1) == ["2026-03-08T03:30:00-04:00"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "*/15 * * * *",
            [
                "2026-03-08T01:30:00-05:00",
                "2026-03-08T01:45:00-05:00",
                "2026-03-08T03:00:00-04:00",
                "2026-03-08T03:15:00-04:00",
            ],
        ),
        (
            "*/30 * * * *",
            [
                "2026-03-08T01:30:00-05:00",
                "2026-03-08T03:00:00-04:00",
                "2026-03-08T03:30:00-04:00",
                "2026-03-08T04:00:00-04:00",
            ],
        ),
        (
            "0 * * * *",
            [
                "2026-03-08T03:00:00-04:00",
                "2026-03-08T04:00:00-04:00",
                "2026-03-08T05:00:00-04:00",
                "2026-03-08T06:00:00-04:00",
            ],
        ),
        (
            "30 * * * *",
            [
                "2026-03-08T01:30:00-05:00",
                "2026-03-08T03:30:00-04:00",
                "2026-03-08T04:30:00-04:00",
                "2026-03-08T05:30:00-04:00",
            ],
        ),
    ],
)
def test_new_york_spring_forward_wall_clock_skips_gap_times(text: str, expected: list[str]) -> None:
    """2026-03-08 02:00 EST -> 03:00 EDT: a job with '*' in the minute or hour field skips
    02:xx, and 03:00 fires only when the expression has it."""
    assert fires(text, at(NY, 2026, 3, 8, 1, 15), NY, 4) == expected


def test_new_york_spring_forward_star_minute_with_fixed_hour_skips_the_day() -> None:
    """2026-03-08 02:00 EST -> 03:00 EDT: '* 2 * * *' is a wall-clock job (minute is '*'),
    so it does not run at all on 2026-03-08."""
    assert fires("* 2 * * *", at(NY, 2026, 3, 7, 2, 58), NY, 3) == [
        "2026-03-07T02:59:00-05:00",
        "2026-03-09T02:00:00-04:00",
        "2026-03-09T02:01:00-04:00",
    ]


def test_new_york_spring_forward_six_fields() -> None:
    """2026-03-08 02:00 EST -> 03:00 EDT with seconds: a fixed 02:30:30 runs once at 03:00:00
    EDT (the first instant after the gap); a seconds wall-clock job skips the gap."""
    assert fires("30 30 2 * * *", at(NY, 2026, 3, 7, 12), NY, 2) == [
        "2026-03-08T03:00:00-04:00",
        "2026-03-09T02:30:30-04:00",
    ]
    assert fires("*/20 * * * * *", at(NY, 2026, 3, 8, 1, 59, 20), NY, 3) == [
        "2026-03-08T01:59:40-05:00",
        "2026-03-08T03:00:00-04:00",
        "2026-03-08T03:00:20-04:00",
    ]


def test_new_york_spring_forward_seven_fields() -> None:
    """2026-03-08 02:00 EST -> 03:00 EDT with a year field: the only fire moves to 03:00 EDT,
    and nothing comes after it."""
    expr = CronExpr.parse("0 30 2 8 3 * 2026")
    got = expr.next_after(at(NY, 2026, 1, 1), NY)
    assert got is not None
    assert got.isoformat() == "2026-03-08T03:00:00-04:00"
    assert expr.next_after(got, NY) is None
    assert expr.prev_before(at(NY, 2027, 1, 1), NY) == got


def test_new_york_spring_forward_prev_before() -> None:
    """2026-03-08 02:00 EST -> 03:00 EDT: stepping back meets the 03:00 EDT run, and from
    03:00 EDT itself the previous run is the day before."""
    expr = CronExpr.parse("30 2 * * *")
    got = expr.prev_before(at(NY, 2026, 3, 8, 4), NY)
    assert got is not None
    assert got.isoformat() == "2026-03-08T03:00:00-04:00"
    earlier = expr.prev_before(got, NY)
    assert earlier is not None
    assert earlier.isoformat() == "2026-03-07T02:30:00-05:00"


# -- America/New_York, fall back 2026-11-01 -----------------------------------------------


def test_new_york_fall_back_fixed_time_runs_on_first_pass_only() -> None:
    """2026-11-01 02:00 EDT -> 01:00 EST: 01:30 happens twice; the job runs at 01:30 EDT
    (fold 0, -04:00) only."""
    assert fires("30 1 * * *", at(NY, 2026, 10, 31), NY, 3) == [
        "2026-10-31T01:30:00-04:00",
        "2026-11-01T01:30:00-04:00",
        "2026-11-02T01:30:00-05:00",
    ]


def test_new_york_fall_back_range_step_counts_as_fixed() -> None:
    """2026-11-01 02:00 EDT -> 01:00 EST: '0-59/15 1 * * *' does not start with '*', so it is
    a fixed-time job and runs on the first pass only."""
    assert fires("0-59/15 1 * * *", at(NY, 2026, 11, 1), NY, 5) == [
        "2026-11-01T01:00:00-04:00",
        "2026-11-01T01:15:00-04:00",
        "2026-11-01T01:30:00-04:00",
        "2026-11-01T01:45:00-04:00",
        "2026-11-02T01:00:00-05:00",
    ]


def test_new_york_fall_back_fixed_time_after_the_overlap_runs_once() -> None:
    """2026-11-01 02:00 EDT -> 01:00 EST: 02:00 exists once (EST)."""
    assert fires("0 2 * * *", at(NY, 2026, 11, 1), NY, 2) == [
        "2026-11-01T02:00:00-05:00",
        "2026-11-02T02:00:00-05:00",
    ]


def test_new_york_fall_back_wall_clock_runs_both_passes() -> None:
    """2026-11-01 02:00 EDT -> 01:00 EST: '0 * * * *' fires at 01:00 EDT and 01:00 EST."""
    assert fires("0 * * * *", at(NY, 2026, 11, 1), NY, 4) == [
        "2026-11-01T01:00:00-04:00",
        "2026-11-01T01:00:00-05:00",
        "2026-11-01T02:00:00-05:00",
        "2026-11-01T03:00:00-05:00",
    ]
    first_pass = [f"2026-11-01T01:{m}:00-04:00" for m in ("00", "15", "30", "45")]
    second_pass = [f"2026-11-01T01:{m}:00-05:00" for m in ("00", "15", "30", "45")]
    assert fires("*/15 * * * *", at(NY, 2026, 11, 1, 0, 50), NY, 9) == [
        *first_pass,
        *second_pass,
        "2026-11-01T02:00:00-05:00",
    ]


def test_new_york_fall_back_star_minute_with_fixed_hour_runs_both_passes() -> None:
    """2026-11-01 02:00 EDT -> 01:00 EST: '* 1 * * *' follows the wall clock: 120 runs."""
    got = fires_until("* 1 * * *", at(NY, 2026, 11, 1), at(NY, 2026, 11, 2), NY)
    assert len(got) == 120
    assert iso(got[58:62]) == [
        "2026-11-01T01:58:00-04:00",
        "2026-11-01T01:59:00-04:00",
        "2026-11-01T01:00:00-05:00",
        "2026-11-01T01:01:00-05:00",
    ]
    assert got[-1].isoformat() == "2026-11-01T01:59:00-05:00"


def test_new_york_fall_back_results_carry_fold() -> None:
    """2026-11-01 02:00 EDT -> 01:00 EST: first-pass results have fold 0, second-pass fold 1,
    and they are distinct instants an hour apart."""
    first, second = fires_until(
        "0 * * * *", at(NY, 2026, 11, 1, 0, 30), datetime(2026, 11, 1, 6, 30, tzinfo=UTC), NY
    )
    assert (first.fold, second.fold) == (0, 1)
    assert (first.hour, second.hour) == (1, 1)
    assert second.astimezone(UTC) - first.astimezone(UTC) == timedelta(hours=1)
    assert first.astimezone(UTC) == datetime(2026, 11, 1, 5, tzinfo=UTC)
    assert second.astimezone(UTC) == datetime(2026, 11, 1, 6, tzinfo=UTC)


def test_new_york_fall_back_six_fields() -> None:
    """2026-11-01 02:00 EDT -> 01:00 EST with seconds: fixed 01:30:15 runs on the first pass
    only; '0 */30 * * * *' runs on both passes."""
    assert fires("15 30 1 * * *", at(NY, 2026, 11, 1), NY, 2) == [
        "2026-11-01T01:30:15-04:00",
        "2026-11-02T01:30:15-05:00",
    ]
    assert fires("0 */30 * * * *", at(NY, 2026, 11, 1, 0, 45), NY, 5) == [
        "2026-11-01T01:00:00-04:00",
        "2026-11-01T01:30:00-04:00",
        "2026-11-01T01:00:00-05:00",
        "2026-11-01T01:30:00-05:00",
        "2026-11-01T02:00:00-05:00",
    ]


def test_new_york_fall_back_next_after_from_inside_the_second_pass() -> None:
    """2026-11-01 02:00 EDT -> 01:00 EST: from 01:10 EST (06:10Z, second pass), the fixed job
    already ran (01:30 EDT) and does not run again; wall-clock jobs carry on in EST."""
    after = datetime(2026, 11, 1, 6, 10, tzinfo=UTC)
    assert after.astimezone(ZoneInfo(NY)).fold == 1
    assert fires("30 1 * * *", after, NY, 1) == ["2026-11-02T01:30:00-05:00"]
    assert fires("*/15 * * * *", after, NY, 2) == [
        "2026-11-01T01:15:00-05:00",
        "2026-11-01T01:30:00-05:00",
    ]
    assert fires("0 * * * *", after, NY, 1) == ["2026-11-01T02:00:00-05:00"]
    # The same instant given as a fold=1 wall time.
    assert fires("*/15 * * * *", at(NY, 2026, 11, 1, 1, 10, fold=1), NY, 1) == [
        "2026-11-01T01:15:00-05:00"
    ]


def test_new_york_fall_back_next_after_from_inside_the_first_pass() -> None:
    """2026-11-01 02:00 EDT -> 01:00 EST: from 01:50 EDT (05:50Z, first pass) the next
    wall-clock fire is 01:00 EST (second pass), not 02:00."""
    after = datetime(2026, 11, 1, 5, 50, tzinfo=UTC)
    assert fires("*/15 * * * *", after, NY, 2) == [
        "2026-11-01T01:00:00-05:00",
        "2026-11-01T01:15:00-05:00",
    ]
    assert fires("30 1 * * *", datetime(2026, 11, 1, 5, 10, tzinfo=UTC), NY, 1) == [
        "2026-11-01T01:30:00-04:00"
    ]
    assert fires("45 1 * * *", after, NY, 1) == ["2026-11-02T01:45:00-05:00"]


def test_new_york_fall_back_prev_before_after_the_overlap() -> None:
    """2026-11-01 02:00 EDT -> 01:00 EST: stepping back from 02:00 EST finds the second pass
    for a wall-clock job and the first pass for a fixed-time job."""
    end = datetime(2026, 11, 1, 7, tzinfo=UTC)  # 02:00 EST
    hourly = CronExpr.parse("0 * * * *").prev_before(end, NY)
    assert hourly is not None
    assert hourly.isoformat() == "2026-11-01T01:00:00-05:00"
    fixed = CronExpr.parse("30 1 * * *").prev_before(end, NY)
    assert fixed is not None
    assert fixed.isoformat() == "2026-11-01T01:30:00-04:00"


@pytest.mark.parametrize(
    ("text", "before", "expected"),
    [
        ("30 1 * * *", datetime(2026, 11, 1, 6, 10, tzinfo=UTC), "2026-11-01T01:30:00-04:00"),
        ("0 * * * *", datetime(2026, 11, 1, 6, 0, tzinfo=UTC), "2026-11-01T01:00:00-04:00"),
        ("*/15 * * * *", datetime(2026, 11, 1, 6, 0, tzinfo=UTC), "2026-11-01T01:45:00-04:00"),
        ("* 1 * * *", datetime(2026, 11, 1, 6, 0, tzinfo=UTC), "2026-11-01T01:59:00-04:00"),
    ],
)
def test_new_york_fall_back_prev_before_from_the_second_pass(
    text: str, before: datetime, expected: str
) -> None:
    """2026-11-01 02:00 EDT -> 01:00 EST: every first-pass instant (05:00-05:59Z) precedes
    every second-pass instant (06:00-06:59Z)."""
    got = CronExpr.parse(text).prev_before(before, NY)
    assert got is not None
    assert got.isoformat() == expected


# -- Europe/London --------------------------------------------------------------------------


def test_london_spring_forward() -> None:
    """2026-03-29 01:00 GMT -> 02:00 BST: fixed 01:00 and 01:30 run at 02:00 BST; wall-clock
    jobs skip 01:xx."""
    assert fires("30 1 * * *", at(LONDON, 2026, 3, 28, 3), LONDON, 2) == [
        "2026-03-29T02:00:00+01:00",
        "2026-03-30T01:30:00+01:00",
    ]
    assert fires("0 1 * * *", at(LONDON, 2026, 3, 28, 3), LONDON, 1) == [
        "2026-03-29T02:00:00+01:00"
    ]
    assert fires("*/30 * * * *", at(LONDON, 2026, 3, 29), LONDON, 3) == [
        "2026-03-29T00:30:00+00:00",
        "2026-03-29T02:00:00+01:00",
        "2026-03-29T02:30:00+01:00",
    ]


def test_london_fall_back() -> None:
    """2026-10-25 02:00 BST -> 01:00 GMT: fixed 01:30 runs once in BST; wall-clock jobs run
    both passes."""
    assert fires("30 1 * * *", at(LONDON, 2026, 10, 24, 3), LONDON, 2) == [
        "2026-10-25T01:30:00+01:00",
        "2026-10-26T01:30:00+00:00",
    ]
    assert fires("*/30 * * * *", at(LONDON, 2026, 10, 25, 0, 40), LONDON, 5) == [
        "2026-10-25T01:00:00+01:00",
        "2026-10-25T01:30:00+01:00",
        "2026-10-25T01:00:00+00:00",
        "2026-10-25T01:30:00+00:00",
        "2026-10-25T02:00:00+00:00",
    ]


# -- Australia/Lord_Howe (30-minute shifts) ----------------------------------------------------


def test_lord_howe_spring_forward_half_hour_gap() -> None:
    """2026-10-04 02:00 (+10:30) -> 02:30 (+11:00): 02:00-02:29 does not exist; fixed times in
    it run at 02:30, fixed 02:45 is unaffected, wall-clock jobs skip the gap."""
    start = at(LORD_HOWE, 2026, 10, 3, 12)
    assert fires("0 2 * * *", start, LORD_HOWE, 2) == [
        "2026-10-04T02:30:00+11:00",
        "2026-10-05T02:00:00+11:00",
    ]
    assert fires("15 2 * * *", start, LORD_HOWE, 1) == ["2026-10-04T02:30:00+11:00"]
    assert fires("0,15 2 * * *", start, LORD_HOWE, 2) == [
        "2026-10-04T02:30:00+11:00",
        "2026-10-05T02:00:00+11:00",
    ]
    assert fires("45 2 * * *", start, LORD_HOWE, 1) == ["2026-10-04T02:45:00+11:00"]
    assert fires("*/15 * * * *", at(LORD_HOWE, 2026, 10, 4, 1, 40), LORD_HOWE, 3) == [
        "2026-10-04T01:45:00+10:30",
        "2026-10-04T02:30:00+11:00",
        "2026-10-04T02:45:00+11:00",
    ]


def test_lord_howe_fall_back_half_hour_overlap() -> None:
    """2026-04-05 02:00 (+11:00) -> 01:30 (+10:30): 01:30-01:59 happens twice; fixed 01:45
    runs on the first pass only, fixed 01:15 is unaffected, wall-clock jobs run both passes."""
    start = at(LORD_HOWE, 2026, 4, 4, 12)
    assert fires("45 1 * * *", start, LORD_HOWE, 2) == [
        "2026-04-05T01:45:00+11:00",
        "2026-04-06T01:45:00+10:30",
    ]
    assert fires("15 1 * * *", start, LORD_HOWE, 1) == ["2026-04-05T01:15:00+11:00"]
    assert fires("*/15 * * * *", at(LORD_HOWE, 2026, 4, 5, 1, 10), LORD_HOWE, 6) == [
        "2026-04-05T01:15:00+11:00",
        "2026-04-05T01:30:00+11:00",
        "2026-04-05T01:45:00+11:00",
        "2026-04-05T01:30:00+10:30",
        "2026-04-05T01:45:00+10:30",
        "2026-04-05T02:00:00+10:30",
    ]


# -- Pacific/Apia (a whole day skipped) --------------------------------------------------------


def test_apia_skipped_day_fixed_job_runs_at_midnight_for_the_lost_day() -> None:
    """2011-12-29 (-10:00) was followed by 2011-12-31 (+14:00): the noon run of Dec 30 happens
    at 2011-12-31 00:00, then noon runs go on as usual."""
    assert fires("0 12 * * *", at(APIA, 2011, 12, 29), APIA, 4) == [
        "2011-12-29T12:00:00-10:00",
        "2011-12-31T00:00:00+14:00",
        "2011-12-31T12:00:00+14:00",
        "2012-01-01T12:00:00+14:00",
    ]


def test_apia_skipped_day_date_job_runs_at_midnight() -> None:
    """2011-12-30 never happened in Apia: a job for the 30th runs at 2011-12-31 00:00."""
    assert fires("0 0 30 * *", at(APIA, 2011, 12, 1), APIA, 2) == [
        "2011-12-31T00:00:00+14:00",
        "2012-01-30T00:00:00+14:00",
    ]


def test_apia_skipped_day_wall_clock_job_skips_it() -> None:
    """2011-12-29 23:59:59 (-10:00) -> 2011-12-31 00:00 (+14:00): hourly runs skip Dec 30."""
    assert fires("0 * * * *", at(APIA, 2011, 12, 29, 22, 30), APIA, 3) == [
        "2011-12-29T23:00:00-10:00",
        "2011-12-31T00:00:00+14:00",
        "2011-12-31T01:00:00+14:00",
    ]


# -- prev_before / iter_before mirror iter_after across every transition --------------------

# (name, zone, window start, window end), windows in UTC around each transition.
TRANSITIONS = [
    ("ny-spring", NY, datetime(2026, 3, 7, 12, tzinfo=UTC), datetime(2026, 3, 9, 12, tzinfo=UTC)),
    ("ny-fall", NY, datetime(2026, 10, 31, 12, tzinfo=UTC), datetime(2026, 11, 2, 12, tzinfo=UTC)),
    ("london-spring", LONDON, datetime(2026, 3, 28, 12, tzinfo=UTC),
     datetime(2026, 3, 30, 12, tzinfo=UTC)),
    ("london-fall", LONDON, datetime(2026, 10, 24, 12, tzinfo=UTC),
     datetime(2026, 10, 26, 12, tzinfo=UTC)),
    ("lord-howe-spring", LORD_HOWE, datetime(2026, 10, 2, 12, tzinfo=UTC),
     datetime(2026, 10, 4, 12, tzinfo=UTC)),
    ("lord-howe-fall", LORD_HOWE, datetime(2026, 4, 3, 12, tzinfo=UTC),
     datetime(2026, 4, 5, 12, tzinfo=UTC)),
    ("apia", APIA, datetime(2011, 12, 28, 12, tzinfo=UTC), datetime(2012, 1, 1, 12, tzinfo=UTC)),
]  # fmt: skip

FIXED = [
    "30 2 * * *",
    "0,30 2 * * *",
    "0-59 2 * * *",
    "0-59/15 1 * * *",
    "30 1 * * *",
    "45 1 * * *",
    "0 12 * * *",
    "30 30 1 * * *",
    "15,45 1,2 * * *",
]
WALL_CLOCK = ["*/15 * * * *", "0 * * * *", "* 1 * * *", "0 */30 * * * *"]


def _mirror_params() -> list[object]:
    params: list[object] = []
    for name, zone, start, end in TRANSITIONS:
        for text in FIXED + WALL_CLOCK:
            params.append(pytest.param(zone, start, end, text, id=f"{name}:{text}"))
    return params


@pytest.mark.parametrize(("zone", "start", "end", "text"), _mirror_params())
def test_iter_before_is_iter_after_reversed_across_transitions(
    zone: str, start: datetime, end: datetime, text: str
) -> None:
    expr = CronExpr.parse(text)
    forward = list(itertools.takewhile(lambda d: d < end, expr.iter_after(start, zone)))
    backward = list(itertools.takewhile(lambda d: d > start, expr.iter_before(end, zone)))
    assert forward
    assert iso(list(reversed(backward))) == iso(forward)
    utc = [d.astimezone(UTC) for d in forward]
    assert all(a < b for a, b in itertools.pairwise(utc)), "strictly increasing instants"


@pytest.mark.parametrize(("name", "zone", "start", "end"), TRANSITIONS)
@pytest.mark.parametrize("text", ["*/15 * * * *", "30 1 * * *", "0,30 2 * * *"])
def test_next_after_from_any_instant_agrees_with_iteration(
    name: str, zone: str, start: datetime, end: datetime, text: str
) -> None:
    expr = CronExpr.parse(text)
    horizon = end + timedelta(days=2)
    forward = [
        d.astimezone(UTC)
        for d in itertools.takewhile(lambda d: d < horizon, expr.iter_after(start, zone))
    ]
    instant = start
    while instant < end:
        expected = next(d for d in forward if d > instant)
        got = expr.next_after(instant, zone)
        assert got is not None
        assert got.astimezone(UTC) == expected, f"{name} after {instant.isoformat()}"
        instant += timedelta(minutes=7, seconds=30)


# -- matches() around transitions --------------------------------------------------------------


@pytest.mark.parametrize(("name", "zone", "start", "end"), TRANSITIONS)
@pytest.mark.parametrize("text", ["*/15 * * * *", "0 * * * *", "30 1 * * *", "0,30 2 * * *"])
def test_matches_agrees_with_iteration(
    name: str, zone: str, start: datetime, end: datetime, text: str
) -> None:
    expr = CronExpr.parse(text)
    fired = {
        d.astimezone(UTC)
        for d in itertools.takewhile(lambda d: d < end, expr.iter_after(start, zone))
    }
    instant = start + timedelta(minutes=5)
    while instant < end:
        assert expr.matches(instant, zone) == (instant in fired), f"{name} {instant.isoformat()}"
        instant += timedelta(minutes=5)


def test_matches_in_new_york_spring_gap() -> None:
    """2026-03-08 02:00 EST -> 03:00 EDT: 03:00 EDT matches a fixed 02:30 job; a wall time of
    02:30 does not exist (zoneinfo reads it as 03:30 EDT), which is not a fire."""
    fixed = CronExpr.parse("30 2 * * *")
    assert fixed.matches(at(NY, 2026, 3, 8, 3), NY)
    assert fixed.matches(datetime(2026, 3, 8, 7, tzinfo=UTC), NY)
    assert not fixed.matches(at(NY, 2026, 3, 8, 2, 30), NY)
    assert not fixed.matches(at(NY, 2026, 3, 8, 3, 30), NY)
    assert not fixed.matches(datetime(2026, 3, 8, 7, 0, 0, 1, tzinfo=UTC), NY)
    wall = CronExpr.parse("*/30 * * * *")
    assert wall.matches(at(NY, 2026, 3, 8, 3), NY)
    assert wall.matches(at(NY, 2026, 3, 8, 1, 30), NY)


def test_matches_in_new_york_fall_back_overlap() -> None:
    """2026-11-01 02:00 EDT -> 01:00 EST: a fixed 01:30 job matches the first pass only; a
    wall-clock job matches both."""
    first = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT
    second = datetime(2026, 11, 1, 6, 30, tzinfo=UTC)  # 01:30 EST
    fixed = CronExpr.parse("30 1 * * *")
    assert fixed.matches(first, NY)
    assert not fixed.matches(second, NY)
    assert fixed.matches(at(NY, 2026, 11, 1, 1, 30, fold=0), NY)
    assert not fixed.matches(at(NY, 2026, 11, 1, 1, 30, fold=1), NY)
    wall = CronExpr.parse("*/30 * * * *")
    assert wall.matches(first, NY)
    assert wall.matches(second, NY)
    assert not wall.matches(second + timedelta(milliseconds=1), NY)


def test_zone_object_and_name_agree_across_transitions() -> None:
    """Same results whether the zone is given by name or as a ZoneInfo."""
    for _name, zone, start, end in TRANSITIONS:
        for text in ("30 2 * * *", "*/30 * * * *"):
            by_name = fires_until(text, start, end, zone)
            by_object = before(CronExpr.parse(text).iter_after(start, ZoneInfo(zone)), end)
            assert iso(by_name) == iso(by_object)
