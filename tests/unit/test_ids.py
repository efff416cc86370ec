"""UUIDv7 execution ids: the RFC 9562 layout, time order, and order within a millisecond."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tickwork.ids import IdGenerator, new_id, timestamp_ms
from tickwork.testing import FakeClock


def fixed_bits(*values: int) -> Iterator[int]:
    yield from values


def test_matches_the_rfc_9562_example() -> None:
    # RFC 9562 appendix A.6: 2022-02-22 19:22:22 UTC, rand_a 0xCC3, rand_b 0x18C4DC0C0C07398F.
    tail = (0xCC3 << 62) | 0x18C4DC0C0C07398F
    generator = IdGenerator(randbits=lambda _: tail)
    assert generator.new(0x017F22E279B0) == uuid.UUID("017F22E2-79B0-7CC3-98C4-DC0C0C07398F")


def test_version_variant_and_timestamp() -> None:
    # A generator of its own: the process-wide one may already have stamped a later time.
    value = IdGenerator().new(now_ms=1_767_225_600_000)
    assert value.version == 7
    assert value.variant == uuid.RFC_4122
    assert timestamp_ms(value) == 1_767_225_600_000


def test_the_process_wide_generator_stamps_the_system_time() -> None:
    before_ms = int(datetime.now(UTC).timestamp() * 1000)
    value = new_id()
    after_ms = int(datetime.now(UTC).timestamp() * 1000)
    assert value.version == 7
    assert before_ms <= timestamp_ms(value) <= after_ms + 1


def test_ids_sort_by_time_as_uuids_and_as_strings() -> None:
    bits = fixed_bits((1 << 73) - 1, 0)  # the later id draws smaller random bits
    generator = IdGenerator(randbits=lambda _: next(bits))
    earlier, later = generator.new(1000), generator.new(1001)
    assert earlier < later
    assert str(earlier) < str(later)


def test_strictly_increasing_within_one_millisecond() -> None:
    generator = IdGenerator()
    ids = [generator.new(now_ms=42) for _ in range(1000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == 1000
    assert {timestamp_ms(value) for value in ids} == {42}


def test_stays_increasing_when_the_clock_steps_back() -> None:
    generator = IdGenerator()
    first = generator.new(now_ms=5000)
    second = generator.new(now_ms=4000)
    assert second > first
    assert timestamp_ms(second) == 5000


def test_exhausted_millisecond_borrows_the_next_one() -> None:
    # A random source that returns the largest tail: the next id in that millisecond
    # cannot increment, so it moves to the next millisecond instead of wrapping around.
    generator = IdGenerator(randbits=lambda _: (1 << 74) - 1)
    first = generator.new(now_ms=7)
    second = generator.new(now_ms=7)
    assert second > first
    assert timestamp_ms(second) == 8


def test_stamps_the_injected_clock() -> None:
    clock = FakeClock(datetime(2026, 1, 1, tzinfo=UTC))
    generator = IdGenerator(clock)
    first = generator.new()
    clock.advance(timedelta(milliseconds=1500))
    second = generator.new()
    assert timestamp_ms(first) == 1_767_225_600_000
    assert timestamp_ms(second) == 1_767_225_601_500


@pytest.mark.parametrize("now_ms", [-1, 1 << 48])
def test_refuses_timestamps_outside_48_bits(now_ms: int) -> None:
    with pytest.raises(ValueError, match=r"within 0\.\.2"):
        new_id(now_ms)


def test_timestamp_ms_refuses_other_versions() -> None:
    with pytest.raises(ValueError, match="not a UUIDv7"):
        timestamp_ms(uuid.UUID(int=0, version=4))
