"""Quartz day rules (L, L-n, LW, nW, dL, d#n) and H hashing.

Calendar facts used below (2026): Jan 31 is a Saturday, Feb 15 a Sunday, Feb 28 a Saturday,
Mar 15 a Sunday, May 31 a Sunday, Aug 1 a Saturday, Aug 15 a Saturday, Aug 30 a Sunday,
Oct 31 a Saturday. Months with five Fridays: January, May, July and October.
"""

from __future__ import annotations

import hashlib
import itertools
from datetime import UTC, datetime, timedelta

import pytest

from tickwork.cron import CronExpr

NEW_YEARS_EVE = datetime(2025, 12, 31, 12, tzinfo=UTC)


def fires(
    text: str, after: datetime = NEW_YEARS_EVE, count: int = 6, *, hash_key: str | None = None
) -> list[str]:
    expr = CronExpr.parse(text, hash_key=hash_key)
    return [d.date().isoformat() for d in itertools.islice(expr.iter_after(after, "UTC"), count)]


# -- day-of-month rules ---------------------------------------------------------------


def test_last_day_of_month() -> None:
    assert fires("0 0 L * *") == [
        "2026-01-31",
        "2026-02-28",
        "2026-03-31",
        "2026-04-30",
        "2026-05-31",
        "2026-06-30",
    ]


def test_last_day_of_february_in_a_leap_year() -> None:
    assert fires("0 0 L 2 *", count=3) == ["2026-02-28", "2027-02-28", "2028-02-29"]


def test_days_before_the_last() -> None:
    assert fires("0 0 L-3 * *", count=4) == ["2026-01-28", "2026-02-25", "2026-03-28", "2026-04-27"]


def test_l_minus_zero_is_the_last_day() -> None:
    assert fires("0 0 L-0 * *", count=3) == fires("0 0 L * *", count=3)


def test_last_weekday_of_month() -> None:
    # Jan 31 Sat -> Fri 30; Feb 28 Sat -> Fri 27; Mar 31 Tue; Apr 30 Thu;
    # May 31 Sun -> Fri 29; Jun 30 Tue.
    assert fires("0 0 LW * *") == [
        "2026-01-30",
        "2026-02-27",
        "2026-03-31",
        "2026-04-30",
        "2026-05-29",
        "2026-06-30",
    ]


def test_nearest_weekday_to_the_15th() -> None:
    # Jan 15 Thu; Feb 15 Sun -> Mon 16; Mar 15 Sun -> Mon 16; Apr 15 Wed; May 15 Fri;
    # Jun 15 Mon; Jul 15 Wed; Aug 15 Sat -> Fri 14.
    assert fires("0 0 15W * *", count=8) == [
        "2026-01-15",
        "2026-02-16",
        "2026-03-16",
        "2026-04-15",
        "2026-05-15",
        "2026-06-15",
        "2026-07-15",
        "2026-08-14",
    ]


def test_1w_on_a_saturday_moves_forward_to_monday_3rd() -> None:
    # Aug 1 2026 is a Saturday: Friday Jul 31 is in another month, so Monday Aug 3.
    after = datetime(2026, 7, 15, tzinfo=UTC)
    assert fires("0 0 1W * *", after, 3) == ["2026-08-03", "2026-09-01", "2026-10-01"]


def test_1w_on_a_sunday_moves_to_monday_2nd() -> None:
    # Feb 1 and Mar 1 2026 are Sundays.
    after = datetime(2026, 1, 15, tzinfo=UTC)
    assert fires("0 0 1W * *", after, 2) == ["2026-02-02", "2026-03-02"]


def test_31w_does_not_fire_in_30_day_months() -> None:
    # May 31 Sun -> Fri 29 (month end: back to Friday); Jun has 30 days; Jul 31 Fri;
    # Aug 31 Mon; Sep has 30 days; Oct 31 Sat -> Fri 30; Nov has 30 days; Dec 31 Thu.
    after = datetime(2026, 4, 1, tzinfo=UTC)
    assert fires("0 0 31W * *", after, 5) == [
        "2026-05-29",
        "2026-07-31",
        "2026-08-31",
        "2026-10-30",
        "2026-12-31",
    ]


def test_nearest_weekday_to_a_sunday_at_month_end_is_the_friday() -> None:
    assert fires("0 0 31W 5 *", count=1) == ["2026-05-29"]


def test_nearest_weekday_to_a_sunday_inside_the_month_is_the_monday() -> None:
    # Aug 30 2026 is a Sunday and Aug 31 exists.
    assert fires("0 0 30W 8 *", count=1) == ["2026-08-31"]


