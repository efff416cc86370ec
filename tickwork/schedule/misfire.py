"""What to do with the due fires of a schedule: run them, or record them missed or skipped.

The loop hands over every nominal instant in (last handled, now], oldest first, and gets
back one decision per instant, in the same order (DESIGN, "Misfires"):

* An instant is **on time** when ``now - instant <= grace``: the loop woke for it, a
  little late as loops are. It is not a misfire, so the misfire policy and the catch-up
  window do not apply to it: it runs (under ``run_once`` it is the latest instant, so it
  is the one run).
* A **late** instant older than ``catchup_window`` never runs: ``missed``, reason
  ``catchup_window`` (whatever the policy: that is the fact that decided it).
* A late instant inside the window (``now - instant <= catchup_window``) is decided by
  the policy: ``run_all`` runs each, oldest first; ``run_once`` runs only the latest
  eligible instant and records the others ``missed`` (reason ``misfire``); ``skip`` runs
  none of them (``missed``, reason ``misfire``).
* While paused, instants are ``skipped`` (reason ``paused``) and never caught up:
  :func:`paused_fires`.

A long outage on a frequent schedule owes many instants. Runs of more than
``range_threshold`` consecutive misses with the same reason come back as one
:class:`MissedRange` (first, last, count) instead of one object per instant; every instant
in it stays listable from the trigger (:func:`expand`), as DESIGN requires. The planner
streams its input, so the instants can come from a lazy iterator
(:func:`tickwork.schedule.fires.iter_nominal_fires`) and memory stays bounded.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from tickwork.schedule.policies import ExecutionStatus, MisfirePolicy
from tickwork.schedule.triggers import Trigger, as_utc

DEFAULT_GRACE = timedelta(seconds=1)
"""How late a fire may be and still count as on time: the loop's wake-up slack."""
DEFAULT_RANGE_THRESHOLD = 100
"""Streaks of more consecutive misses than this are returned as one :class:`MissedRange`."""


class FireAction(StrEnum):
    """What becomes of one nominal instant."""

    RUN = "run"
    """Start an execution for it (then subject to the overlap policy)."""
    MISSED = "missed"
    """Record it ``missed``: it passed while Tickwork could not fire it."""
    SKIPPED = "skipped"
    """Record it ``skipped``: the schedule chose not to run it (paused)."""

    @property
    def status(self) -> ExecutionStatus:
        """The execution status the store records for this action."""
        return _STATUS[self]


_STATUS = {
    FireAction.RUN: ExecutionStatus.QUEUED,
    FireAction.MISSED: ExecutionStatus.MISSED,
    FireAction.SKIPPED: ExecutionStatus.SKIPPED,
}


class FireReason(StrEnum):
    """Why an instant did not run; stored with the record and shown in the API."""

    MISFIRE = "misfire"
    """Late, inside the catch-up window, and the misfire policy chose not to run it."""
    CATCHUP_WINDOW = "catchup_window"
    """Late by more than the catch-up window."""
    PAUSED = "paused"
    """Its instant passed while the schedule was paused."""


@dataclass(frozen=True, slots=True)
class FireDecision:
    """The outcome for one nominal instant; ``reason`` is None exactly when it runs."""

    scheduled_for: datetime
    action: FireAction
    reason: FireReason | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "scheduled_for", as_utc(self.scheduled_for, "scheduled_for"))
        if (self.action is FireAction.RUN) != (self.reason is None):
            raise ValueError(f"{self.action} takes {'no' if self.reason else 'a'} reason")


@dataclass(frozen=True, slots=True)
class MissedRange:
    """``count`` consecutive nominal instants, ``first`` to ``last`` inclusive, all not run.

    ``action`` is ``missed`` or ``skipped`` (the record's status), ``reason`` why. The
    instants in between are the trigger's instants there: list them with :func:`expand`.
    """

    first: datetime
    last: datetime
    count: int
    reason: FireReason
    action: FireAction = FireAction.MISSED

    def __post_init__(self) -> None:
        object.__setattr__(self, "first", as_utc(self.first, "first"))
        object.__setattr__(self, "last", as_utc(self.last, "last"))
        if self.action is FireAction.RUN:
            raise ValueError("a range records fires that did not run")
        if (
            self.count < 1
            or self.last < self.first
            or (self.count == 1) != (self.first == self.last)
        ):
            raise ValueError(f"inconsistent range {self.first}..{self.last} x{self.count}")


Plan = list[FireDecision | MissedRange]
"""Decisions oldest first; consecutive misses may be folded into ranges."""


def plan_fires(
    instants: Iterable[datetime],
    now: datetime,
    *,
    policy: MisfirePolicy,
    catchup_window: timedelta,
    grace: timedelta = DEFAULT_GRACE,
    range_threshold: int = DEFAULT_RANGE_THRESHOLD,
) -> Plan:
    """Decide every due instant (strictly increasing, none after ``now``), oldest first."""
    now = as_utc(now, "now")
    _check_durations(catchup_window=catchup_window, grace=grace)
    policy = MisfirePolicy(policy)
    # Eligible = on time, or late but inside the window. Newer instants are younger, so
    # the input splits into an ineligible prefix and an eligible suffix.
    horizon = max(catchup_window, grace)
    out = _Folder(range_threshold)
    pending: datetime | None = None  # run_once: the latest eligible instant seen so far
    for instant in _checked(instants, now):
        age = now - instant
        if age > horizon:
            out.miss(instant, FireReason.CATCHUP_WINDOW)
        elif policy is MisfirePolicy.RUN_ONCE:
            if pending is not None:
                out.miss(pending, FireReason.MISFIRE)
            pending = instant
        elif policy is MisfirePolicy.RUN_ALL or age <= grace:
            out.run(instant)
        else:
            out.miss(instant, FireReason.MISFIRE)
    if pending is not None:
        out.run(pending)
    return out.finish()


