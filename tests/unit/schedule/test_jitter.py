"""Jitter: a deterministic delay from the schedule id and the fire instant."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tickwork.schedule.jitter import jitter_delay, jitter_key

FIRE = datetime(2026, 3, 29, 1, tzinfo=UTC)
FIVE_MIN = timedelta(minutes=5)


def test_pinned_values() -> None:
    """Golden values: if these move, every deployed schedule's start times move with them."""
    assert jitter_key("sched-1", FIRE) == b"sched-1|2026-03-29T01:00:00+00:00"
    assert jitter_delay("sched-1", FIRE, FIVE_MIN) == timedelta(seconds=26, milliseconds=706)
    assert jitter_delay("sched-2", FIRE, FIVE_MIN) == timedelta(
        minutes=3, seconds=42, milliseconds=807
    )


def test_formula_is_sha256_of_the_key_modulo_milliseconds() -> None:
    digest = hashlib.sha256(b"sched-1|2026-03-29T01:00:00+00:00").digest()
    expected_ms = int.from_bytes(digest, "big") % 300_000
    assert jitter_delay("sched-1", FIRE, FIVE_MIN) == timedelta(milliseconds=expected_ms)


def test_same_instant_in_any_zone_gives_the_same_delay() -> None:
    berlin = FIRE.astimezone(ZoneInfo("Europe/Berlin"))  # 03:00 CEST
    plus_five = FIRE.astimezone(timezone(timedelta(hours=5)))
    delays = {jitter_delay("s", t, FIVE_MIN) for t in (FIRE, berlin, plus_five)}
    assert len(delays) == 1


def test_repeated_hour_passes_get_their_own_delays() -> None:
    # Europe/Berlin 2026-10-25: 02:00 CEST and 02:00 CET are different instants.
    first = datetime(2026, 10, 25, 2, tzinfo=ZoneInfo("Europe/Berlin"))
    second = datetime(2026, 10, 25, 2, fold=1, tzinfo=ZoneInfo("Europe/Berlin"))
    assert jitter_key("s", first) != jitter_key("s", second)


def test_zero_or_sub_millisecond_jitter_is_no_delay() -> None:
    assert jitter_delay("s", FIRE, timedelta(0)) == timedelta(0)
    assert jitter_delay("s", FIRE, timedelta(microseconds=999)) == timedelta(0)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="max_jitter"):
        jitter_delay("s", FIRE, timedelta(seconds=-1))
    with pytest.raises(ValueError, match="aware"):
        jitter_delay("s", datetime(2026, 1, 1), FIVE_MIN)


@given(
    schedule_id=st.text(max_size=40),
    offset_s=st.integers(min_value=-(10**9), max_value=10**9),
    max_ms=st.integers(min_value=1, max_value=86_400_000),
)
def test_within_bounds_millisecond_resolution_and_deterministic(
    schedule_id: str, offset_s: int, max_ms: int
) -> None:
    instant = FIRE + timedelta(seconds=offset_s)
    max_jitter = timedelta(milliseconds=max_ms)
    delay = jitter_delay(schedule_id, instant, max_jitter)
    assert timedelta(0) <= delay < max_jitter
    assert delay.microseconds % 1000 == 0
    assert delay == jitter_delay(schedule_id, instant, max_jitter)


def test_spreads_schedules_sharing_an_instant() -> None:
    delays = [jitter_delay(f"schedule-{i}", FIRE, timedelta(minutes=1)) for i in range(600)]
    # 600 draws over 60 seconds: every 10-second bucket gets some (expected 100 each).
    buckets = {d // timedelta(seconds=10) for d in delays}
    assert buckets == set(range(6))
    assert len(set(delays)) > 500
