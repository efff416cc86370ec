"""The one duration parser: every accepted form, every refusal, and exact round trips."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tickwork.durations import format_duration, parse_duration
from tickwork.errors import InvalidSpec

HINT = "is not a duration (use e.g. 500ms, 30s, 15m, 1h, 1d or PT15M)"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("500ms", timedelta(milliseconds=500)),
        ("30s", timedelta(seconds=30)),
        ("15m", timedelta(minutes=15)),
        ("1h", timedelta(hours=1)),
        ("1d", timedelta(days=1)),
        ("0s", timedelta(0)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1d2h3m4s5ms6us", timedelta(days=1, hours=2, minutes=3, seconds=4, microseconds=5006)),
        ("5ms", timedelta(milliseconds=5)),  # not 5 minutes and a stray s
        ("1.5h", timedelta(minutes=90)),
        ("0.5s", timedelta(milliseconds=500)),
        ("  30s  ", timedelta(seconds=30)),
        ("PT15M", timedelta(minutes=15)),
        ("P1D", timedelta(days=1)),
        ("PT0.5S", timedelta(milliseconds=500)),
        ("PT0,5S", timedelta(milliseconds=500)),
        ("P1DT2H", timedelta(days=1, hours=2)),
        ("PT1H30M", timedelta(minutes=90)),
        ("P2W", timedelta(days=14)),
        ("pt15m", timedelta(minutes=15)),
    ],
)
def test_parses(text: str, expected: timedelta) -> None:
    assert parse_duration(text, field="timeout") == expected


@pytest.mark.parametrize(
    "text",
    ["5x", "", "  ", "15", "h", "1H", "30m1h", "1h1h", "1h 30m", "P", "PT", "P1H", "PT1D", "1.s"],
)
def test_refuses_what_is_not_a_duration_naming_the_field(text: str) -> None:
    with pytest.raises(InvalidSpec) as caught:
        parse_duration(text, field="retry.initial_interval")
    assert str(caught.value) == f"retry.initial_interval: {text!r} {HINT}"
    assert caught.value.field == "retry.initial_interval"


def test_message_matches_the_documented_example() -> None:
    with pytest.raises(InvalidSpec, match=r"^retry\.initial_interval: '5x' is not a duration \("):
        parse_duration("5x", field="retry.initial_interval")


@pytest.mark.parametrize("text", ["-5s", "-PT5M", " -1h"])
def test_refuses_negative_durations(text: str) -> None:
    with pytest.raises(InvalidSpec, match="is negative; a duration is zero or more"):
        parse_duration(text, field="jitter")


def test_a_dash_before_garbage_is_just_not_a_duration() -> None:
    with pytest.raises(InvalidSpec, match="is not a duration"):
        parse_duration("-abc", field="jitter")


@pytest.mark.parametrize("text", ["P1Y", "P1M", "P1Y2M3D"])
def test_refuses_years_and_months(text: str) -> None:
    with pytest.raises(InvalidSpec, match="have no fixed length; use days"):
        parse_duration(text, field="timeout")


def test_refuses_precision_below_a_microsecond_instead_of_rounding() -> None:
    with pytest.raises(InvalidSpec, match="is finer than a microsecond"):
        parse_duration("0.0000001s", field="timeout")


def test_refuses_durations_beyond_timedelta() -> None:
    with pytest.raises(InvalidSpec, match=r"is too long \(at most 999999999 days\)"):
        parse_duration("1000000000d", field="timeout")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (timedelta(0), "0s"),
        (timedelta(milliseconds=500), "500ms"),
        (timedelta(minutes=90), "1h30m"),
        (timedelta(days=1), "1d"),
        (timedelta(days=7), "7d"),
        (timedelta(hours=25), "1d1h"),
        (timedelta(seconds=1, microseconds=1), "1s1us"),
        (timedelta(days=1, hours=2, minutes=3, seconds=4, microseconds=5006), "1d2h3m4s5ms6us"),
    ],
)
def test_formats_canonically(value: timedelta, expected: str) -> None:
    assert format_duration(value) == expected


def test_format_refuses_negative() -> None:
    with pytest.raises(InvalidSpec, match="is negative"):
        format_duration(timedelta(seconds=-1))


@given(st.timedeltas(min_value=timedelta(0)))
def test_parse_of_format_is_identity(value: timedelta) -> None:
    assert parse_duration(format_duration(value), field="x") == value


_UNITS = {"d": 86_400_000_000, "h": 3_600_000_000, "m": 60_000_000, "s": 1_000_000, "ms": 1000}


@given(st.lists(st.integers(min_value=0, max_value=10_000), min_size=5, max_size=5))
def test_compact_parts_add_up(counts: list[int]) -> None:
    text = "".join(f"{n}{unit}" for n, unit in zip(counts, _UNITS, strict=True))
    expected_us = sum(n * per_unit for n, per_unit in zip(counts, _UNITS.values(), strict=True))
    assert parse_duration(text, field="x") == timedelta(microseconds=expected_us)


@given(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=10_000)))
def test_iso_form_agrees_with_compact_form(value: timedelta) -> None:
    days, rest = divmod(value, timedelta(days=1))
    seconds, micros = divmod(rest // timedelta(microseconds=1), 1_000_000)
    iso = f"P{days}DT{seconds}.{micros:06d}S"
    assert parse_duration(iso, field="x") == value
