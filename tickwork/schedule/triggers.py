"""Triggers: when a schedule's nominal fire instants fall, as UTC-aware instants.

A trigger answers one question, ``next_after(after)``: the first nominal instant strictly
after ``after``, or ``None`` when there is none. Everything else (windows, misfires,
overlap) is built on that one question, so a new kind of trigger only has to answer it.

Instants go in aware (in any zone) and come out aware in UTC: Python ignores ``fold``
when comparing two datetimes of one zone, so UTC is the only safe form to compare and
store. Naive datetimes are refused with ``ValueError`` rather than guessed at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Protocol, runtime_checkable

from tickwork.cron import CronExpr, resolve_zone
from tickwork.errors import InvalidSpec

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
"""Where an interval grid falls when no anchor is given (see :class:`IntervalTrigger`)."""


def as_utc(value: datetime, name: str) -> datetime:
    """``value`` in UTC; ``ValueError`` naming ``name`` when it is naive.

    A naive instant has no meaning across nodes and time zones, so it is a programming
    error at this layer, never something to interpret as local time.
    """
    if isinstance(value, datetime) and value.tzinfo is UTC:
        return value  # already the safe form: the common case on the firing path
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime (got naive {value.isoformat()})")
    return value.astimezone(UTC)


@runtime_checkable
class Trigger(Protocol):
    """The one question every trigger answers."""

    def next_after(self, after: datetime) -> datetime | None:
        """The first nominal instant strictly after ``after``, in UTC; None if none is left."""
        ...


@lru_cache(maxsize=4096)
def _parse_shared(expression: str, hash_key: str | None) -> CronExpr:
    return CronExpr.parse(expression, hash_key=hash_key)


@lru_cache(maxsize=8192)
def _next_shared(expr: CronExpr, timezone: str, after: datetime) -> datetime | None:
    """The engine's answer, remembered: a burst is many schedules sharing an expression
    and an instant, so each asks the same question (the engine is pure, so the answer
    never goes stale)."""
    found = expr.next_after(after, timezone)
    return None if found is None else found.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class CronTrigger:
    """A cron expression evaluated on the wall clock of an IANA time zone.

    The expression is parsed once, at construction, so a bad expression or an unknown
    zone fails where the schedule is built (``CronSyntaxError`` / ``UnknownTimeZone``,
    both ``InvalidSpec``), and the hot path only iterates. ``hash_key`` (the schedule's
    id) feeds ``H`` fields so every node picks the same spread-out minute.
    """

    expression: str
    timezone: str = "UTC"
    hash_key: str | None = None
    _expr: CronExpr = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        resolve_zone(self.timezone)
        # The key only feeds H fields: expressions without one share a single parse, so a
        # burst of thousands of schedules on one expression parses it once.
        object.__setattr__(self, "_expr", _parse_shared(self.expression, self._hash_key_used))

    @property
    def _hash_key_used(self) -> str | None:
        return self.hash_key if "H" in self.expression else None

    @property
    def expr(self) -> CronExpr:
        """The parsed expression (shared, immutable)."""
        return self._expr

    def next_after(self, after: datetime) -> datetime | None:
        """The next cron instant strictly after ``after``, converted to UTC.

        The engine answers in the zone (with ``fold=1`` on a repeated hour's second
        pass); converting here keeps every caller on the safe, comparable form.
        """
        return _next_shared(self._expr, self.timezone, as_utc(after, "after"))


@dataclass(frozen=True, slots=True)
class IntervalTrigger:
    """Every ``every`` of elapsed time, on the grid ``anchor + k * every`` (any integer k).

    Elapsed time, not wall time: a 1h interval is 3600 s apart across DST changes, so
    it never doubles or drops a fire when the clocks move.

    The anchor fixes the grid's phase, not a first fire: an anchor in the past or the
    future only says where the grid points fall. When the schedule document gives no
    anchor, the caller (the spec converter) passes the schedule's creation instant, so
    the first fire comes one interval after creation (fires are strictly after the
    instant they are asked about). ``anchor=None`` here aligns the grid to the Unix
    epoch, which keeps the trigger deterministic on its own (a 15m interval then fires
    at :00, :15, :30 and :45 UTC).
    """

    every: timedelta
    anchor: datetime | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.every, timedelta) or self.every <= timedelta(0):
            raise InvalidSpec("trigger.interval", str(self.every), "must be a positive duration")
        if self.anchor is not None:
            object.__setattr__(self, "anchor", as_utc(self.anchor, "anchor"))

    def next_after(self, after: datetime) -> datetime | None:
        """The first grid point strictly after ``after``; None past ``datetime.max``.

        Exact integer arithmetic on microseconds (``timedelta // timedelta``), so no
        float rounding ever shifts a fire.
        """
        anchor = EPOCH if self.anchor is None else self.anchor
        steps = (as_utc(after, "after") - anchor) // self.every + 1
        try:
            return anchor + steps * self.every
        except OverflowError:
            return None


@dataclass(frozen=True, slots=True)
class AtTrigger:
    """A one-off instant: fires once, at ``at``, and then never again."""

    at: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", as_utc(self.at, "at"))

    def next_after(self, after: datetime) -> datetime | None:
        """``at`` while it is still ahead of ``after``; None once it has passed."""
        return self.at if self.at > as_utc(after, "after") else None


AnyTrigger = CronTrigger | IntervalTrigger | AtTrigger
"""The triggers a schedule document can declare (exactly one of cron | interval | at)."""


def instants_key(trigger: AnyTrigger) -> tuple[object, ...]:
    """Equal for two triggers that give the same instants, and quick to hash (strings and
    instants): a burst of schedules sharing an expression, a zone or an instant is decided
    once per key. Cron triggers without ``H`` fields share one whatever their hash key."""
    if isinstance(trigger, CronTrigger):
        return ("cron", trigger.expression, trigger.timezone, trigger._hash_key_used)
    if isinstance(trigger, IntervalTrigger):
        return ("interval", trigger.every, trigger.anchor)
    return ("at", trigger.at)
