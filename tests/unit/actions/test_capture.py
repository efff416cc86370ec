"""Capped capture of a byte stream as text."""

from __future__ import annotations

from tickwork.actions.capture import CappedText


def test_short_streams_are_kept_whole_and_split_characters_are_joined() -> None:
    captured = CappedText(limit=10)
    encoded = "héllo".encode()
    captured.feed(encoded[:2])
    captured.feed(encoded[2:])
    assert captured.text() == "héllo" and not captured.truncated


def test_the_head_is_kept_and_the_rest_dropped() -> None:
    captured = CappedText(limit=4)
    captured.feed(b"abcdef")
    captured.feed(b"more")
    assert captured.text() == "abcd" and captured.truncated


def test_exactly_the_cap_is_not_truncated() -> None:
    captured = CappedText(limit=3)
    captured.feed(b"abc")
    assert captured.text() == "abc" and not captured.truncated


def test_invalid_utf8_is_replaced() -> None:
    captured = CappedText()
    captured.feed(b"ok\xff\xfe")
    assert captured.text() == "ok\ufffd\ufffd"


def test_a_dangling_partial_character_at_the_end_is_replaced() -> None:
    captured = CappedText()
    captured.feed("é".encode()[:1])
    assert captured.text() == "\ufffd"
    assert captured.text() == "\ufffd"  # idempotent
