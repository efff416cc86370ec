"""Circuit breakers, one per HTTP target (``host:port``), so a dead target is not hammered.

The state machine, per target::

    CLOSED --(failure_threshold consecutive failures)--> OPEN
    OPEN --(open_for has passed)--> HALF_OPEN
    HALF_OPEN --(one probe admitted; its outcome recorded)--> CLOSED on success,
                                                              OPEN again on failure

While OPEN, runs for the target are refused until ``open_until``; the worker holds them as
``waiting``. HALF_OPEN admits exactly one probe; everyone else re-asks a second later
(:data:`PROBE_RECHECK`) rather than a whole ``open_for``, so they follow the probe
promptly. Each failed probe multiplies the next open period by ``backoff``, up to
``max_open_for``; a successful probe forgets the target, which resets that growth.

The caller decides what counts as a failure (the worker reports connection errors,
timeouts, 5xx and 429 as failures; a 4xx says nothing about the target's health); the
breaker only counts. Only the probe's outcome moves a tripped breaker: results of
requests admitted before it opened arrive late and are ignored, so a burst of them cannot
extend ``open_until`` again and again.

Pure: every decision takes ``now``, nothing reads a clock or does I/O, and there is no
locking — the worker calls it from its one event loop. Targets that are closed with no
failures are not stored, so memory grows with the number of unhealthy targets only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from tickwork.clock import require_aware
from tickwork.errors import InvalidSpec

__all__ = [
    "DEFAULT_SETTINGS",
    "PROBE_RECHECK",
    "Admission",
    "BreakerSettings",
    "BreakerState",
    "CircuitBreakers",
]

PROBE_RECHECK = timedelta(seconds=1)
"""How soon a caller refused because a probe is in flight should ask again."""


@dataclass(frozen=True, slots=True)
class BreakerSettings:
    """When breakers trip and for how long, validated once."""

    failure_threshold: int = 5
    """Consecutive failures that open a breaker; 0 disables breakers altogether."""
    open_for: timedelta = timedelta(seconds=30)
    """How long a breaker stays open after it trips, before the first probe."""
    backoff: float = 2.0
    """Each failed probe multiplies the open period by this."""
    max_open_for: timedelta = timedelta(minutes=10)
    """The open period never grows past this."""

    def __post_init__(self) -> None:
        if self.failure_threshold < 0:
            raise InvalidSpec(
                "breaker.failure_threshold",
                str(self.failure_threshold),
                "must be at least 0 (0 disables the breaker)",
            )
        if self.open_for <= timedelta(0):
            raise InvalidSpec("breaker.open_for", str(self.open_for), "must be positive")
        if not (math.isfinite(self.backoff) and self.backoff >= 1.0):  # also rejects NaN
            raise InvalidSpec("breaker.backoff", str(self.backoff), "must be a number >= 1")
        if self.max_open_for < self.open_for:
            raise InvalidSpec(
                "breaker.max_open_for", str(self.max_open_for), "must not be below open_for"
            )


class BreakerState(StrEnum):
    """Where a target's breaker stands; the values are the words shown by the API."""

    CLOSED = "closed"
    """Healthy, or not yet failing enough: every run is admitted."""
    OPEN = "open"
    """Tripped: runs are held until ``open_until``."""
    HALF_OPEN = "half_open"
    """The open period is over: one probe may run (or is running) to test the target."""


@dataclass(frozen=True, slots=True)
class Admission:
    """The answer to "may a run against this target start now?"."""

    allowed: bool
    probe: bool
    """This run is the half-open probe: pass ``probe=True`` when recording its outcome,
    or call :meth:`CircuitBreakers.release_probe` if it never reaches one."""
    retry_at: datetime | None
    """When not allowed: when to ask again (always after ``now``); None when allowed."""
    state: BreakerState
    """The breaker's state after this decision."""


DEFAULT_SETTINGS = BreakerSettings()
"""Five consecutive failures open a breaker for 30s, doubling per failed probe up to 10m."""

_ADMITTED = Admission(allowed=True, probe=False, retry_at=None, state=BreakerState.CLOSED)


@dataclass(slots=True)
class _Target:
    """What is remembered about a target that is failing or tripped."""

    open_for: timedelta
    """The open period to use the next time the breaker opens."""
    failures: int = 0
    """Consecutive failures (while closed), plus failed probes after it opened."""
    open_until: datetime | None = None
    """Set while the breaker is tripped (OPEN before it, HALF_OPEN from it on)."""
    probing: bool = False
    """A probe has been admitted and has neither been recorded nor released."""

    def state(self, now: datetime) -> BreakerState:
        if self.open_until is None:
            return BreakerState.CLOSED
        return BreakerState.OPEN if now < self.open_until else BreakerState.HALF_OPEN


