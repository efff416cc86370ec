"""Field types shared by documents: strings at the edge, Python values inside.

Durations are strings in documents (``30s``, ``PT15M``) and ``timedelta`` in the model;
instants are RFC 3339 strings with an offset and aware ``datetime`` in the model. Each
type parses with the one parser (:mod:`tickwork.durations`), writes back the canonical
string on ``model_dump(mode="json")``, and describes itself in the JSON Schema.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
)
from pydantic import ValidationInfo as _Info

from tickwork.durations import format_duration, parse_duration
from tickwork.errors import InvalidSpec

__all__ = [
    "NAME_PATTERN",
    "DocumentModel",
    "Duration",
    "FieldProblem",
    "Instant",
    "IntervalDuration",
    "Name",
    "PositiveDuration",
    "format_instant",
]

NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,127}$"
"""Names of schedules, namespaces and workflows: URL- and file-name-safe, 1-128 chars."""

NAME_RULE = (
    "must start with a lower-case letter or digit and contain only a-z, 0-9, '-', '_' "
    "and '.' (at most 128 characters)"
)


class DocumentModel(BaseModel):
    """Base of every document model: typos are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldProblem(InvalidSpec):
    """Raised by a check that spans fields: ``field`` is relative to the model that raises it.

    Pydantic reports errors from model-level checks at the model's own location, so the
    field that is wrong travels in the exception and ``tickwork.spec.errors`` appends it.
    """


def _field(info: _Info) -> str:
    return info.field_name or "value"


def _to_duration(value: object, info: _Info) -> object:
    if isinstance(value, timedelta):
        if value < timedelta(0):
            raise InvalidSpec(_field(info), str(value), "is negative; a duration is zero or more")
        return value
    if isinstance(value, str):
        return parse_duration(value, field=_field(info))
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise InvalidSpec(
            _field(info), repr(value), "has no unit; write a duration like 30s, 15m or 1h"
        )
    raise InvalidSpec(_field(info), "", "must be a duration string like 30s, 15m or 1h")


def _require_positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise InvalidSpec("", repr(format_duration(value)), "must be longer than 0s")
    return value


def _require_a_second(value: timedelta) -> timedelta:
    if value < timedelta(seconds=1):
        raise InvalidSpec("", repr(format_duration(value)), "must be at least 1s")
    return value


_DURATION_SCHEMA = {
    "type": "string",
    "description": (
        "A duration: 500ms, 30s, 15m, 1h, 1d, combined largest unit first (1h30m), "
        "or ISO 8601 (PT15M, P1D)."
    ),
    "examples": ["30s", "15m", "1h30m", "PT15M"],
}

Duration = Annotated[
    timedelta,
    BeforeValidator(_to_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema(_DURATION_SCHEMA),
]
"""A non-negative duration: a string in documents, a ``timedelta`` inside."""

PositiveDuration = Annotated[Duration, AfterValidator(_require_positive)]
"""A duration longer than zero (a timeout)."""

IntervalDuration = Annotated[Duration, AfterValidator(_require_a_second)]
"""An interval between fires: one second at least (the finest a cron expression goes)."""

_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})?"
)
_INSTANT_RULE = "must be an RFC 3339 instant with an offset, e.g. 2026-12-01T09:00:00Z"


def _to_instant(value: object, info: _Info) -> object:
    field = _field(info)
    if isinstance(value, str):
        if not _RFC3339.fullmatch(value.strip()):
            raise InvalidSpec(field, repr(value), f"is not an instant; it {_INSTANT_RULE}")
        try:
            value = datetime.fromisoformat(value.strip().upper())
        except ValueError:
            raise InvalidSpec(field, repr(value), "is not a valid date and time") from None
    if not isinstance(value, datetime):
        raise InvalidSpec(field, "", _INSTANT_RULE)
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidSpec(
            field,
            repr(value.isoformat()),
            "has no UTC offset; add Z or an offset like +01:00",
        )
    if not _EARLIEST <= value <= _LATEST:
        raise InvalidSpec(field, repr(value.isoformat()), "is outside the years 1970 to 9998")
    return value


_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(9998, 12, 31, tzinfo=UTC)
"""Instants a schedule may name: the stores count from 1970 (SQLite keeps microseconds
since then), and a little room below year 9999 keeps every time zone's conversion valid."""


def format_instant(value: datetime) -> str:
    """RFC 3339 with the instant's own offset, ``Z`` for UTC."""
    text = value.isoformat()
    return text[:-6] + "Z" if value.utcoffset() == timedelta(0) else text


_INSTANT_SCHEMA = {
    "type": "string",
    "format": "date-time",
    "description": "An RFC 3339 instant with an offset, e.g. 2026-12-01T09:00:00Z.",
}

Instant = Annotated[
    datetime,
    BeforeValidator(_to_instant),
    PlainSerializer(format_instant, return_type=str),
    WithJsonSchema(_INSTANT_SCHEMA),
]
"""An aware instant; the offset written in the document is kept."""

Name = Annotated[str, Field(pattern=NAME_PATTERN)]
"""A schedule, namespace or workflow name (see :data:`NAME_PATTERN`)."""
