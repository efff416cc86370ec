"""Portable column types: the same Python values on SQLite and PostgreSQL.

``UTCDateTime``
    Aware instants only. PostgreSQL stores ``timestamp with time zone``. SQLite stores
    **integer microseconds since the Unix epoch** (a ``BIGINT`` column): integers compare,
    sort and index exactly like the instants they encode, whatever offset the value was
    written with, and there is no text format to get subtly wrong ("Z" vs "+00:00",
    missing fractions) that would make ``ORDER BY`` or ``<`` disagree with time. The
    price is readability in the ``sqlite3`` shell: use
    ``datetime(col / 1000000, 'unixepoch')``. Naive datetimes are refused when bound;
    values come back as aware datetimes in UTC (``tzinfo is datetime.UTC``).

``JSON``
    ``JSONB`` on PostgreSQL (indexable, compact), SQLAlchemy's text-backed ``JSON`` on SQLite.

``UUID``
    Native ``uuid`` on PostgreSQL, ``CHAR(32)`` hex on SQLite; ``uuid.UUID`` in Python.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """An aware instant; see the module docstring for how each dialect stores it."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.BigInteger())
        return dialect.type_descriptor(sa.DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return sqlite_instant(value)
        _require_instant(value)
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, int):
            return _EPOCH + timedelta(microseconds=value)
        if isinstance(value, datetime):
            if value.tzinfo is None:  # only if a server hands back "timestamp" columns
                return value.replace(tzinfo=UTC)
            return value.astimezone(UTC)
        raise TypeError(f"UTCDateTime cannot read {type(value).__name__} {value!r}")


def sqlite_instant(value: datetime | None) -> int | None:
    """How ``UTCDateTime`` stores ``value`` on SQLite: integer microseconds since the epoch
    (for statements that bind raw values, like ``bulk.sqlite_executemany``)."""
    if value is None:
        return None
    _require_instant(value)
    return (value - _EPOCH) // _MICROSECOND


def _require_instant(value: datetime) -> None:
    if not isinstance(value, datetime):
        raise TypeError(f"UTCDateTime needs a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()} refused: instants must be aware")


JSON: TypeEngine[Any] = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True), "postgresql"
)
"""JSON documents: JSONB on PostgreSQL, JSON text on SQLite; Python ``None`` is SQL NULL."""

UUID = sa.Uuid
"""``sa.Uuid(as_uuid=True)``: native uuid on PostgreSQL, CHAR(32) hex on SQLite."""
