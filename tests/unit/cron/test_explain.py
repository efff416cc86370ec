"""Human-readable descriptions (through cron-descriptor), with H filled in by its values."""

from __future__ import annotations

import pytest

from tickwork.cron import CronExpr
from tickwork.cron.explain import describe

DESCRIPTIONS = [
    ("30 2 * * 1-5", "At 02:30, Monday through Friday"),
    ("*/15 * * * *", "Every 15 minutes"),
    ("0 0 1 1 *", "At 00:00, on day 1 of the month, only in January"),
    ("0 22-2 * * *", "At 0 minutes past the hour, between 22:00 and 02:59"),
    ("0 0 * * FRI-MON", "At 00:00, Friday through Monday"),
    ("0 0 * * 7", "At 00:00, only on Sunday"),
    ("0 9 * * thu", "At 09:00, only on Thursday"),
    ("0 0 * JAN-MAR *", "At 00:00, January through March"),
    ("0 0 13 * 5", "At 00:00, on day 13 of the month, or on Friday"),
    ("0 0 ? * 5", "At 00:00, only on Friday"),
    ("0 0 L * *", "At 00:00, on the last day of the month"),
    ("0 0 L-3 * *", "At 00:00, 3 days before the last day of the month"),
    ("0 0 LW * *", "At 00:00, on the last weekday of the month"),
    ("0 0 15W * *", "At 00:00, on the weekday nearest day 15 of the month"),
    ("0 0 * * 5L", "At 00:00, on the last Friday of the month"),
    ("0 0 * * 5#3", "At 00:00, on the third Friday of the month"),
    # six and seven fields
    ("*/10 * * * * *", "Every 10 seconds"),
    ("0 0 12 * * MON-FRI", "At 12:00, Monday through Friday"),
    ("30 0 12 * * * 2030", "At 12:00:30, only in 2030"),
    # macros are described by what they stand for
    ("@hourly", "Every hour"),
    ("@daily", "At 00:00"),
    ("@midnight", "At 00:00"),
    ("@weekly", "At 00:00, only on Sunday"),
    ("@monthly", "At 00:00, on day 1 of the month"),
    ("@yearly", "At 00:00, on day 1 of the month, only in January"),
    ("@ANNUALLY", "At 00:00, on day 1 of the month, only in January"),
]


@pytest.mark.parametrize(("text", "expected"), DESCRIPTIONS)
def test_describe(text: str, expected: str) -> None:
    assert describe(CronExpr.parse(text)) == expected


# With key "sched-1": minute H is 38, H/15 is 8/23/38/53, hour H is 3, H(0-5) in hours is 3,
# day-of-month H is 15, month H is 6 (June), seconds H is 8.
HASHED = [
    ("H * * * *", "At 38 minutes past the hour"),
    ("H H * * *", "At 03:38"),
    ("H/15 * * * *", "At 8, 23, 38, and 53 minutes past the hour"),
    ("0 H(0-5) * * THU", "At 03:00, only on Thursday"),
    ("0 0 H * *", "At 00:00, on day 15 of the month"),
    ("0 0 1 H *", "At 00:00, on day 1 of the month, only in June"),
    ("H 0 0 * * *", "At 00:00:08"),
]


@pytest.mark.parametrize(("text", "expected"), HASHED)
def test_describe_fills_in_hashed_values(text: str, expected: str) -> None:
    assert describe(CronExpr.parse(text, hash_key="sched-1")) == expected


def test_hashed_description_matches_the_fires() -> None:
    expr = CronExpr.parse("H H * * *", hash_key="sched-1")
    assert expr.minutes == 1 << 38
    assert expr.hours == 1 << 3
    assert describe(expr) == "At 03:38"


def test_thursday_is_not_mistaken_for_h() -> None:
    # "THU" contains an H: with a hash key, the day-of-week must still read as Thursday.
    expr = CronExpr.parse("H 9 * * THU", hash_key="sched-1")
    assert describe(expr) == "At 09:38, only on Thursday"


@pytest.mark.parametrize("key", ["a", "b", "schedule-42"])
def test_description_depends_only_on_the_hashed_values(key: str) -> None:
    expr = CronExpr.parse("H H * * *", hash_key=key)
    minute = expr.minutes.bit_length() - 1
    hour = expr.hours.bit_length() - 1
    assert describe(expr) == describe(CronExpr.parse(f"{minute} {hour} * * *"))


def test_describe_fills_in_a_hashed_year() -> None:
    expr = CronExpr.parse("0 0 0 1 1 * H", hash_key="k")
    assert "H" not in describe(expr)
