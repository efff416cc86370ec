"""IANA time zone lookup with a clear error for unknown names."""

from __future__ import annotations

from datetime import timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tickwork.errors import UnknownTimeZone

TimeZoneLike = str | tzinfo


_MAX_NAME = 64
"""The longest IANA zone name is 32 characters; longer input is not a zone (and a very long
one would reach the file system as a path that is too long)."""


@lru_cache(maxsize=1024)
def _lookup(name: str) -> ZoneInfo:
    if len(name) > _MAX_NAME or "\x00" in name:
        raise UnknownTimeZone(name[:_MAX_NAME] + ("…" if len(name) > _MAX_NAME else ""))
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # OSError: not a zone file
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
