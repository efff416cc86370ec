"""Retry: exponential backoff with full jitter, Retry-After, and when to give up."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tickwork.errors import InvalidSpec
from tickwork.schedule.retry import (
    DEFAULT_RETRY_ON,
    FailureClass,
    RetryPolicy,
    next_attempt_at,
)

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
SECOND = timedelta(seconds=1)
NO_JITTER = RetryPolicy(
    max_attempts=10,
    initial_interval=SECOND,
    multiplier=2.0,
    max_interval=timedelta(seconds=30),
    jitter=False,
)


def never() -> float:
    raise AssertionError("rand() must not be called without jitter")


def half() -> float:
    return 0.5


def test_exponential_backoff_capped_at_max_interval() -> None:
    waits = [
        next_attempt_at(NO_JITTER, n, FailureClass.CONNECTION, NOW, rand=never) for n in range(1, 8)
    ]
    assert [w - NOW for w in waits if w is not None] == [
        timedelta(seconds=s) for s in (1, 2, 4, 8, 16, 30, 30)
    ]


def test_gives_up_when_attempts_are_exhausted() -> None:
    policy = RetryPolicy(max_attempts=3, jitter=False)
    assert next_attempt_at(policy, 2, FailureClass.TIMEOUT, NOW, rand=never) == NOW + 2 * SECOND
    assert next_attempt_at(policy, 3, FailureClass.TIMEOUT, NOW, rand=never) is None
    no_retries = RetryPolicy(max_attempts=1)
    assert next_attempt_at(no_retries, 1, FailureClass.TIMEOUT, NOW, rand=never) is None


def test_full_jitter_draws_from_zero_to_the_backoff() -> None:
    policy = RetryPolicy(max_attempts=10, initial_interval=SECOND * 10, jitter=True)
    assert next_attempt_at(policy, 2, FailureClass.HTTP_5XX, NOW, rand=half) == NOW + SECOND * 10
    assert next_attempt_at(policy, 2, FailureClass.HTTP_5XX, NOW, rand=lambda: 0.0) == NOW


def test_retry_after_is_a_floor() -> None:
    policy = RetryPolicy(max_attempts=5, max_interval=timedelta(seconds=30), jitter=True)
    # Backoff after attempt 1 is 1s (jittered to 0.5s); the server asked for 2 minutes.
    at = next_attempt_at(
        policy, 1, FailureClass.HTTP_429, NOW, rand=half, retry_after=timedelta(minutes=2)
    )
    assert at == NOW + timedelta(minutes=2)
    # A short Retry-After does not shorten a longer backoff.
    at = next_attempt_at(NO_JITTER, 5, FailureClass.HTTP_429, NOW, rand=never, retry_after=SECOND)
    assert at == NOW + 16 * SECOND


def test_which_failures_retry_by_default() -> None:
    policy = RetryPolicy(jitter=False)
    assert policy.retry_on == DEFAULT_RETRY_ON
    retried = {f for f in FailureClass if policy.retries(f)}
    assert retried == {
        FailureClass.CONNECTION,
        FailureClass.TIMEOUT,
        FailureClass.HTTP_5XX,
        FailureClass.HTTP_429,
    }
    assert next_attempt_at(policy, 1, FailureClass.HTTP_4XX, NOW, rand=never) is None
    assert next_attempt_at(policy, 1, FailureClass.OTHER, NOW, rand=never) is None


def test_exit_codes() -> None:
    policy = RetryPolicy(jitter=False, exit_codes=frozenset({75}))
    fail = FailureClass.EXIT_CODE
    assert next_attempt_at(policy, 1, fail, NOW, rand=never, exit_code=75) == NOW + SECOND
    assert next_attempt_at(policy, 1, fail, NOW, rand=never, exit_code=1) is None
    assert next_attempt_at(policy, 1, fail, NOW, rand=never) is None
    any_code = RetryPolicy(jitter=False, retry_on=frozenset({"exit_code"}))
    assert next_attempt_at(any_code, 1, fail, NOW, rand=never, exit_code=1) == NOW + SECOND
    assert not any_code.retries(FailureClass.CONNECTION)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"max_attempts": 0}, "retry.max_attempts"),
        ({"initial_interval": -SECOND}, "retry.initial_interval"),
        ({"multiplier": 0.5}, "retry.multiplier"),
        ({"multiplier": float("nan")}, "retry.multiplier"),
        ({"max_interval": timedelta(0)}, "retry.max_interval"),
        ({"retry_on": frozenset({"connection", "gremlins"})}, "retry.retry_on"),
    ],
)
def test_invalid_policies_name_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidSpec) as caught:
        RetryPolicy(**kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_bad_calls_are_refused() -> None:
    with pytest.raises(ValueError, match="attempt"):
        next_attempt_at(NO_JITTER, 0, FailureClass.TIMEOUT, NOW, rand=never)
    with pytest.raises(ValueError, match="aware"):
        next_attempt_at(NO_JITTER, 1, FailureClass.TIMEOUT, datetime(2026, 1, 1), rand=never)
    with pytest.raises(ValueError, match="rand"):
        next_attempt_at(RetryPolicy(), 1, FailureClass.TIMEOUT, NOW, rand=lambda: 1.5)
    with pytest.raises(ValueError, match="retry_after"):
        next_attempt_at(NO_JITTER, 1, FailureClass.HTTP_429, NOW, rand=never, retry_after=-SECOND)


def test_huge_attempt_numbers_stay_capped() -> None:
    policy = RetryPolicy(max_attempts=10**6, multiplier=10.0, jitter=False)
    assert policy.backoff(100_000) == policy.max_interval


policies = st.builds(
    RetryPolicy,
    max_attempts=st.integers(min_value=1, max_value=50),
    initial_interval=st.timedeltas(min_value=timedelta(0), max_value=timedelta(minutes=1)),
    multiplier=st.floats(min_value=1.0, max_value=10.0),
    max_interval=st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(hours=2)),
    jitter=st.booleans(),
)


@given(policy=policies, attempt=st.integers(min_value=1, max_value=60))
def test_backoff_is_monotone_until_capped(policy: RetryPolicy, attempt: int) -> None:
    this, following = policy.backoff(attempt), policy.backoff(attempt + 1)
    assert policy.initial_interval - timedelta(microseconds=1) <= this <= following
    assert following <= policy.max_interval
    if this == policy.max_interval:
        assert following == policy.max_interval


@given(policy=policies, attempt=st.integers(min_value=1, max_value=60), seed=st.integers())
def test_next_attempt_within_zero_and_backoff(policy: RetryPolicy, attempt: int, seed: int) -> None:
    at = next_attempt_at(
        policy, attempt, FailureClass.TIMEOUT, NOW, rand=random.Random(seed).random
    )
    if attempt >= policy.max_attempts:
        assert at is None
        return
    assert at is not None
    backoff = policy.backoff(attempt)
    if policy.jitter:
        assert NOW <= at <= NOW + backoff
    else:
        assert at == NOW + backoff
    # Same seed, same answer: the decision is a pure function of its inputs.
    again = next_attempt_at(
        policy, attempt, FailureClass.TIMEOUT, NOW, rand=random.Random(seed).random
    )
    assert again == at
