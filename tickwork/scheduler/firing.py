"""Settling a schedule: every nominal instant due by ``now`` becomes a row, by its policies.

Pure: given a schedule as stored, its rules, what it has in flight and ``now``, return
what to write. The loop writes it for many schedules in one transaction; the service
writes it for one schedule before an edit, a pause or a resume, so instants owed under
the old definition are never lost (guarantee 2).

For one schedule, in order:

1. The due instants are ``next_fire_at`` and every nominal instant after it up to
   ``now`` (``next_fire_at`` is the first instant not yet handled; the schedule's
   definition alone decides the rest, see :mod:`tickwork.schedule.fires`).
2. Active schedules: the misfire planner decides which run, which are missed
   (:func:`~tickwork.schedule.misfire.plan_fires`). Paused schedules: all are skipped,
   reason ``paused`` (:func:`~tickwork.schedule.misfire.paused_fires`).
3. The overlap policy decides how the runs start. A catch-up (several runs in one
   settle, under ``run_all``) is one unit: its first run meets the overlap policy like
   any fire; if that starts or buffers it, the rest queue up behind it as ``buffered``
   (all ``queued`` under ``allow``) so they run one after another, oldest first; if
   the policy skips it, the whole catch-up is skipped.
4. The schedule moves on: ``next_fire_at`` is the first instant after ``now`` (None and
   state ``completed`` when none is left), ``runs_count`` counts every instant handled.

Steps 1, 2 and 4 depend on the schedule's timing, not on which schedule it is: the loop
settles a batch with :func:`settle_many`, which takes them once per distinct timing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tickwork.schedule.fires import iter_nominal_fires
from tickwork.schedule.jitter import jitter_delay
from tickwork.schedule.misfire import (
    DEFAULT_GRACE,
    FireAction,
    FireDecision,
    MissedRange,
    Plan,
    count_instants,
    paused_fires,
    plan_fires,
)
from tickwork.schedule.overlap import ActiveRuns, OverlapAction, decide_overlap
from tickwork.schedule.policies import (
    ExecutionStatus,
    ExecutionTrigger,
    OverlapPolicy,
    ScheduleState,
)
from tickwork.schedule.rules import ScheduleRules
from tickwork.store.protocols import (
    ActiveCounts,
    DueSchedule,
    NewExecution,
    ScheduleAdvance,
    ScheduleRecord,
)

__all__ = ["CANCELLED_BY_OVERLAP", "Settlement", "settle", "settle_many"]

CANCELLED_BY_OVERLAP = "cancel_other"
"""The reason stored on runs cancelled by a newer fire under ``overlap: cancel_other``."""

_JUST_BEFORE = timedelta(microseconds=1)
_MS = timedelta(milliseconds=1)


@dataclass(slots=True)
class Settlement:
    """What settling one schedule writes: rows, ranges, and where the schedule moves to."""

    advance: ScheduleAdvance
    executions: list[NewExecution] = field(default_factory=list)
    missed_ranges: list[MissedRange] = field(default_factory=list)
    cancel_others: bool = False
    """Cancel the schedule's unfinished runs before inserting (``cancel_other``)."""

    @property
    def fired(self) -> int:
        """How many executions start (queued or buffered)."""
        started = (ExecutionStatus.QUEUED, ExecutionStatus.BUFFERED)
        return sum(1 for e in self.executions if e.status in started)


def settle(
    schedule: ScheduleRecord | DueSchedule,
    rules: ScheduleRules,
    now: datetime,
    active: ActiveCounts,
    new_id: Callable[[], uuid.UUID],
    *,
    paused: bool | None = None,
    grace: timedelta = DEFAULT_GRACE,
) -> Settlement | None:
    """Decide every instant of ``schedule`` due by ``now``; None when nothing is due.

    ``paused`` overrides the stored state (the service settles a schedule as paused
    when it resumes it). ``new_id`` makes execution and range ids. ``grace``: how late an
    instant may be and still be on time (see :mod:`tickwork.schedule.misfire`).
    """
    first = schedule.next_fire_at
    if first is None or first > now or schedule.state is ScheduleState.COMPLETED:
        return None
    if paused is None:
        paused = schedule.state is ScheduleState.PAUSED
    timing = _timing(rules, first, schedule.runs_count, now, paused=paused, grace=grace)
    return _settlement(schedule, rules, timing, now, active, new_id)


def settle_many(
    schedules: Iterable[ScheduleRecord | DueSchedule],
    rules_of: Mapping[uuid.UUID, ScheduleRules],
    now: datetime,
    active_of: Mapping[uuid.UUID, ActiveCounts],
    new_id: Callable[[], uuid.UUID],
    *,
    grace: timedelta = DEFAULT_GRACE,
) -> list[Settlement]:
    """:func:`settle` for each schedule (by its stored state) that has something due.

    The same settlements, in order, for less: which instants are due and what the misfire
    policy makes of them depends on the schedule's timing (:attr:`ScheduleRules.timing_key`),
    where it stands (``next_fire_at``; ``runs_count`` under ``max_runs``) and its misfire
    rules, not on which schedule it is. A burst of thousands of schedules sharing a few
    expressions and instants is decided once per distinct timing; only its rows, the
    overlap decision and the ids are the schedule's own.
    """
    timings: dict[tuple[object, ...], _Timing] = {}
    settlements = []
    for schedule in schedules:
        first = schedule.next_fire_at
        if first is None or first > now or schedule.state is ScheduleState.COMPLETED:
            continue
        rules = rules_of[schedule.id]
        paused = schedule.state is ScheduleState.PAUSED
        runs_so_far = schedule.runs_count
        key = (
            rules.timing_key,
            first,
            None if rules.window.max_runs is None else runs_so_far,
            paused,
            rules.misfire,
            rules.catchup_window,
        )
        timing = timings.get(key)
        if timing is None:
            timing = _timing(rules, first, runs_so_far, now, paused=paused, grace=grace)
            timings[key] = timing
        settlements.append(
            _settlement(schedule, rules, timing, now, active_of[schedule.id], new_id)
        )
    return settlements


