"""Where a zone's UTC offset changes, and what that means for a wall-clock time.

A wall time is *unique* (one instant), *repeated* (a fall-back overlap: two instants, the
first with ``fold=0``) or *skipped* (a spring-forward gap: no instant). PEP 495 gives both
offsets: ``fold=0`` the one before the change, ``fold=1`` the one after. zoneinfo keeps its
transition table private, so the change itself is found by bisecting whole seconds between
the two candidate instants; that happens only for fires near a change.

The rules Tickwork applies on top (see :mod:`tickwork.cron`): a fixed-time job runs once
at the end of a gap and on the first pass of a repeated hour; a job with ``*`` in the
minute or hour field follows the wall clock (nothing in a gap, both passes of a repeat).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

_EPOCH = datetime(1970, 1, 1)
_SECOND = timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class Transition:
    """One change of UTC offset: the instant, and the offsets on either side."""

    at: datetime  # naive UTC
    offset_before: timedelta
    offset_after: timedelta

    @property
    def wall_where_old_offset_ends(self) -> datetime:
        """Gap: first skipped wall time. Overlap: the end of the first pass."""
        return self.at + self.offset_before

    @property
    def wall_where_new_offset_starts(self) -> datetime:
        """Gap: the wall time right after the jump. Overlap: start of the repeated stretch."""
        return self.at + self.offset_after

    def instant(self, zone: tzinfo) -> datetime:
        return self.at.replace(tzinfo=UTC).astimezone(zone)


def offsets(wall: datetime, zone: tzinfo) -> tuple[timedelta, timedelta]:
    """The UTC offsets of a naive wall time for fold=0 and fold=1 (equal when unique)."""
    first = wall.replace(tzinfo=zone, fold=0)
    before = first.utcoffset()
    after = first.replace(fold=1).utcoffset()
    assert before is not None and after is not None
    return before, after


def transition_around(wall: datetime, zone: tzinfo) -> Transition:
    """The offset change that makes ``wall`` (naive, local) skipped or repeated."""
    before, after = offsets(wall, zone)
    # In a gap the change lies in (wall - after, wall - before]; in an overlap in
    # (wall - before, wall - after]. Either way: bisect for the first second on the new offset.
    lo = _seconds(wall - max(before, after))
    hi = _seconds(wall - min(before, after))
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, zone).utcoffset() == after:
            hi = mid
        else:
            lo = mid
    return Transition(_EPOCH + timedelta(seconds=hi), before, after)


def _seconds(naive_utc: datetime) -> int:
    return (naive_utc - _EPOCH) // _SECOND
