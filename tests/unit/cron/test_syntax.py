"""Every syntax element of the cron engine, with fire lists worked out from the calendar.

Calendar facts used below (2026): Jan 1 is a Thursday, so Jan 2/9/16/23/30 are Fridays and
Jan 4/11/18/25 Sundays; Feb 1 is a Sunday and Feb 13 a Friday; Mar 1 is a Sunday.
Results are compared as ``isoformat()`` strings, which carry the offset.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from tickwork.cron import CronExpr

JAN_1 = datetime(2026, 1, 1, tzinfo=UTC)  # a Thursday
NEW_YEARS_EVE = datetime(2025, 12, 31, 12, tzinfo=UTC)


def fires(
    text: str, after: datetime, count: int, tz: str = "UTC", *, hash_key: str | None = None
) -> list[str]:
    expr = CronExpr.parse(text, hash_key=hash_key)
    return [d.isoformat() for d in itertools.islice(expr.iter_after(after, tz), count)]


def days(*dates: str, time: str = "00:00:00", offset: str = "+00:00") -> list[str]:
    return [f"{date}T{time}{offset}" for date in dates]


# -- field counts -----------------------------------------------------------------------


def test_five_fields_are_minute_hour_dom_month_dow_with_second_zero() -> None:
    assert fires("30 9 * * *", JAN_1, 3) == days(
        "2026-01-01", "2026-01-02", "2026-01-03", time="09:30:00"
    )


def test_five_fields_fire_on_whole_minutes_only() -> None:
    after = datetime(2026, 1, 1, 0, 0, 30, tzinfo=UTC)
    assert fires("* * * * *", after, 2) == [
        "2026-01-01T00:01:00+00:00",
        "2026-01-01T00:02:00+00:00",
    ]


def test_six_fields_put_seconds_first() -> None:
    assert fires("15 30 9 * * *", JAN_1, 2) == days("2026-01-01", "2026-01-02", time="09:30:15")


def test_six_field_second_steps() -> None:
    assert fires("*/20 * * * * *", JAN_1, 4) == [
        "2026-01-01T00:00:20+00:00",
        "2026-01-01T00:00:40+00:00",
        "2026-01-01T00:01:00+00:00",
        "2026-01-01T00:01:20+00:00",
    ]


def test_seven_fields_put_year_last_and_run_out() -> None:
    expr = CronExpr.parse("0 0 12 1 1 * 2027-2029")
    assert [d.isoformat() for d in expr.iter_after(JAN_1, "UTC")] == [
        "2027-01-01T12:00:00+00:00",
        "2028-01-01T12:00:00+00:00",
        "2029-01-01T12:00:00+00:00",
    ]
    assert expr.next_after(datetime(2029, 1, 1, 12, tzinfo=UTC)) is None
    assert expr.next_after(datetime(2150, 6, 1, tzinfo=UTC)) is None


def test_seven_fields_prev_before_runs_out_too() -> None:
    expr = CronExpr.parse("0 0 12 1 1 * 2027-2029")
    before = datetime(2035, 1, 1, tzinfo=UTC)
    assert [d.isoformat() for d in expr.iter_before(before, "UTC")] == [
        "2029-01-01T12:00:00+00:00",
        "2028-01-01T12:00:00+00:00",
        "2027-01-01T12:00:00+00:00",
    ]
    assert expr.prev_before(datetime(2027, 1, 1, 12, tzinfo=UTC)) is None
    assert expr.prev_before(datetime(1999, 1, 1, tzinfo=UTC)) is None


def test_year_step_ends_at_2199() -> None:
    got = fires("0 0 0 1 1 * 2030/10", JAN_1, 100)
    assert got == [f"{year}-01-01T00:00:00+00:00" for year in range(2030, 2200, 10)]
    assert got[-1] == "2190-01-01T00:00:00+00:00"


def test_year_range_bounds_1970_and_2199_are_usable() -> None:
    first = CronExpr.parse("0 0 0 1 1 * 1970")
    assert first.prev_before(JAN_1) == datetime(1970, 1, 1, tzinfo=UTC)
    assert first.prev_before(datetime(1970, 1, 1, tzinfo=UTC)) is None
    last = CronExpr.parse("0 0 0 31 12 * 2199")
    assert last.next_after(JAN_1) == datetime(2199, 12, 31, tzinfo=UTC)
    assert last.next_after(datetime(2199, 12, 31, tzinfo=UTC)) is None


def test_star_year_in_seven_fields_is_every_year() -> None:
    assert fires("0 0 0 1 1 * *", JAN_1, 2) == days("2027-01-01", "2028-01-01")


# -- names --------------------------------------------------------------------------------

MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
WEEKDAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]


@pytest.mark.parametrize(("number", "name"), list(enumerate(MONTHS, start=1)))
def test_month_names_equal_their_numbers(number: int, name: str) -> None:
    by_number = fires(f"0 0 1 {number} *", NEW_YEARS_EVE, 3)
    assert fires(f"0 0 1 {name} *", NEW_YEARS_EVE, 3) == by_number
    assert fires(f"0 0 1 {name.lower()} *", NEW_YEARS_EVE, 3) == by_number
    assert by_number == days(
        f"2026-{number:02d}-01", f"2027-{number:02d}-01", f"2028-{number:02d}-01"
    )


@pytest.mark.parametrize(("number", "name"), list(enumerate(WEEKDAYS)))
def test_weekday_names_equal_their_numbers(number: int, name: str) -> None:
    by_number = fires(f"0 0 * * {number}", NEW_YEARS_EVE, 3)
    assert fires(f"0 0 * * {name}", NEW_YEARS_EVE, 3) == by_number
    assert fires(f"0 0 * * {name.title()}", NEW_YEARS_EVE, 3) == by_number
    # 2026-01-01 is a Thursday (4) and 2026-01-04 a Sunday (0).
    first_day = 4 + number if number < 4 else 1 + number - 4
    assert by_number == days(*(f"2026-01-{first_day + 7 * week:02d}" for week in range(3)))


def test_names_in_ranges_and_lists_any_case() -> None:
    assert fires("0 12 * * mon-FRI", JAN_1, 4) == days(
        "2026-01-01", "2026-01-02", "2026-01-05", "2026-01-06", time="12:00:00"
    )
    assert fires("0 0 1 jan,Jul *", datetime(2025, 12, 31, tzinfo=UTC), 3) == days(
        "2026-01-01", "2026-07-01", "2027-01-01"
    )
    assert fires("0 0 * * Sat,sUn", JAN_1, 4) == days(
        "2026-01-03", "2026-01-04", "2026-01-10", "2026-01-11"
    )


# -- *, ranges, steps, lists ------------------------------------------------------------


def test_star_every_minute() -> None:
    assert fires("* * * * *", JAN_1, 3) == [
        "2026-01-01T00:01:00+00:00",
        "2026-01-01T00:02:00+00:00",
        "2026-01-01T00:03:00+00:00",
    ]


def test_hour_range() -> None:
    assert fires("0 9-11 * * *", JAN_1, 4) == [
        "2026-01-01T09:00:00+00:00",
        "2026-01-01T10:00:00+00:00",
        "2026-01-01T11:00:00+00:00",
        "2026-01-02T09:00:00+00:00",
    ]


def test_star_step() -> None:
    assert fires("*/15 * * * *", JAN_1, 5) == [
        "2026-01-01T00:15:00+00:00",
        "2026-01-01T00:30:00+00:00",
        "2026-01-01T00:45:00+00:00",
        "2026-01-01T01:00:00+00:00",
        "2026-01-01T01:15:00+00:00",
    ]


def test_star_step_restarts_each_hour() -> None:
    # */7 is 0, 7, ..., 56 in every hour; it does not carry on to 03 of the next hour.
    got = fires("*/7 * * * *", JAN_1, 9)
    assert [d[14:16] for d in got] == ["07", "14", "21", "28", "35", "42", "49", "56", "00"]
    assert got[-1] == "2026-01-01T01:00:00+00:00"


def test_range_step() -> None:
    got = fires("10-50/5 * * * *", JAN_1, 10)
    assert [int(d[14:16]) for d in got[:9]] == list(range(10, 51, 5))
    assert got[9] == "2026-01-01T01:10:00+00:00"


def test_value_step_runs_to_the_end_of_the_range() -> None:
    got = fires("7/10 * * * *", JAN_1, 7)
    assert [int(d[14:16]) for d in got] == [7, 17, 27, 37, 47, 57, 7]
    assert got[-1] == "2026-01-01T01:07:00+00:00"


def test_hour_step() -> None:
    got = fires("0 */5 * * *", JAN_1, 6)
    assert got == [
        "2026-01-01T05:00:00+00:00",
        "2026-01-01T10:00:00+00:00",
        "2026-01-01T15:00:00+00:00",
        "2026-01-01T20:00:00+00:00",
        "2026-01-02T00:00:00+00:00",
        "2026-01-02T05:00:00+00:00",
    ]


def test_list_mixing_values_ranges_and_steps() -> None:
    got = fires("1-3,10,20-40/10 * * * *", JAN_1, 8)
    assert [int(d[14:16]) for d in got] == [1, 2, 3, 10, 20, 30, 40, 1]


def test_day_of_month_31_skips_short_months() -> None:
    assert fires("0 0 31 * *", JAN_1, 4) == days(
        "2026-01-31", "2026-03-31", "2026-05-31", "2026-07-31"
    )


def test_february_29th_only_in_leap_years_and_not_in_2100() -> None:
    assert fires("0 0 29 2 *", JAN_1, 2) == days("2028-02-29", "2032-02-29")
    assert fires("0 0 29 2 *", datetime(2096, 3, 1, tzinfo=UTC), 1) == days("2104-02-29")


def test_question_mark_in_day_fields_means_any() -> None:
    assert fires("0 0 ? * MON", JAN_1, 2) == days("2026-01-05", "2026-01-12")
    assert fires("0 0 15 * ?", JAN_1, 2) == days("2026-01-15", "2026-02-15")
    assert fires("0 0 0 15 * ?", JAN_1, 1) == days("2026-01-15")


def test_day_of_week_0_and_7_are_both_sunday() -> None:
    sundays = days("2026-01-04", "2026-01-11", "2026-01-18")
    assert fires("0 0 * * 0", JAN_1, 3) == sundays
    assert fires("0 0 * * 7", JAN_1, 3) == sundays
    assert fires("0 0 * * 0,7", JAN_1, 3) == sundays


def test_day_of_week_range_ending_at_7() -> None:
    assert fires("0 0 * * 5-7", JAN_1, 4) == days(
        "2026-01-02", "2026-01-03", "2026-01-04", "2026-01-09"
    )


# -- wrapping ranges --------------------------------------------------------------------


def test_wrapping_hour_range() -> None:
    after = datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert fires("0 22-2 * * *", after, 6) == [
        "2026-01-01T22:00:00+00:00",
        "2026-01-01T23:00:00+00:00",
        "2026-01-02T00:00:00+00:00",
        "2026-01-02T01:00:00+00:00",
        "2026-01-02T02:00:00+00:00",
        "2026-01-02T22:00:00+00:00",
    ]


def test_wrapping_hour_range_with_step() -> None:
    after = datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert fires("0 22-2/2 * * *", after, 4) == [
        "2026-01-01T22:00:00+00:00",
        "2026-01-02T00:00:00+00:00",
        "2026-01-02T02:00:00+00:00",
        "2026-01-02T22:00:00+00:00",
    ]


def test_wrapping_weekday_range_fri_mon() -> None:
    assert fires("0 0 * * FRI-MON", JAN_1, 5) == days(
        "2026-01-02", "2026-01-03", "2026-01-04", "2026-01-05", "2026-01-09"
    )


def test_wrapping_weekday_range_from_7() -> None:
    # 7-1: Sunday to Monday.
    assert fires("0 0 * * 7-1", JAN_1, 3) == days("2026-01-04", "2026-01-05", "2026-01-11")


def test_wrapping_month_range() -> None:
    after = datetime(2026, 1, 15, tzinfo=UTC)
    assert fires("0 0 1 NOV-FEB *", after, 4) == days(
        "2026-02-01", "2026-11-01", "2026-12-01", "2027-01-01"
    )


def test_wrapping_day_of_month_range() -> None:
    after = datetime(2026, 1, 15, tzinfo=UTC)
    assert fires("0 0 30-2 * *", after, 6) == days(
        "2026-01-30", "2026-01-31", "2026-02-01", "2026-02-02", "2026-03-01", "2026-03-02"
    )


# -- macros -----------------------------------------------------------------------------

MACRO_CASES = [
    ("@yearly", "0 0 1 1 *", days("2027-01-01", "2028-01-01")),
    ("@annually", "0 0 1 1 *", days("2027-01-01", "2028-01-01")),
    ("@monthly", "0 0 1 * *", days("2026-04-01", "2026-05-01")),
    ("@weekly", "0 0 * * 0", days("2026-03-08", "2026-03-15")),
    ("@daily", "0 0 * * *", days("2026-03-04", "2026-03-05")),
    ("@midnight", "0 0 * * *", days("2026-03-04", "2026-03-05")),
    (
        "@hourly",
        "0 * * * *",
        ["2026-03-03T13:00:00+00:00", "2026-03-03T14:00:00+00:00"],
    ),
]


@pytest.mark.parametrize(("macro", "expanded", "expected"), MACRO_CASES)
def test_macros(macro: str, expanded: str, expected: list[str]) -> None:
    after = datetime(2026, 3, 3, 12, 30, tzinfo=UTC)  # a Tuesday
    assert fires(macro, after, 2) == expected
    assert fires(macro.upper(), after, 2) == expected
    assert fires(f"  {macro}  ", after, 2) == expected
    assert fires(expanded, after, 2) == expected


# -- Vixie day-of-month / day-of-week rule ------------------------------------------------


def test_both_day_fields_restricted_means_either() -> None:
    # Every Friday and every 13th; Friday 2026-02-13 fires once.
    assert fires("0 0 13 * 5", JAN_1, 9) == days(
        "2026-01-02",
        "2026-01-09",
        "2026-01-13",
        "2026-01-16",
        "2026-01-23",
        "2026-01-30",
        "2026-02-06",
        "2026-02-13",
        "2026-02-20",
    )


def test_full_range_day_of_month_is_restricted_not_star() -> None:
    # "1-31" does not start with '*': OR with Fridays, so every day fires.
    assert fires("0 0 1-31 * 5", JAN_1, 3) == days("2026-01-02", "2026-01-03", "2026-01-04")


def test_starred_day_of_month_step_means_both() -> None:
    # Fridays with an odd date (*/2 is 1, 3, ..., 31).
    assert fires("0 0 */2 * 5", JAN_1, 6) == days(
        "2026-01-09", "2026-01-23", "2026-02-13", "2026-02-27", "2026-03-13", "2026-03-27"
    )


def test_starred_day_of_week_step_means_both() -> None:
    # 13ths falling on Sun/Tue/Thu/Sat (*/2 is 0, 2, 4, 6).
    assert fires("0 0 13 * */2", JAN_1, 5) == days(
        "2026-01-13", "2026-06-13", "2026-08-13", "2026-09-13", "2026-10-13"
    )


def test_star_in_one_day_field_leaves_the_other_alone() -> None:
    assert fires("0 0 * * 5", JAN_1, 2) == days("2026-01-02", "2026-01-09")
    assert fires("0 0 13 * *", JAN_1, 2) == days("2026-01-13", "2026-02-13")
    assert fires("0 0 ? * 5", JAN_1, 2) == days("2026-01-02", "2026-01-09")


# -- next_after / prev_before / iteration -----------------------------------------------


def test_next_after_is_strictly_after() -> None:
    expr = CronExpr.parse("30 9 * * *")
    at_fire = datetime(2026, 1, 1, 9, 30, tzinfo=UTC)
    assert expr.next_after(at_fire) == datetime(2026, 1, 2, 9, 30, tzinfo=UTC)
    assert expr.next_after(at_fire - timedelta(microseconds=1)) == at_fire


def test_prev_before_is_strictly_before() -> None:
    expr = CronExpr.parse("30 9 * * *")
    at_fire = datetime(2026, 1, 2, 9, 30, tzinfo=UTC)
    assert expr.prev_before(at_fire) == datetime(2026, 1, 1, 9, 30, tzinfo=UTC)
    assert expr.prev_before(at_fire + timedelta(microseconds=1)) == at_fire


def test_six_field_prev_before_within_a_second() -> None:
    expr = CronExpr.parse("*/20 * * * * *")
    before = datetime(2026, 1, 1, 0, 0, 20, 500_000, tzinfo=UTC)
    assert expr.prev_before(before) == datetime(2026, 1, 1, 0, 0, 20, tzinfo=UTC)
    assert expr.prev_before(before.replace(microsecond=0)) == datetime(
        2026, 1, 1, 0, 0, 0, tzinfo=UTC
    )


def test_results_are_in_the_requested_zone() -> None:
    expr = CronExpr.parse("0 9 * * *")
    got = expr.next_after(JAN_1, "Asia/Tokyo")
    assert got is not None
    # 2026-01-01T00:00Z is 09:00 in Tokyo itself, so the next fire is the next morning.
    assert got.isoformat() == "2026-01-02T09:00:00+09:00"
    # The same instant given in another zone gives the same answer.
    assert expr.next_after(JAN_1.astimezone(ZoneInfo("America/Denver")), "Asia/Tokyo") == got
    assert expr.next_after(JAN_1, "UTC") == datetime(2026, 1, 1, 9, tzinfo=UTC)


def test_zone_may_be_a_tzinfo() -> None:
    expr = CronExpr.parse("0 9 * * *")
    got = expr.next_after(JAN_1, ZoneInfo("Asia/Kolkata"))
    assert got is not None
    assert got.isoformat() == "2026-01-01T09:00:00+05:30"
    fixed = expr.next_after(JAN_1, timezone(timedelta(hours=-3)))
    assert fixed is not None
    assert fixed.isoformat() == "2026-01-01T09:00:00-03:00"


MIRROR_EXPRESSIONS = [
    "*/15 * * * *",
    "7/10 9-17 * * MON-FRI",
    "0 22-2 * * *",
    "0 0 13 * 5",
    "0 0 */2 * 5",
    "0 0 L * *",
    "0 0 * * 5#3",
    "*/20 30 9 * * *",
    "0 0 12 * * * 2026",
    "@weekly",
]


@pytest.mark.parametrize("text", MIRROR_EXPRESSIONS)
@pytest.mark.parametrize("tz", ["UTC", "Asia/Kolkata"])
def test_iter_before_reversed_equals_iter_after(text: str, tz: str) -> None:
    expr = CronExpr.parse(text)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    end = datetime(2026, 3, 1, tzinfo=UTC)
    forward = list(itertools.takewhile(lambda d: d < end, expr.iter_after(start, tz)))
    backward = list(itertools.takewhile(lambda d: d > start, expr.iter_before(end, tz)))
    assert forward, "the window must contain fires"
    assert [d.isoformat() for d in reversed(backward)] == [d.isoformat() for d in forward]
    assert all(a < b for a, b in itertools.pairwise(forward))


def test_iter_after_is_next_after_chained() -> None:
    expr = CronExpr.parse("0 0 13 * 5")
    chained: list[datetime] = []
    current: datetime | None = JAN_1
    for _ in range(10):
        assert current is not None
        current = expr.next_after(current)
        assert current is not None
        chained.append(current)
    assert list(itertools.islice(expr.iter_after(JAN_1), 10)) == chained


# -- matches -----------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["30 9 * * *", "0 0 13 * 5", "*/15 * * * *", "15 30 9 * * *"])
def test_matches_fires_and_not_instants_next_to_them(text: str) -> None:
    expr = CronExpr.parse(text)
    for fire in itertools.islice(expr.iter_after(JAN_1, "Asia/Kolkata"), 20):
        assert expr.matches(fire, "Asia/Kolkata")
        assert expr.matches(fire.astimezone(UTC), "Asia/Kolkata")
        assert not expr.matches(fire + timedelta(seconds=1), "Asia/Kolkata")
        assert not expr.matches(fire - timedelta(seconds=1), "Asia/Kolkata")
        assert not expr.matches(fire + timedelta(microseconds=1), "Asia/Kolkata")
        assert not expr.matches(fire + timedelta(milliseconds=500), "Asia/Kolkata")


def test_matches_off_days_and_zone_dependence() -> None:
    expr = CronExpr.parse("0 0 13 * 5")
    assert expr.matches(datetime(2026, 1, 13, tzinfo=UTC))  # a Tuesday, the 13th
    assert expr.matches(datetime(2026, 1, 16, tzinfo=UTC))  # a Friday
    assert not expr.matches(datetime(2026, 1, 14, tzinfo=UTC))  # a Wednesday
    # Midnight UTC on the 13th is 19:00 on the 12th in New York.
    assert not expr.matches(datetime(2026, 1, 13, tzinfo=UTC), "America/New_York")
    assert expr.matches(datetime(2026, 1, 13, 5, tzinfo=UTC), "America/New_York")


# -- bad instants -------------------------------------------------------------------------

NAIVE = datetime(2026, 1, 1)


def test_naive_datetimes_are_refused() -> None:
    expr = CronExpr.parse("* * * * *")
    with pytest.raises(ValueError, match=r"^after must be an aware datetime \(with a time zone\)"):
        expr.next_after(NAIVE)
    with pytest.raises(ValueError, match=r"^before must be an aware datetime"):
        expr.prev_before(NAIVE)
    with pytest.raises(ValueError, match=r"^instant must be an aware datetime"):
        expr.matches(NAIVE)
    with pytest.raises(ValueError, match=r"^after must be an aware datetime"):
        next(expr.iter_after(NAIVE, "UTC"))
    with pytest.raises(ValueError, match=r"^before must be an aware datetime"):
        next(expr.iter_before(NAIVE, "UTC"))


def test_non_datetimes_are_a_type_error() -> None:
    expr = CronExpr.parse("* * * * *")
    with pytest.raises(TypeError, match=r"^after must be a datetime, not str$"):
        expr.next_after("2026-01-01T00:00:00Z")  # type: ignore[arg-type]
