"""Durations: the one parser for YAML, the API, the CLI and the UI.

Inside Tickwork a duration is a ``timedelta``; in documents it is a string, in one of two
forms:

* compact: one or more ``<number><unit>`` parts, largest unit first, each unit at most
  once: ``500ms``, ``30s``, ``15m``, ``1h``, ``1d``, ``1h30m``, ``1.5h``. Units are ``d``,
  ``h``, ``m``, ``s``, ``ms`` and ``us`` (microseconds), lower case (``M`` would be read as
  months by some, minutes by others).
* ISO 8601: ``PT15M``, ``P1D``, ``PT0.5S``, ``P1DT2H``, ``P2W``. Years and months are
  refused: they have no fixed length.

Durations are never negative, and are exact to the microsecond (``timedelta``'s
resolution): a value finer than that is refused rather than rounded.
:func:`format_duration` writes the canonical compact form, and
``parse_duration(format_duration(x)) == x`` for every non-negative ``timedelta``.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from tickwork.errors import InvalidSpec

__all__ = ["format_duration", "parse_duration"]

_US_PER_UNIT = {
    "d": 86_400_000_000,
    "h": 3_600_000_000,
    "m": 60_000_000,
    "s": 1_000_000,
    "ms": 1_000,
    "us": 1,
}
_NUMBER = r"\d+(?:\.\d+)?"
_COMPACT = re.compile("".join(rf"(?:(?P<{unit}>{_NUMBER}){unit})?" for unit in _US_PER_UNIT))
_ISO_NUMBER = r"\d+(?:[.,]\d+)?"
_ISO = re.compile(
    rf"P(?:(?P<years>{_ISO_NUMBER})Y)?(?:(?P<months>{_ISO_NUMBER})M)?"
    rf"(?:(?P<w>{_ISO_NUMBER})W)?(?:(?P<d>{_ISO_NUMBER})D)?"
    rf"(?:T(?=\d)(?:(?P<h>{_ISO_NUMBER})H)?(?:(?P<m>{_ISO_NUMBER})M)?(?:(?P<s>{_ISO_NUMBER})S)?)?",
    re.IGNORECASE,
)
_ISO_US_PER_UNIT = {"w": 7 * _US_PER_UNIT["d"], **_US_PER_UNIT}

NOT_A_DURATION = "is not a duration (use e.g. 500ms, 30s, 15m, 1h, 1d or PT15M)"


def parse_duration(text: str, *, field: str) -> timedelta:
    """The ``timedelta`` written in ``text``; :class:`InvalidSpec` naming ``field`` if none."""
    stripped = text.strip()
    if stripped.startswith("-") and _parts(stripped[1:], field, text) is not None:
        raise InvalidSpec(field, repr(text), "is negative; a duration is zero or more")
    parts = _parts(stripped, field, text)
    if parts is None:
        raise InvalidSpec(field, repr(text), NOT_A_DURATION)
    total = sum(
        (Decimal(number.replace(",", ".")) * per_unit for number, per_unit in parts), Decimal(0)
    )
    if total != total.to_integral_value():
        raise InvalidSpec(field, repr(text), "is finer than a microsecond")
    try:
        return timedelta(microseconds=int(total))
    except OverflowError:
        raise InvalidSpec(field, repr(text), "is too long (at most 999999999 days)") from None


def format_duration(value: timedelta) -> str:
    """The canonical compact form of ``value``: ``1h30m``, ``500ms``, ``1d2h``, ``0s``."""
    if value < timedelta(0):
        raise InvalidSpec("duration", str(value), "is negative; a duration is zero or more")
    remaining = value // timedelta(microseconds=1)
    parts = []
    for unit, per_unit in _US_PER_UNIT.items():
        count, remaining = divmod(remaining, per_unit)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


def _parts(text: str, field: str, original: str) -> list[tuple[str, int]] | None:
    """(number, microseconds per unit) for each part of ``text``; None if not a duration."""
    return _compact_parts(text) or _iso_parts(text, field, original)


def _compact_parts(text: str) -> list[tuple[str, int]] | None:
    match = _COMPACT.fullmatch(text)
    if match is None or not text:
        return None
    return [(number, _US_PER_UNIT[unit]) for unit, number in match.groupdict().items() if number]


def _iso_parts(text: str, field: str, original: str) -> list[tuple[str, int]] | None:
    match = _ISO.fullmatch(text)
    if match is None:
        return None
    groups = match.groupdict()
    if groups.pop("years") is not None or groups.pop("months") is not None:
        raise InvalidSpec(
            field,
            repr(original),
            "uses years or months, which have no fixed length; use days (e.g. P30D)",
        )
    parts = [(number, _ISO_US_PER_UNIT[unit]) for unit, number in groups.items() if number]
    return parts or None
