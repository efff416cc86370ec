"""Overlap: how a due fire starts next to the schedule's runs in flight."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tickwork.schedule.overlap import (
    OVERLAP_REASON,
    ActiveRuns,
    OverlapAction,
    decide_overlap,
    next_buffered_to_release,
)
from tickwork.schedule.policies import ExecutionStatus, OverlapPolicy

FIRE = datetime(2026, 6, 1, 12, tzinfo=UTC)
IDLE = ActiveRuns()
RUNNING = ActiveRuns(running=1)
QUEUED_AND_BUFFERED = ActiveRuns(running=1, buffered=1)
ONLY_BUFFERED = ActiveRuns(running=0, buffered=1)

START = OverlapAction.START
SKIP = OverlapAction.SKIP
BUFFER = OverlapAction.BUFFER
CANCEL = OverlapAction.CANCEL_OTHERS_AND_START


@pytest.mark.parametrize(
    ("policy", "active", "action"),
    [
        # Idle: every policy starts.
        *[(p, IDLE, START) for p in OverlapPolicy],
        (OverlapPolicy.SKIP, RUNNING, SKIP),
        (OverlapPolicy.SKIP, ONLY_BUFFERED, SKIP),
        (OverlapPolicy.ALLOW, RUNNING, START),
        (OverlapPolicy.ALLOW, ActiveRuns(running=7, buffered=2), START),
        (OverlapPolicy.BUFFER_ONE, RUNNING, BUFFER),
        (OverlapPolicy.BUFFER_ONE, QUEUED_AND_BUFFERED, SKIP),
        (OverlapPolicy.BUFFER_ONE, ONLY_BUFFERED, SKIP),
        (OverlapPolicy.BUFFER_ALL, RUNNING, BUFFER),
        (OverlapPolicy.BUFFER_ALL, ActiveRuns(running=1, buffered=5), BUFFER),
        (OverlapPolicy.BUFFER_ALL, ONLY_BUFFERED, BUFFER),
        (OverlapPolicy.CANCEL_OTHER, RUNNING, CANCEL),
        (OverlapPolicy.CANCEL_OTHER, ONLY_BUFFERED, CANCEL),
    ],
)
def test_decision_table(policy: OverlapPolicy, active: ActiveRuns, action: OverlapAction) -> None:
    decision = decide_overlap(policy, active, FIRE)
    assert decision.action is action
    assert decision.scheduled_for == FIRE


def test_statuses_and_reasons() -> None:
    skipped = decide_overlap(OverlapPolicy.SKIP, RUNNING, FIRE)
    assert (skipped.status, skipped.reason) == (ExecutionStatus.SKIPPED, "overlap")
    assert OVERLAP_REASON == "overlap"
    buffered = decide_overlap(OverlapPolicy.BUFFER_ALL, RUNNING, FIRE)
    assert (buffered.status, buffered.reason) == (ExecutionStatus.BUFFERED, None)
    started = decide_overlap(OverlapPolicy.CANCEL_OTHER, RUNNING, FIRE)
    assert (started.status, started.reason) == (ExecutionStatus.QUEUED, None)


def test_policy_given_as_its_document_word() -> None:
    assert decide_overlap("buffer_one", RUNNING, FIRE).action is BUFFER  # type: ignore[arg-type]


def test_fire_instant_is_normalised_and_must_be_aware() -> None:
    plus_two = datetime(2026, 6, 1, 14, tzinfo=timezone(timedelta(hours=2)))
    assert decide_overlap(OverlapPolicy.SKIP, IDLE, plus_two).scheduled_for.tzinfo is UTC
    with pytest.raises(ValueError, match="aware"):
        decide_overlap(OverlapPolicy.SKIP, IDLE, datetime(2026, 6, 1))


def test_negative_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        ActiveRuns(running=-1)


def test_buffer_one_walkthrough() -> None:
    """Fires at 12:00, 12:15, 12:30 while the 11:45 run is still going."""
    active = RUNNING
    first = decide_overlap(OverlapPolicy.BUFFER_ONE, active, FIRE)
    assert first.action is BUFFER
    active = ActiveRuns(running=1, buffered=1)
    later = [FIRE + timedelta(minutes=m) for m in (15, 30)]
    assert [decide_overlap(OverlapPolicy.BUFFER_ONE, active, f).action for f in later] == [
        SKIP,
        SKIP,
    ]
    # The 11:45 run ends: the buffered 12:00 fire is released.
    assert next_buffered_to_release([FIRE], running=0) == FIRE


def test_release_waits_for_the_running_one_and_takes_the_oldest() -> None:
    buffered = [FIRE + timedelta(minutes=30), FIRE, FIRE + timedelta(minutes=15)]
    assert next_buffered_to_release(buffered, running=1) is None
    assert next_buffered_to_release(buffered, running=0) == FIRE
    assert next_buffered_to_release([], running=0) is None
    with pytest.raises(ValueError, match="negative"):
        next_buffered_to_release(buffered, running=-1)


@given(
    policy=st.sampled_from(OverlapPolicy),
    running=st.integers(min_value=0, max_value=5),
    buffered=st.integers(min_value=0, max_value=5),
)
def test_overlap_invariants(policy: OverlapPolicy, running: int, buffered: int) -> None:
    active = ActiveRuns(running, buffered)
    action = decide_overlap(policy, active, FIRE).action
    if running == 0 and buffered == 0:
        assert action is START  # nothing to overlap with
    if policy is OverlapPolicy.BUFFER_ONE:
        assert not (action is BUFFER and buffered >= 1)  # never two buffered
    if action is BUFFER:
        assert policy in {OverlapPolicy.BUFFER_ONE, OverlapPolicy.BUFFER_ALL}
    if policy is OverlapPolicy.ALLOW:
        assert action is START