@dataclass(frozen=True, slots=True)
class _Timing:
    """What a schedule's due instants come to, whichever schedule it is: the plan, how
    many instants it handles, the last of them, and the next instant after ``now``."""

    plan: Plan
    handled: int
    last: datetime | None
    next_fire_at: datetime | None


def _timing(
    rules: ScheduleRules,
    first: datetime,
    runs_so_far: int,
    now: datetime,
    *,
    paused: bool,
    grace: timedelta,
) -> _Timing:
    instants = iter_nominal_fires(
        rules.trigger,
        first - _JUST_BEFORE,
        now,
        window=rules.window,
        runs_so_far=runs_so_far,
    )
    plan: Plan
    if paused:
        plan = paused_fires(instants)
    else:
        plan = plan_fires(
            instants,
            now,
            policy=rules.misfire,
            catchup_window=rules.catchup_window,
            grace=grace,
        )
    handled = count_instants(plan)
    next_fire_at = rules.next_fire(now, runs_so_far + handled)
    return _Timing(plan, handled, _last_instant(plan), next_fire_at)


def _settlement(
    schedule: ScheduleRecord | DueSchedule,
    rules: ScheduleRules,
    timing: _Timing,
    now: datetime,
    active: ActiveCounts,
    new_id: Callable[[], uuid.UUID],
) -> Settlement:
    next_fire_at = timing.next_fire_at
    settlement = Settlement(
        ScheduleAdvance(
            schedule_id=schedule.id,
            next_fire_at=next_fire_at,
            last_fired_at=timing.last or schedule.last_fired_at,
            runs_count=schedule.runs_count + timing.handled,
            state=ScheduleState.COMPLETED if next_fire_at is None else schedule.state,
        )
    )
    _Rows(schedule, rules, now, active, new_id, settlement).add(timing.plan)
    return settlement


def _last_instant(plan: Plan) -> datetime | None:
    if not plan:
        return None
    item = plan[-1]
    return item.last if isinstance(item, MissedRange) else item.scheduled_for


class _Rows:
    """Turns a plan into execution rows, applying the overlap policy to its runs."""

    def __init__(
        self,
        schedule: ScheduleRecord | DueSchedule,
        rules: ScheduleRules,
        now: datetime,
        active: ActiveCounts,
        new_id: Callable[[], uuid.UUID],
        out: Settlement,
    ) -> None:
        self._schedule = schedule
        self._rules = rules
        self._now = now
        self._active = ActiveRuns(running=active.active, buffered=active.buffered)
        self._new_id = new_id
        self._out = out
        self._first_run: OverlapAction | None = None

    def add(self, plan: Plan) -> None:
        for item in plan:
            if isinstance(item, MissedRange):
                self._out.missed_ranges.append(item)
            elif item.action is FireAction.RUN:
                self._run(item)
            else:
                self._row(item.scheduled_for, item.action.status, str(item.reason))

    def _run(self, decision: FireDecision) -> None:
        instant = decision.scheduled_for
        if self._first_run is None:
            overlap = decide_overlap(self._rules.overlap, self._active, instant)
            self._first_run = overlap.action
            if overlap.action is OverlapAction.CANCEL_OTHERS_AND_START:
                self._out.cancel_others = True
            self._row(instant, overlap.status, overlap.reason)
        elif self._first_run is OverlapAction.SKIP:
            self._row(instant, ExecutionStatus.SKIPPED, "overlap")
        elif self._rules.overlap is OverlapPolicy.ALLOW:
            self._row(instant, ExecutionStatus.QUEUED, None)
        else:
            self._row(instant, ExecutionStatus.BUFFERED, None)

    def _row(self, instant: datetime, status: ExecutionStatus, reason: str | None) -> None:
        schedule, rules, now = self._schedule, self._rules, self._now
        not_before = None
        if status is ExecutionStatus.QUEUED or status is ExecutionStatus.BUFFERED:
            not_before = instant
            if rules.jitter:
                not_before += jitter_delay(str(schedule.id), instant, rules.jitter)
        self._out.executions.append(
            NewExecution(
                id=self._new_id(),
                namespace=schedule.namespace,
                trigger=ExecutionTrigger.SCHEDULE,
                scheduled_for=instant,
                status=status,
                created_at=now,
                schedule_id=schedule.id,
                schedule_name=schedule.name,
                workflow_name=rules.workflow,
                reason=reason,
                max_attempts=rules.max_attempts,
                priority=rules.priority,
                concurrency_key=rules.concurrency_key,
                concurrency_limit=rules.concurrency_limit,
                input=rules.input,
                queued_at=now if status is ExecutionStatus.QUEUED else None,
                not_before=not_before,
                lateness_ms=(now - instant) // _MS,
            )
        )