def test_day_rules_case_insensitive_and_in_lists() -> None:
    assert fires("0 0 lw * *", count=2) == fires("0 0 LW * *", count=2)
    assert fires("0 0 15w * *", count=2) == fires("0 0 15W * *", count=2)
    assert fires("0 0 15W,L * *", count=4) == [
        "2026-01-15",
        "2026-01-31",
        "2026-02-16",
        "2026-02-28",
    ]
    assert fires("0 0 1,L * *", count=4) == [
        "2026-01-01",
        "2026-01-31",
        "2026-02-01",
        "2026-02-28",
    ]


# -- day-of-week rules ----------------------------------------------------------------


def test_last_friday() -> None:
    expected = ["2026-01-30", "2026-02-27", "2026-03-27", "2026-04-24", "2026-05-29"]
    assert fires("0 0 * * 5L", count=5) == expected
    assert fires("0 0 * * FRIL", count=5) == expected
    assert fires("0 0 ? * fril", count=5) == expected


def test_last_sunday_as_0l_and_7l() -> None:
    expected = ["2026-01-25", "2026-02-22", "2026-03-29"]
    assert fires("0 0 * * 0L", count=3) == expected
    assert fires("0 0 * * 7L", count=3) == expected


def test_third_friday() -> None:
    expected = ["2026-01-16", "2026-02-20", "2026-03-20", "2026-04-17"]
    assert fires("0 0 * * 5#3", count=4) == expected
    assert fires("0 0 * * FRI#3", count=4) == expected


def test_first_sunday_as_0_and_7() -> None:
    expected = ["2026-01-04", "2026-02-01", "2026-03-01"]
    assert fires("0 0 * * 0#1", count=3) == expected
    assert fires("0 0 * * 7#1", count=3) == expected


def test_fifth_friday_only_in_months_that_have_one() -> None:
    assert fires("0 0 * * 5#5", count=4) == ["2026-01-30", "2026-05-29", "2026-07-31", "2026-10-30"]


def test_several_weekday_rules_in_a_list() -> None:
    # First Monday or last Friday.
    assert fires("0 0 * * 1#1,5L", count=4) == [
        "2026-01-05",
        "2026-01-30",
        "2026-02-02",
        "2026-02-27",
    ]


# -- combinations with the OR rule ----------------------------------------------------


def test_last_day_or_third_friday() -> None:
    # Both fields restricted: either matches.
    assert fires("0 0 L * 5#3", count=6) == [
        "2026-01-16",
        "2026-01-31",
        "2026-02-20",
        "2026-02-28",
        "2026-03-20",
        "2026-03-31",
    ]


def test_fifteenth_or_last_friday() -> None:
    assert fires("0 0 15 * 5L", count=4) == ["2026-01-15", "2026-01-30", "2026-02-15", "2026-02-27"]


def test_starred_day_of_month_and_last_friday_means_both() -> None:
    # */2 starts with '*': last Fridays with an odd date (Jan 30 and Apr 24 are even).
    assert fires("0 0 */2 * 5L", count=3) == ["2026-02-27", "2026-03-27", "2026-05-29"]


def test_last_weekday_with_star_day_of_week() -> None:
    assert fires("0 0 LW * *", count=2) == fires("0 0 LW * ?", count=2)


# -- H hashing --------------------------------------------------------------------------


def test_same_key_same_values() -> None:
    first = CronExpr.parse("H H * * *", hash_key="schedule-a")
    again = CronExpr.parse("H H * * *", hash_key="schedule-a")
    assert (first.minutes, first.hours) == (again.minutes, again.hours)
    assert first == again
    assert first != CronExpr.parse("H H * * *", hash_key="schedule-b")


def test_hash_is_stable_across_releases() -> None:
    """A change of hash function would move every H schedule: pin concrete values."""
    expr = CronExpr.parse("H * * * *", hash_key="sched-1")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert expr.next_after(start) == datetime(2026, 1, 1, 0, 38, tzinfo=UTC)
    # SHA-256 of "<key>\0<field>", first 8 bytes big-endian, modulo the span.
    digest = hashlib.sha256(b"sched-1\x00minute").digest()
    assert int.from_bytes(digest[:8], "big") % 60 == 38
    daily = CronExpr.parse("H H * * *", hash_key="sched-1")
    assert daily.next_after(start) == datetime(2026, 1, 1, 3, 38, tzinfo=UTC)
    monthly = CronExpr.parse("0 0 H * *", hash_key="sched-1")
    assert monthly.next_after(start) == datetime(2026, 1, 15, tzinfo=UTC)


def test_fields_hash_independently() -> None:
    # The field name is part of what is hashed: second and minute differ for one key.
    expr = CronExpr.parse("H H * * * *", hash_key="sched-1")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert expr.next_after(start) == datetime(2026, 1, 1, 0, 38, 8, tzinfo=UTC)


