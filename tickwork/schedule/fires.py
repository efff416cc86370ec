"""Nominal fire instants: a trigger's instants within a schedule's start_at/end_at/max_runs.

The *nominal* instants are the ones the schedule owes: each must end as an execution or
a recorded ``missed``/``skipped`` entry (DESIGN, guarantee 2). They are a function of the
trigger and the window only, never of what happened to earlier fires:

* ``start_at`` is inclusive: nothing before it, a fire exactly at it counts;
* ``end_at`` is inclusive: nothing after it;
* ``max_runs`` caps the number of nominal instants, whatever their outcome. A fire that
  was missed or skipped still used one of them. Counting only fires that ran would make
  the set of instants depend on outages, and the ledger of a schedule could not be listed
  from its definition. ``runs_so_far`` is how many nominal instants were already handled
  (executions, missed and skipped entries of ``trigger = schedule``; manual runs and
  backfills do not count).

Because the window only trims a prefix and a suffix, the nominal instants between any
two nominal instants are exactly the trigger's instants there; ranges of missed fires
rely on that to stay listable.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice

from tickwork.errors import InvalidSpec
from tickwork.schedule.triggers import Trigger, as_utc

_JUST_BEFORE = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Window:
    """What a schedule puts around its trigger: start_at, end_at (both inclusive), max_runs."""

    start_at: datetime | None = None
    end_at: datetime | None = None
    max_runs: int | None = None

    def __post_init__(self) -> None:
        if self.start_at is not None:
            object.__setattr__(self, "start_at", as_utc(self.start_at, "start_at"))
        if self.end_at is not None:
            object.__setattr__(self, "end_at", as_utc(self.end_at, "end_at"))
        if self.start_at is not None and self.end_at is not None and self.end_at < self.start_at:
            raise InvalidSpec("end_at", self.end_at.isoformat(), "is before start_at")
        if self.max_runs is not None and self.max_runs < 1:
            raise InvalidSpec("max_runs", str(self.max_runs), "must be at least 1")

    def remaining(self, runs_so_far: int) -> int | None:
        """How many nominal instants are left after ``runs_so_far``; None when unlimited."""
        if runs_so_far < 0:
            raise ValueError(f"runs_so_far must not be negative (got {runs_so_far})")
        return None if self.max_runs is None else max(0, self.max_runs - runs_so_far)


def iter_nominal_fires(
    trigger: Trigger,
    after: datetime,
    until: datetime | None = None,
    *,
    window: Window | None = None,
    runs_so_far: int = 0,
) -> Iterator[datetime]:
    """Lazily, the nominal instants in (after, until] (unbounded when ``until`` is None).

    Lazy so that a long outage can be streamed into the misfire planner without building
    a list of every missed instant.
    """
    window = window or Window()
    after = as_utc(after, "after")
    limit = as_utc(until, "until") if until is not None else None
    if window.end_at is not None:
        limit = window.end_at if limit is None else min(limit, window.end_at)
    if window.start_at is not None and after < window.start_at:
        # Ask for instants strictly after "just before start_at", so start_at itself counts.
        after = window.start_at - _JUST_BEFORE
    return islice(_walk(trigger, after, limit), window.remaining(runs_so_far))


def _walk(trigger: Trigger, after: datetime, limit: datetime | None) -> Iterator[datetime]:
    """The trigger's instants after ``after`` up to ``limit`` (inclusive)."""
    current = trigger.next_after(after)
    while current is not None and (limit is None or current <= limit):
        yield current
        current = trigger.next_after(current)


def nominal_fires(
    trigger: Trigger,
    after: datetime,
    until: datetime,
    *,
    start_at: datetime | None = None,
    end_at: datetime | None = None,
    max_runs: int | None = None,
    runs_so_far: int = 0,
) -> list[datetime]:
    """The nominal instants in (after, until], oldest first, in UTC.

    ``after`` is the last instant already handled (or the schedule's creation instant);
    ``until`` is usually ``now``: the result is what is due.
    """
    window = Window(start_at, end_at, max_runs)
    return list(iter_nominal_fires(trigger, after, until, window=window, runs_so_far=runs_so_far))


def next_fire(
    trigger: Trigger,
    after: datetime,
    *,
    start_at: datetime | None = None,
    end_at: datetime | None = None,
    max_runs: int | None = None,
    runs_so_far: int = 0,
) -> datetime | None:
    """The first nominal instant strictly after ``after``; None when the schedule is done.

    This is what the loop's heap and the API's ``next_fire_at`` hold.
    """
    window = Window(start_at, end_at, max_runs)
    return next(iter_nominal_fires(trigger, after, window=window, runs_so_far=runs_so_far), None)


def is_retired(
    trigger: Trigger,
    after: datetime,
    *,
    start_at: datetime | None = None,
    end_at: datetime | None = None,
    max_runs: int | None = None,
    runs_so_far: int = 0,
) -> bool:
    """True when no nominal instant will ever come after ``after``: the schedule is completed.

    ``after`` is the instant up to which fires are handled (the last handled instant, or
    ``now`` once the due fires were planned): a schedule whose ``end_at`` passed while
    fires before it are still unhandled is not completed yet. The reasons it can end:
    ``max_runs`` used up, ``end_at`` reached, the one-off instant passed, or a cron year
    field exhausted.
    """
    window = Window(start_at, end_at, max_runs)
    if window.remaining(runs_so_far) == 0:
        return True
    if window.end_at is not None and as_utc(after, "after") >= window.end_at:
        return True
    return next_fire(trigger, after, start_at=start_at, end_at=end_at) is None
