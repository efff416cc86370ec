"""Retries: after a failed attempt, when to try again, or whether to give up.

Attempts are numbered from 1; ``max_attempts`` counts them all (3 = the first try and two
retries). The wait before attempt ``n + 1`` is exponential,
``initial_interval * multiplier ** (n - 1)``, capped at ``max_interval``. With ``jitter``
on, the wait is drawn uniformly from [0, that backoff] ("full jitter"), which spreads a
burst of failures against one target much better than a small +-10%; the random source is
injected, so the decision stays a pure function of its arguments.

A server's ``Retry-After`` is honoured as a floor: never retry sooner than it asked, even
past ``max_interval`` (retrying earlier only earns another 429).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from tickwork.errors import InvalidSpec
from tickwork.schedule.triggers import as_utc


class FailureClass(StrEnum):
    """What kind of failure an attempt ended with; the values are the words of ``retry_on``."""

    CONNECTION = "connection"
    """Could not connect, or the connection broke (DNS, refused, reset, TLS)."""
    TIMEOUT = "timeout"
    """The attempt ran past its timeout."""
    HTTP_5XX = "5xx"
    """The target answered with a server error."""
    HTTP_429 = "429"
    """The target asked us to slow down (may carry ``Retry-After``)."""
    HTTP_4XX = "4xx"
    """Any other client error or unexpected status: retrying the same request won't help."""
    EXIT_CODE = "exit_code"
    """A command exited with a non-zero code; ``exit_codes`` says which ones retry."""
    OTHER = "other"
    """Anything else (an exception in a Python step, a template error, ...)."""


DEFAULT_RETRY_ON = frozenset(
    {FailureClass.CONNECTION, FailureClass.TIMEOUT, FailureClass.HTTP_5XX, FailureClass.HTTP_429}
)
"""Transient failures: retried unless the schedule says otherwise."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """A schedule's retry settings (DESIGN ``retry:``), validated once.

    An ``exit_code`` failure retries when its code is in ``exit_codes``, or for any code
    when ``"exit_code"`` itself is in ``retry_on``.
    """

    max_attempts: int = 3
    initial_interval: timedelta = timedelta(seconds=1)
    multiplier: float = 2.0
    max_interval: timedelta = timedelta(minutes=5)
    jitter: bool = True
    retry_on: frozenset[str] = field(default=DEFAULT_RETRY_ON)
    exit_codes: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise InvalidSpec("retry.max_attempts", str(self.max_attempts), "must be at least 1")
        if self.initial_interval < timedelta(0):
            raise InvalidSpec(
                "retry.initial_interval", str(self.initial_interval), "must not be negative"
            )
        if not self.multiplier >= 1.0:  # also rejects NaN
            raise InvalidSpec("retry.multiplier", str(self.multiplier), "must be at least 1")
        if self.max_interval < self.initial_interval:
            raise InvalidSpec(
                "retry.max_interval", str(self.max_interval), "must not be below initial_interval"
            )
        unknown = sorted(set(self.retry_on) - set(FailureClass))
        if unknown:
            known = ", ".join(FailureClass)
            raise InvalidSpec("retry.retry_on", ", ".join(unknown), f"unknown; use {known}")
        object.__setattr__(self, "retry_on", frozenset(FailureClass(r) for r in self.retry_on))

    def retries(self, failure: FailureClass, exit_code: int | None = None) -> bool:
        """True when a failure of this kind is worth another attempt."""
        if failure in self.retry_on:
            return True
        return failure is FailureClass.EXIT_CODE and exit_code in self.exit_codes

    def backoff(self, attempt: int) -> timedelta:
        """The un-jittered wait after failed attempt ``attempt`` (1-based), capped."""
        if attempt < 1:
            raise ValueError(f"attempt numbers start at 1 (got {attempt})")
        cap = self.max_interval.total_seconds()
        try:
            seconds = self.initial_interval.total_seconds() * self.multiplier ** (attempt - 1)
        except OverflowError:
            return self.max_interval
        return self.max_interval if seconds >= cap else timedelta(seconds=seconds)


def next_attempt_at(
    policy: RetryPolicy,
    attempt: int,
    failure: FailureClass,
    now: datetime,
    *,
    rand: Callable[[], float],
    retry_after: timedelta | None = None,
    exit_code: int | None = None,
) -> datetime | None:
    """When attempt ``attempt + 1`` should start, or None to give up (the run is ``dead``).

    ``attempt`` is the number of the attempt that just failed, ``now`` when it failed.
    ``rand`` returns a float in [0, 1) (e.g. ``random.Random(seed).random``); it is only
    called when the policy jitters. ``retry_after`` is the server's ``Retry-After``,
    honoured as a minimum whatever the failure class that carried it (429, or a 503).
    """
    now = as_utc(now, "now")
    if attempt < 1:
        raise ValueError(f"attempt numbers start at 1 (got {attempt})")
    if attempt >= policy.max_attempts or not policy.retries(FailureClass(failure), exit_code):
        return None
    delay = policy.backoff(attempt)
    if policy.jitter:
        fraction = rand()
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"rand() must return a float in [0, 1] (got {fraction})")
        delay = delay * fraction
    if retry_after is not None:
        if retry_after < timedelta(0):
            raise ValueError(f"retry_after must not be negative (got {retry_after})")
        delay = max(delay, retry_after)
    return now + delay