def _single_minute(text: str, key: str) -> int:
    mask = CronExpr.parse(text, hash_key=key).minutes
    assert mask & (mask - 1) == 0, "H picks exactly one value"
    return mask.bit_length() - 1


def test_different_keys_spread_across_the_hour() -> None:
    minutes = [_single_minute("H * * * *", f"schedule-{n}") for n in range(1000)]
    assert len(set(minutes)) >= 50
    assert all(0 <= m <= 59 for m in minutes)
    # No minute takes a big share: a uniform spread puts ~17 keys on each.
    assert max(minutes.count(m) for m in set(minutes)) < 50


@pytest.mark.parametrize("key", [f"schedule-{n}" for n in range(25)])
def test_h_step_15_gives_four_fires_an_hour(key: str) -> None:
    expr = CronExpr.parse("H/15 * * * *", hash_key=key)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    hour = list(
        itertools.takewhile(
            lambda d: d < start + timedelta(hours=1), expr.iter_after(start - timedelta(seconds=1))
        )
    )
    assert len(hour) == 4
    offset = hour[0].minute
    assert 0 <= offset < 15
    assert [d.minute for d in hour] == [offset, offset + 15, offset + 30, offset + 45]


def test_h_step_offset_concrete() -> None:
    assert _minutes_of("H/15 * * * *", "sched-1") == [8, 23, 38, 53]
    assert _minutes_of("H(0-29)/10 * * * *", "sched-1") == [8, 18, 28]


def _minutes_of(text: str, key: str) -> list[int]:
    mask = CronExpr.parse(text, hash_key=key).minutes
    return [m for m in range(60) if mask >> m & 1]


def test_h_range_stays_in_range() -> None:
    minutes = {_single_minute("H(0-29) * * * *", f"k{n}") for n in range(500)}
    assert minutes <= set(range(30))
    assert len(minutes) >= 25
    shifted = {_single_minute("H(40-44) * * * *", f"k{n}") for n in range(200)}
    assert shifted == {40, 41, 42, 43, 44}


def test_h_in_day_of_month_stays_within_1_to_28() -> None:
    days = set()
    for n in range(500):
        mask = CronExpr.parse("0 0 H * *", hash_key=f"k{n}").day_of_month.mask
        assert mask & (mask - 1) == 0
        days.add(mask.bit_length() - 1)
    assert days == set(range(1, 29))


def test_h_day_of_month_fires_every_month_including_february() -> None:
    keys = [f"k{n}" for n in range(50)]
    for key in keys:
        got = fires("0 0 H * *", count=12, hash_key=key)
        assert [d[:7] for d in got] == [f"2026-{m:02d}" for m in range(1, 13)]


def test_h_in_other_fields_stays_in_range() -> None:
    hours, months, weekdays = set(), set(), set()
    for n in range(500):
        expr = CronExpr.parse("0 H * H H", hash_key=f"k{n}")
        hours.add(expr.hours.bit_length() - 1)
        months.add(expr.months.bit_length() - 1)
        weekdays.add(expr.day_of_week.mask.bit_length() - 1)
    assert hours == set(range(24))
    assert months == set(range(1, 13))
    assert weekdays == set(range(7))


def test_h_step_is_a_wall_clock_job_and_plain_h_minute_is_fixed() -> None:
    # H/step counts as '*' (Vixie's rule); a plain H minute with a fixed hour does not.
    assert CronExpr.parse("H/15 * * * *", hash_key="k").wall_clock
    assert not CronExpr.parse("H 2 * * *", hash_key="k").wall_clock
    assert not CronExpr.parse("H(0-29) H * * *", hash_key="k").wall_clock


def test_h_jobs_follow_the_dst_rules() -> None:
    """America/New_York skips 02:00-03:00 on 2026-03-08."""
    after = datetime(2026, 3, 8, 5, tzinfo=UTC)  # 00:00 EST
    fixed = CronExpr.parse("H 2 * * *", hash_key="sched-1")  # minute 38 at 02:xx
    got = [d.isoformat() for d in itertools.islice(fixed.iter_after(after, "America/New_York"), 2)]
    assert got == ["2026-03-08T03:00:00-04:00", "2026-03-09T02:38:00-04:00"]
    stepped = CronExpr.parse("H/15 * * * *", hash_key="sched-1")  # 8, 23, 38, 53
    after = datetime(2026, 3, 8, 6, 50, tzinfo=UTC)  # 01:50 EST
    got = [
        d.isoformat() for d in itertools.islice(stepped.iter_after(after, "America/New_York"), 3)
    ]
    assert got == [
        "2026-03-08T01:53:00-05:00",
        "2026-03-08T03:08:00-04:00",
        "2026-03-08T03:23:00-04:00",
    ]
