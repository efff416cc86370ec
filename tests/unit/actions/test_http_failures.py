"""Status classification and ``Retry-After`` parsing for http steps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tickwork.actions.http_failures import MAX_RETRY_AFTER, classify_status, parse_retry_after
from tickwork.schedule.retry import FailureClass

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "failure"),
    [
        (500, FailureClass.HTTP_5XX),
        (503, FailureClass.HTTP_5XX),
        (599, FailureClass.HTTP_5XX),
        (429, FailureClass.HTTP_429),
        (404, FailureClass.HTTP_4XX),
        (302, FailureClass.HTTP_4XX),
        (204, FailureClass.HTTP_4XX),
    ],
)
def test_unexpected_statuses_are_classified(status: int, failure: FailureClass) -> None:
    assert classify_status(status) is failure


@pytest.mark.parametrize(
    ("header", "wait"),
    [
        ("7", timedelta(seconds=7)),
        (" 0 ", timedelta(0)),
        ("Tue, 01 Dec 2026 09:01:30 GMT", timedelta(seconds=90)),
        ("Tue, 01 Dec 2026 09:01:30 -0000", timedelta(seconds=90)),
        ("Tue, 01 Dec 2026 08:00:00 GMT", timedelta(0)),
        ("999999999999999999999", MAX_RETRY_AFTER),
        ("90000000", MAX_RETRY_AFTER),
        (None, None),
        ("", None),
        ("soon", None),
        ("-5", None),
        ("1.5", None),
    ],
)
def test_retry_after_is_seconds_or_a_date(header: str | None, wait: timedelta | None) -> None:
    assert parse_retry_after(header, NOW) == wait
