"""The real ``tickwork`` command, as a user runs it."""

from __future__ import annotations

import json

from tests.e2e.cli import tickwork


def test_next_json_prints_only_rfc3339_instants_with_offsets() -> None:
    result = tickwork(
        "cron",
        "next",
        "30 2 * * *",
        "--tz",
        "America/New_York",
        "--after",
        "2026-03-07T00:00:00Z",
        "--count",
        "3",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        "2026-03-07T02:30:00-05:00",
        "2026-03-08T03:00:00-04:00",  # 02:30 does not exist that day: right after the jump
        "2026-03-09T02:30:00-04:00",
    ]


def test_next_table_shows_local_and_utc() -> None:
    result = tickwork(
        "cron", "next", "0 12 * * *", "--tz", "Asia/Kolkata", "--after", "2026-06-01T00:00:00Z"
    )
    assert result.returncode == 0, result.stderr
    assert "2026-06-01 12:00:00 +0530" in result.stdout
    assert "2026-06-01 06:30:00" in result.stdout


def test_validate_exits_zero_for_a_valid_expression() -> None:
    result = tickwork("cron", "validate", "*/15 9-17 * * MON-FRI")
    assert result.returncode == 0
    assert "valid" in result.stdout


def test_validate_exits_one_naming_field_token_and_reason() -> None:
    result = tickwork("cron", "validate", "61 * * * *")
    assert result.returncode == 1
    assert "minute: 61 is out of range 0-59" in result.stderr
    assert "Traceback" not in result.stderr


def test_explain_describes_in_words() -> None:
    result = tickwork("cron", "explain", "30 2 * * 1-5")
    assert result.returncode == 0
    assert result.stdout.strip() == "At 02:30, Monday through Friday"


def test_unknown_zone_is_a_one_line_error() -> None:
    result = tickwork("cron", "next", "* * * * *", "--tz", "Mars/Base")
    assert result.returncode == 1
    assert "'Mars/Base' is not a known IANA time zone" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_after_is_a_one_line_error() -> None:
    result = tickwork("cron", "next", "* * * * *", "--after", "2026-01-01T00:00:00")
    assert result.returncode == 1
    assert "--after" in result.stderr and "has no UTC offset" in result.stderr


def test_h_needs_a_hash_key_and_uses_it() -> None:
    without = tickwork("cron", "validate", "H * * * *")
    assert without.returncode == 1
    assert "hash key" in without.stderr
    first = tickwork("cron", "next", "H * * * *", "--hash-key", "nightly", "--json")
    second = tickwork("cron", "next", "H * * * *", "--hash-key", "nightly", "--json")
    assert first.returncode == 0
    minutes = {instant[14:16] for instant in json.loads(first.stdout)}
    assert len(minutes) == 1  # one hashed minute, every hour
    assert json.loads(first.stdout) == json.loads(second.stdout)


def test_next_table_marks_a_fire_moved_by_a_dst_gap() -> None:
    result = tickwork(
        "cron", "next", "30 2 * * *", "--tz", "America/New_York",
        "--after", "2026-03-07T12:00:00Z", "--count", "1",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Sun 2026-03-08 03:00:00 -0400" in result.stdout
    assert "gap: runs" in result.stdout
