"""What a fire that is due to run does when the schedule still has runs in flight.

The misfire planner decides *whether* an instant runs; this module decides *how* it starts
given the schedule's other executions (DESIGN: a ``queued`` run counts as running for
overlap, and ``buffered`` is the state of a fire held by ``buffer_one``/``buffer_all``).

A schedule is *busy* while it has a run queued or running, or a buffered fire waiting:
a buffered fire is a run that has been promised, so a new fire behind it overlaps it
too, and must not jump ahead of it.

=============  ==========================  ====================================
policy         idle                        busy
=============  ==========================  ====================================
skip           start                       skip (recorded ``skipped``, ``overlap``)
allow          start                       start
buffer_one     start                       buffer if none is buffered, else skip
buffer_all     start                       buffer
cancel_other   start                       cancel the others (running and buffered), start
=============  ==========================  ====================================

When a run ends, :func:`next_buffered_to_release` names the buffered fire to start next:
the oldest, and only once nothing is queued or running, so buffered fires run one after
another in the order of their instants.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tickwork.schedule.policies import ExecutionStatus, OverlapPolicy
from tickwork.schedule.triggers import as_utc

OVERLAP_REASON = "overlap"
"""The reason stored with a fire skipped by the overlap policy."""


@dataclass(frozen=True, slots=True)
class ActiveRuns:
    """The schedule's executions in flight (``trigger = schedule`` or not: all of them).

    ``running`` counts ``queued`` and ``running`` executions; ``buffered`` counts fires
    held in ``buffered`` state.
    """

    running: int = 0
    buffered: int = 0

    def __post_init__(self) -> None:
        if self.running < 0 or self.buffered < 0:
            raise ValueError(f"counts must not be negative: {self}")

    @property
    def busy(self) -> bool:
        """True while a new fire would overlap something already promised to run."""
        return self.running > 0 or self.buffered > 0


class OverlapAction(StrEnum):
    """How the fire starts."""

    START = "start"
    """Enqueue it now (``queued``)."""
    SKIP = "skip"
    """Record it ``skipped`` with reason ``overlap``; start nothing."""
    BUFFER = "buffer"
    """Record it ``buffered``; it starts when released."""
    CANCEL_OTHERS_AND_START = "cancel_others_and_start"
    """Cancel the schedule's queued, running and buffered executions, then enqueue it."""


_STATUS = {
    OverlapAction.START: ExecutionStatus.QUEUED,
    OverlapAction.SKIP: ExecutionStatus.SKIPPED,
    OverlapAction.BUFFER: ExecutionStatus.BUFFERED,
    OverlapAction.CANCEL_OTHERS_AND_START: ExecutionStatus.QUEUED,
}


@dataclass(frozen=True, slots=True)
class OverlapDecision:
    """The decision for the fire at ``scheduled_for``: what to do, the status to record, why."""

    scheduled_for: datetime
    action: OverlapAction

    @property
    def status(self) -> ExecutionStatus:
        """The status the fire's execution row starts in."""
        return _STATUS[self.action]

    @property
    def reason(self) -> str | None:
        """``overlap`` for a skipped fire, otherwise None."""
        return OVERLAP_REASON if self.action is OverlapAction.SKIP else None


def decide_overlap(policy: OverlapPolicy, active: ActiveRuns, fire: datetime) -> OverlapDecision:
    """How the fire at ``fire`` (its nominal instant) starts, by ``policy`` (see the table)."""
    return OverlapDecision(as_utc(fire, "fire"), _action(OverlapPolicy(policy), active))


def _action(policy: OverlapPolicy, active: ActiveRuns) -> OverlapAction:
    if policy is OverlapPolicy.ALLOW or not active.busy:
        return OverlapAction.START
    if policy is OverlapPolicy.CANCEL_OTHER:
        return OverlapAction.CANCEL_OTHERS_AND_START
    if policy is OverlapPolicy.BUFFER_ALL:
        return OverlapAction.BUFFER
    if policy is OverlapPolicy.BUFFER_ONE and active.buffered == 0:
        return OverlapAction.BUFFER
    return OverlapAction.SKIP


def next_buffered_to_release(buffered: Iterable[datetime], running: int) -> datetime | None:
    """The buffered fire (by its instant) to start now; None while another run is in flight.

    Called when a run of the schedule ends (``running`` then counts what is still queued
    or running): the oldest buffered fire goes first, one at a time, so ``buffer_all``
    runs its fires in order and never side by side. Fires buffered under an earlier
    policy are released the same way after the policy changes.
    """
    if running < 0:
        raise ValueError(f"running must not be negative (got {running})")
    instants = [as_utc(b, "buffered") for b in buffered]
    if running > 0 or not instants:
        return None
    return min(instants)
