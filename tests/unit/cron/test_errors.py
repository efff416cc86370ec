"""Every parse error names the field, the offending token and why, in exactly these words."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tickwork.cron import CronExpr, CronSyntaxError
from tickwork.errors import InvalidSpec, TickworkError, UnknownTimeZone

FIELD_COUNT_HINT = (
    "expected 5 (minute hour day-of-month month day-of-week), "
    "6 (seconds first) or 7 (seconds first, year last)"
)
MACRO_HINT = "(use one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly)"
NEEDS_KEY = "uses H, which needs a hash key (the schedule's id)"

# (expression, hash key, field, value, reason)
ERRORS: list[tuple[str, str | None, str, str, str]] = [
    # empty input and field counts
    ("", None, "expression", "", "is empty; expected a cron expression"),
    ("   ", None, "expression", "", "is empty; expected a cron expression"),
    ("* * * *", None, "expression", "'* * * *'", f"has 4 fields; {FIELD_COUNT_HINT}"),
    ("*", None, "expression", "'*'", f"has 1 field; {FIELD_COUNT_HINT}"),
    ("0 0 0 1 1 * 2030 x", None, "expression", "'0 0 0 1 1 * 2030 x'",
     f"has 8 fields; {FIELD_COUNT_HINT}"),
    # macros
    ("@reboot", None, "expression", "'@reboot'", f"is not a supported macro {MACRO_HINT}"),
    ("@every 5m", None, "expression", "'@every 5m'", f"is not a supported macro {MACRO_HINT}"),
    # out of range, per field
    ("60 * * * * *", None, "second", "60", "is out of range 0-59"),
    ("61 * * * *", None, "minute", "61", "is out of range 0-59"),
    ("0-60 * * * *", None, "minute", "60", "is out of range 0-59"),
    ("* 24 * * *", None, "hour", "24", "is out of range 0-23"),
    ("* * 0 * *", None, "day-of-month", "0", "is out of range 1-31"),
    ("* * 32 * *", None, "day-of-month", "32", "is out of range 1-31"),
    ("* * * 0 *", None, "month", "0", "is out of range 1-12"),
    ("* * * 13 *", None, "month", "13", "is out of range 1-12"),
    ("* * * * 8", None, "day-of-week", "8", "is out of range 0-7"),
    ("0 0 0 1 1 * 1969", None, "year", "1969", "is out of range 1970-2199"),
    ("0 0 0 1 1 * 2200", None, "year", "2200", "is out of range 1970-2199"),
    # bad names and non-numbers
    ("* * * FOO *", None, "month", "'FOO'", "is not a number or a name"),
    ("* * * JANUARY *", None, "month", "'JANUARY'", "is not a number or a name"),
    ("* * * * FUNDAY", None, "day-of-week", "'FUNDAY'", "is not a number or a name"),
    ("* * * * MON-FOO", None, "day-of-week", "'FOO'", "is not a number or a name"),
    ("JAN * * * *", None, "minute", "'JAN'", "is not a number"),
    ("* MON * * *", None, "hour", "'MON'", "is not a number"),
    ("-5 * * * *", None, "minute", "'-5'", "is not a number"),
    ("5- * * * *", None, "minute", "'5-'", "is not a number"),
    ("5-x * * * *", None, "minute", "'x'", "is not a number"),
    ("1-2-3 * * * *", None, "minute", "'1-2-3'", "is not a range; write it as start-end, e.g. 1-5"),
    # empty list items
    ("1,,2 * * * *", None, "minute", "'1,,2'", "has an empty item in its list"),
    ("1, * * * *", None, "minute", "'1,'", "has an empty item in its list"),
    ("* * * * ,MON", None, "day-of-week", "',MON'", "has an empty item in its list"),
    # steps
    ("*/0 * * * *", None, "minute", "'*/0'", "has a step of 0; the step must be at least 1"),
    ("0 0/0 * * *", None, "hour", "'0/0'", "has a step of 0; the step must be at least 1"),
    ("*/61 * * * *", None, "minute", "'*/61'",
     "has a step of 61, larger than the field's range 0-59 (use an interval trigger for that)"),
    ("0 */25 * * *", None, "hour", "'*/25'",
     "has a step of 25, larger than the field's range 0-23 (use an interval trigger for that)"),
    ("*/a * * * *", None, "minute", "'*/a'", "has a step 'a' that is not a whole number"),
    ("*/ * * * *", None, "minute", "'*/'", "has a step '' that is not a whole number"),
    ("1/2/3 * * * *", None, "minute", "'1/2/3'", "has a step '2/3' that is not a whole number"),
    # '?' outside the day fields
    ("? * * * *", None, "minute", "'?'", "uses '?', which only day-of-month and day-of-week allow"),
    ("* ? * * *", None, "hour", "'?'", "uses '?', which only day-of-month and day-of-week allow"),
    ("* * * ? *", None, "month", "'?'", "uses '?', which only day-of-month and day-of-week allow"),
    ("? 0 0 * * *", None, "second", "'?'",
     "uses '?', which only day-of-month and day-of-week allow"),
    ("0 0 0 1 1 * ?", None, "year", "'?'",
     "uses '?', which only day-of-month and day-of-week allow"),
    # L, W and # outside the day fields
    ("L * * * *", None, "minute", "'L'", "uses 'L', which only the day fields allow"),
    ("* 5W * * *", None, "hour", "'5W'", "uses 'W', which only the day fields allow"),
    ("5#2 * * * *", None, "minute", "'5#2'", "uses '#', which only the day fields allow"),
    ("* * * L *", None, "month", "'L'", "uses 'L', which only the day fields allow"),
    ("* * * 1#2 *", None, "month", "'1#2'", "uses '#', which only the day fields allow"),
    # day-of-month rules
    ("* * L-31 * *", None, "day-of-month", "'L-31'",
     "must be L-n with n from 0 to 30 (days before the last)"),
    ("* * L-x * *", None, "day-of-month", "'L-x'",
     "must be L-n with n from 0 to 30 (days before the last)"),
    ("* * L- * *", None, "day-of-month", "'L-'",
     "must be L-n with n from 0 to 30 (days before the last)"),
    ("* * 32W * *", None, "day-of-month", "32", "is out of range 1-31"),
    ("* * 0W * *", None, "day-of-month", "0", "is out of range 1-31"),
    ("* * XW * *", None, "day-of-month", "'XW'", "is not a day-of-month rule (L, L-n, LW or nW)"),
    ("* * W * *", None, "day-of-month", "'W'", "is not a day-of-month rule (L, L-n, LW or nW)"),
    ("* * 5L * *", None, "day-of-month", "'5L'", "is not a day-of-month rule (L, L-n, LW or nW)"),
    # day-of-week rules
    ("* * * * 5#0", None, "day-of-week", "'5#0'", "must be weekday#n with n from 1 to 5"),
    ("* * * * 5#6", None, "day-of-week", "'5#6'", "must be weekday#n with n from 1 to 5"),
    ("* * * * FRI#x", None, "day-of-week", "'FRI#x'", "must be weekday#n with n from 1 to 5"),
    ("* * * * 8#1", None, "day-of-week", "8", "is out of range 0-7"),
    ("* * * * 8L", None, "day-of-week", "8", "is out of range 0-7"),
    ("* * * * L", None, "day-of-week", "'L'",
     "needs a weekday before L in day-of-week, e.g. 5L or FRIL"),
    # H
    ("H * * * *", None, "minute", "'H'", NEEDS_KEY),
    ("0 H * * *", None, "hour", "'H'", NEEDS_KEY),
    ("H/15 * * * *", None, "minute", "'H/15'", NEEDS_KEY),
    ("H(0-29) * * * *", None, "minute", "'H(0-29)'", NEEDS_KEY),
    ("0 0 H * *", None, "day-of-month", "'H'", NEEDS_KEY),
    ("H(5) * * * *", "key", "minute", "'H(5)'", "needs a range inside H(...), e.g. H(0-29)"),
    ("H() * * * *", "key", "minute", "'H()'", "needs a range inside H(...), e.g. H(0-29)"),
    ("H(0-29 * * * *", "key", "minute", "'H(0-29'", "is not H, H/step or H(lo-hi)"),
    ("HX * * * *", "key", "minute", "'HX'", "is not H, H/step or H(lo-hi)"),
    ("H(29-0) * * * *", "key", "minute", "'H(29-0)'", "is a backwards range: 29 is after 0"),
    ("H(0-70) * * * *", "key", "minute", "70", "is out of range 0-59"),
    ("H(a-b) * * * *", "key", "minute", "'a'", "is not a number"),
    ("H/0 * * * *", "key", "minute", "'H/0'", "has a step of 0; the step must be at least 1"),
    ("H/61 * * * *", "key", "minute", "'H/61'",
     "has a step of 61, larger than the field's range 0-59 (use an interval trigger for that)"),
    # years
    ("0 0 0 1 1 * 2030-2020", None, "year", "'2030-2020'",
     "is a backwards range: 2030 is after 2020"),
    ("0 0 0 1 1 * 2020/300", None, "year", "'2020/300'",
     "has a step of 300, larger than the field's range 1970-2199 "
     "(use an interval trigger for that)"),
    # dates no calendar has
    ("0 0 30 2 *", None, "day-of-month", "30", "never occurs in the months this expression allows"),
    ("0 0 30 FEB ?", None, "day-of-month", "30",
     "never occurs in the months this expression allows"),
    ("0 0 31 4,6 *", None, "day-of-month", "31",
     "never occurs in the months this expression allows"),
    ("0 0 31 APR,JUN,SEP,NOV *", None, "day-of-month", "31",
     "never occurs in the months this expression allows"),
    ("0 0 30,31 2 *", None, "day-of-month", "30",
     "never occurs in the months this expression allows"),
    ("0 0 0 31 2 * *", None, "day-of-month", "31",
     "never occurs in the months this expression allows"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "hash_key", "field", "value", "reason"), ERRORS)
def test_error_message(
    text: str, hash_key: str | None, field: str, value: str, reason: str
) -> None:
    with pytest.raises(CronSyntaxError) as caught:
        CronExpr.parse(text, hash_key=hash_key)
    error = caught.value
    assert (error.field, error.value, error.reason) == (field, value, reason)
    expected = f"{field}: {value} {reason}" if value else f"{field}: {reason}"
    assert str(error) == expected


def test_message_reads_as_documented() -> None:
    with pytest.raises(CronSyntaxError) as caught:
        CronExpr.parse("61 * * * *")
    assert str(caught.value) == "minute: 61 is out of range 0-59"


def test_syntax_error_is_an_invalid_spec_and_a_value_error() -> None:
    with pytest.raises(CronSyntaxError) as caught:
        CronExpr.parse("61 * * * *")
    assert isinstance(caught.value, InvalidSpec)
    assert isinstance(caught.value, TickworkError)
    assert isinstance(caught.value, ValueError)


def test_first_bad_field_is_reported() -> None:
    # Fields are checked left to right: the minute is named, not the hour.
    with pytest.raises(CronSyntaxError) as caught:
        CronExpr.parse("61 24 * * *")
    assert caught.value.field == "minute"


def test_a_day_rule_or_a_day_of_week_keeps_an_impossible_date_valid() -> None:
    # With day-of-week restricted too, the OR rule makes the expression fire on Mondays.
    expr = CronExpr.parse("0 0 30 2 1")
    assert expr.next_after(datetime(2026, 1, 1, tzinfo=UTC)) == datetime(2026, 2, 2, tzinfo=UTC)
    # 31 exists in at least one allowed month.
    CronExpr.parse("0 0 31 1,4 *")


NEVER_FIRES = [
    "0 0 L-30 2 *",  # February has at most 29 days: L-30 would be day -1 or 0
    "0 0 30W 2 *",  # the 30th never exists in February
    "0 0 31W 4,6,9,11 *",  # 30-day months only
    "0 0 0 29 2 * 2027",  # 2027 is not a leap year
]


@pytest.mark.parametrize("text", NEVER_FIRES)
def test_never_firing_day_rules_are_refused(text: str) -> None:
    with pytest.raises(CronSyntaxError) as caught:
        CronExpr.parse(text)
    assert caught.value.field == "expression"
    assert caught.value.reason == (
        "never fires: no date matches its day-of-month, month, day-of-week and year together"
    )


@pytest.mark.parametrize("method", ["next_after", "prev_before", "matches"])
def test_unknown_time_zone(method: str) -> None:
    expr = CronExpr.parse("* * * * *")
    with pytest.raises(UnknownTimeZone) as caught:
        getattr(expr, method)(datetime(2026, 1, 1, tzinfo=UTC), "Mars/Base")
    error = caught.value
    assert str(error) == "timezone: 'Mars/Base' is not a known IANA time zone (e.g. Europe/Berlin)"
    assert (error.field, error.value) == ("timezone", "'Mars/Base'")
    assert isinstance(error, InvalidSpec)
    assert isinstance(error, ValueError)


@pytest.mark.parametrize("name", ["", "America", "../etc/passwd", "/etc/localtime", "utc "])
def test_odd_zone_names_are_unknown_not_crashes(name: str) -> None:
    expr = CronExpr.parse("* * * * *")
    with pytest.raises(UnknownTimeZone) as caught:
        next(expr.iter_after(datetime(2026, 1, 1, tzinfo=UTC), name))
    assert str(caught.value) == (
        f"timezone: {name!r} is not a known IANA time zone (e.g. Europe/Berlin)"
    )


def test_iterators_check_the_zone() -> None:
    expr = CronExpr.parse("* * * * *")
    with pytest.raises(UnknownTimeZone):
        next(expr.iter_before(datetime(2026, 1, 1, tzinfo=UTC), "Mars/Base"))


@pytest.mark.parametrize(
    "name", ["Europe/" + "x" * 300, "Ṱ̺̺̕o͞ ̷i̲̬͇̪͙n̝̗͕v̟̜̘̦͟o̶̙̰̠kè͚̮̺̪̹̱̤" * 20, "Europe\x00Berlin", "../../etc/passwd"]
)
def test_names_that_cannot_be_zones_are_unknown_zones_not_os_errors(name: str) -> None:
    from tickwork.cron import resolve_zone
    from tickwork.errors import UnknownTimeZone

    with pytest.raises(UnknownTimeZone, match="is not a known IANA time zone"):
        resolve_zone(name)