def paused_fires(
    instants: Iterable[datetime], *, range_threshold: int = DEFAULT_RANGE_THRESHOLD
) -> Plan:
    """Every instant that passed while paused, recorded ``skipped`` (reason ``paused``).

    No ``now`` is needed: pausing is a choice, not an accident, so nothing is caught up
    on resume, however recent.
    """
    out = _Folder(range_threshold, FireAction.SKIPPED)
    for instant in _checked(instants, None):
        out.miss(instant, FireReason.PAUSED)
    return out.finish()


def runs(plan: Sequence[FireDecision | MissedRange]) -> list[datetime]:
    """The instants a plan starts executions for, oldest first."""
    return [
        d.scheduled_for for d in plan if isinstance(d, FireDecision) and d.action is FireAction.RUN
    ]


def count_instants(plan: Sequence[FireDecision | MissedRange]) -> int:
    """How many nominal instants a plan decides (ranges count every instant in them)."""
    return sum(d.count if isinstance(d, MissedRange) else 1 for d in plan)


def expand(plan: Iterable[FireDecision | MissedRange], trigger: Trigger) -> Iterator[FireDecision]:
    """One decision per instant, listing the instants of each range from the trigger.

    ``ValueError`` if the trigger does not reproduce a range (its definition changed):
    better to say so than to list instants that were never the ones recorded.
    """
    for item in plan:
        if isinstance(item, FireDecision):
            yield item
        else:
            yield from (
                FireDecision(i, item.action, item.reason) for i in _instants_of(item, trigger)
            )


def _instants_of(item: MissedRange, trigger: Trigger) -> Iterator[datetime]:
    """The ``count`` instants of a range, checking that they start and end where it says."""
    instant = trigger.next_after(item.first - _TICK)
    if instant != item.first:
        raise ValueError(f"the trigger does not produce {item.first}, where the range starts")
    for index in range(item.count):
        if instant is None:
            raise ValueError(f"the trigger ends before the range starting {item.first} does")
        if index == item.count - 1 and instant != item.last:
            raise ValueError(f"the trigger does not end the range at {item.last} (got {instant})")
        yield instant
        instant = trigger.next_after(instant)


_TICK = timedelta(microseconds=1)


def _check_durations(**durations: timedelta) -> None:
    for name, value in durations.items():
        if not isinstance(value, timedelta) or value < timedelta(0):
            raise ValueError(f"{name} must be a non-negative timedelta (got {value!r})")


def _checked(instants: Iterable[datetime], now: datetime | None) -> Iterator[datetime]:
    """The instants in UTC; ``ValueError`` unless strictly increasing and not after ``now``.

    Out-of-order or future input means the caller's bookkeeping is wrong; deciding on it
    anyway could run a fire twice or lose one.
    """
    previous: datetime | None = None
    for raw in instants:
        instant = as_utc(raw, "instant")
        if previous is not None and instant <= previous:
            raise ValueError(f"instants must be strictly increasing ({instant} after {previous})")
        if now is not None and instant > now:
            raise ValueError(f"instant {instant} is not due yet (now is {now})")
        previous = instant
        yield instant


class _Folder:
    """Collects decisions in order, folding long streaks of misses into ranges.

    A streak is held back until it ends (a run, another reason, or the end); at most
    ``threshold + 1`` of its instants are kept while it is short, then only its ends.
    """

    def __init__(self, threshold: int, action: FireAction = FireAction.MISSED) -> None:
        if threshold < 1:
            raise ValueError(f"range_threshold must be at least 1 (got {threshold})")
        self._threshold = threshold
        self._action = action
        self._plan: Plan = []
        self._reason: FireReason | None = None
        self._streak: list[datetime] = []
        self._last: datetime | None = None
        self._count = 0

    def run(self, instant: datetime) -> None:
        self._flush()
        self._plan.append(FireDecision(instant, FireAction.RUN))

    def miss(self, instant: datetime, reason: FireReason) -> None:
        if reason is not self._reason:
            self._flush()
            self._reason = reason
        self._count += 1
        self._last = instant
        if self._count <= self._threshold + 1:
            self._streak.append(instant)

    def finish(self) -> Plan:
        self._flush()
        return self._plan

    def _flush(self) -> None:
        reason, last = self._reason, self._last
        if reason is not None and last is not None:
            if self._count > self._threshold:
                self._plan.append(
                    MissedRange(self._streak[0], last, self._count, reason, self._action)
                )
            else:
                self._plan.extend(FireDecision(i, self._action, reason) for i in self._streak)
        self._reason, self._last, self._count, self._streak = None, None, 0, []
