"""How an attempt's outcome ends the run: pure, a function of the outcome, the policy and now.

=====================================================  ==============================
the attempt                                            the run becomes
=====================================================  ==============================
succeeded                                              ``succeeded``
failed, the policy retries it and attempts remain      ``retrying`` until the backoff ends
failed by a timeout, no retry                          ``timed_out``
failed by a retryable failure, attempts used up        ``dead`` (retries exhausted)
failed otherwise (not retryable, or one attempt only)  ``failed``
=====================================================  ==============================

``dead`` runs can be re-run later as new runs; ``failed`` means no retry was allowed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from tickwork.actions.base import StepOutcome
from tickwork.schedule.policies import ExecutionStatus
from tickwork.schedule.retry import FailureClass, RetryPolicy, next_attempt_at

__all__ = ["UNHEALTHY", "Completion", "complete"]

UNHEALTHY = frozenset(
    {FailureClass.CONNECTION, FailureClass.TIMEOUT, FailureClass.HTTP_5XX, FailureClass.HTTP_429}
)
"""Failures that say the target itself is in trouble (what the circuit breaker counts)."""


@dataclass(frozen=True, slots=True)
class Completion:
    """The run's status after an attempt, and when the next attempt may start."""

    status: ExecutionStatus
    not_before: datetime | None = None
    error: str | None = None


def complete(
    outcome: StepOutcome,
    *,
    attempt: int,
    policy: RetryPolicy,
    now: datetime,
    rand: Callable[[], float],
) -> Completion:
    """What attempt ``attempt`` ending with ``outcome`` at ``now`` makes of the run."""
    if outcome.ok:
        return Completion(ExecutionStatus.SUCCEEDED)
    failure = outcome.failure or FailureClass.OTHER
    retry_at = next_attempt_at(
        policy,
        attempt,
        failure,
        now,
        rand=rand,
        retry_after=outcome.retry_after,
        exit_code=outcome.exit_code,
    )
    if retry_at is not None:
        return Completion(ExecutionStatus.RETRYING, retry_at, outcome.error)
    if failure is FailureClass.TIMEOUT:
        return Completion(ExecutionStatus.TIMED_OUT, None, outcome.error)
    if policy.max_attempts > 1 and policy.retries(failure, outcome.exit_code):
        return Completion(ExecutionStatus.DEAD, None, outcome.error)
    return Completion(ExecutionStatus.FAILED, None, outcome.error)
