"""IANA time zone lookup with a clear error for unknown names."""

from __future__ import annotations

from datetime import timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tickwork.errors import UnknownTimeZone

TimeZoneLike = str | tzinfo


@lru_cache(maxsize=1024)
def _lookup(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, IsADirectoryError) as exc:
        raise UnknownTimeZone(name) from exc


def resolve_zone(tz: TimeZoneLike) -> tzinfo:
    """A ``tzinfo`` for an IANA name (or the ``tzinfo`` given)."""
    if isinstance(tz, str):
        return _lookup(tz)
    return tz


def is_fixed_offset(zone: tzinfo) -> bool:
    """True for zones with no DST or offset changes, where wall time maps 1:1 to instants."""
    if isinstance(zone, timezone):
        return True
    return isinstance(zone, ZoneInfo) and zone.key in _FIXED_NAMES


_FIXED_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "Etc/GMT", "GMT", "UCT", "Zulu", "Etc/Zulu"})