class CircuitBreakers:
    """The breakers of every target one worker talks to.

    Every admitted probe must end in ``record(..., probe=True)`` or :meth:`release_probe`
    (e.g. in a ``finally``): a probe that is never settled keeps its target waiting.
    """

    def __init__(self, settings: BreakerSettings = DEFAULT_SETTINGS) -> None:
        self.settings = settings
        self._targets: dict[str, _Target] = {}

    def admit(self, target: str, now: datetime) -> Admission:
        """May a run against ``target`` start at ``now``? A probe admission is remembered
        until its outcome is recorded or it is released."""
        now = require_aware(now, "now")
        entry = self._targets.get(target)
        if entry is None or entry.open_until is None:
            return _ADMITTED
        if now < entry.open_until:
            return Admission(
                allowed=False, probe=False, retry_at=entry.open_until, state=BreakerState.OPEN
            )
        if entry.probing:
            return Admission(
                allowed=False,
                probe=False,
                retry_at=now + PROBE_RECHECK,
                state=BreakerState.HALF_OPEN,
            )
        entry.probing = True
        return Admission(allowed=True, probe=True, retry_at=None, state=BreakerState.HALF_OPEN)

    def record(self, target: str, ok: bool, now: datetime, *, probe: bool = False) -> BreakerState:
        """Count how a run admitted for ``target`` ended; return the breaker's state after.

        ``ok=False`` only for results that say the target is unhealthy — the caller
        decides which. ``probe`` is the admission's ``probe``. While the breaker is tripped
        only the probe's outcome counts; any other result comes from a run admitted before
        it opened and is ignored.
        """
        now = require_aware(now, "now")
        if self.settings.failure_threshold == 0:
            return BreakerState.CLOSED
        entry = self._targets.get(target)
        if entry is None:
            if ok:
                return BreakerState.CLOSED
            entry = self._targets[target] = _Target(open_for=self.settings.open_for)
        if entry.open_until is not None and not (probe and entry.probing):
            return entry.state(now)
        if ok:
            del self._targets[target]
            return BreakerState.CLOSED
        entry.failures += 1
        if entry.probing:
            entry.probing = False
            entry.open_for = self._grown(entry.open_for)
            entry.open_until = now + entry.open_for
        elif entry.failures >= self.settings.failure_threshold:
            entry.open_until = now + entry.open_for
        return entry.state(now)

    def release_probe(self, target: str) -> None:
        """The probe admitted for ``target`` ended without an outcome (it was cancelled):
        let the next caller probe instead. Harmless when no probe is in flight."""
        entry = self._targets.get(target)
        if entry is not None:
            entry.probing = False

    def state(self, target: str, now: datetime) -> BreakerState:
        """The state of ``target``'s breaker at ``now``."""
        now = require_aware(now, "now")
        entry = self._targets.get(target)
        return BreakerState.CLOSED if entry is None else entry.state(now)

    def open_targets(self, now: datetime) -> list[str]:
        """Targets whose breaker is tripped (open or half-open) at ``now``, sorted."""
        require_aware(now, "now")
        return sorted(t for t, entry in self._targets.items() if entry.open_until is not None)

    def snapshot(self, now: datetime) -> dict[str, dict[str, object]]:
        """Every target with failures or a tripped breaker, for metrics and the API.

        Per target: ``state`` (a :class:`BreakerState` value), ``consecutive_failures``,
        ``open_until`` (None unless tripped) and ``probe_in_flight``. Targets not listed
        are closed with no failures.
        """
        now = require_aware(now, "now")
        return {
            target: {
                "state": entry.state(now).value,
                "consecutive_failures": entry.failures,
                "open_until": entry.open_until,
                "probe_in_flight": entry.probing,
            }
            for target, entry in sorted(self._targets.items())
        }

    def _grown(self, open_for: timedelta) -> timedelta:
        """The open period after one more failed probe, capped at ``max_open_for``."""
        cap = self.settings.max_open_for
        seconds = open_for.total_seconds() * self.settings.backoff
        return cap if seconds >= cap.total_seconds() else timedelta(seconds=seconds)
