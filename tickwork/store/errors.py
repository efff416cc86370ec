"""Driver errors → Tickwork errors, in one place (``raise … from exc`` keeps the cause).

* cannot connect, connection lost, SQLite locked, a PostgreSQL deadlock or serialization
  failure → ``StoreUnavailable`` (retrying may cure it);
* integrity violations (unique, foreign key, check, not null) → ``Conflict`` whose
  ``constraint`` is the constraint's name: PostgreSQL reports it; for SQLite, which reports
  only ``table.column`` lists, the name is looked up in ``tables.metadata``;
* anything else (a bug in our SQL) is left as it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from tickwork.errors import Conflict, StoreUnavailable, TickworkError
from tickwork.store.engine import display_url
from tickwork.store.tables import metadata


class SchemaOutdated(TickworkError):
    """The database is not at the schema this Tickwork needs: run ``tickwork db upgrade``."""


_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (?P<columns>[\w.]+(?:, [\w.]+)*)")
_SQLITE_CHECK = re.compile(r"CHECK constraint failed: (?P<name>\w+)")
_SQLITE_BUSY = ("database is locked", "database table is locked")
_RETRYABLE_SQLSTATES = ("40001", "40P01")
"""PostgreSQL's serialization failure and deadlock: the transaction was rolled back, and
running it again is the documented cure."""


def translate(exc: sa_exc.DBAPIError, *, url: str | None = None) -> TickworkError | None:
    """The TickworkError for a driver error, or None when it is not one we translate."""
    where = f" at {display_url(url)}" if url else ""
    detail = _first_line(exc.orig)
    if isinstance(exc, sa_exc.IntegrityError):
        constraint = _constraint_name(exc)
        named = f" ({constraint})" if constraint else ""
        return Conflict(f"refused by the store{named}: {detail}", constraint=constraint)
    if getattr(exc.orig, "sqlstate", None) in _RETRYABLE_SQLSTATES:
        return StoreUnavailable(f"the store{where} refused a conflicting write ({detail}); retry")
    if isinstance(exc, sa_exc.OperationalError):
        if any(marker in detail for marker in _SQLITE_BUSY):
            return StoreUnavailable(f"the store{where} is busy ({detail}); try again")
        if exc.statement is None or exc.connection_invalidated:
            return StoreUnavailable(f"cannot reach the store{where}: {detail}")
    if isinstance(exc, sa_exc.InterfaceError) and exc.connection_invalidated:
        return StoreUnavailable(f"lost the connection to the store{where}: {detail}")
    return None


@contextmanager
def translated_errors(*, url: str | None = None) -> Iterator[None]:
    """Run a block, re-raising driver errors as Tickwork errors where ``translate`` knows them."""
    try:
        yield
    except sa_exc.DBAPIError as exc:
        error = translate(exc, url=url)
        if error is None:
            raise
        raise error from exc


def _first_line(orig: BaseException | None) -> str:
    text = str(orig).strip() if orig is not None else ""
    return text.splitlines()[0] if text else "unknown error"


def _constraint_name(exc: sa_exc.IntegrityError) -> str | None:
    diag = getattr(exc.orig, "diag", None)  # psycopg
    name = getattr(diag, "constraint_name", None)
    if isinstance(name, str):
        return name
    message = str(exc.orig)
    if match := _SQLITE_CHECK.search(message):
        return match.group("name")
    if match := _SQLITE_UNIQUE.search(message):
        return _sqlite_unique_name(match.group("columns").split(", "))
    return None


def _sqlite_unique_name(qualified_columns: list[str]) -> str | None:
    """The unique constraint or index of ``tables.metadata`` on exactly these columns."""
    table_name = qualified_columns[0].partition(".")[0]
    columns = [qualified.partition(".")[2] for qualified in qualified_columns]
    table = metadata.tables.get(table_name)
    if table is None:
        return None
    candidates: list[sa.Index | sa.UniqueConstraint | sa.PrimaryKeyConstraint] = [
        table.primary_key,
        *(c for c in table.constraints if isinstance(c, sa.UniqueConstraint)),
        *(i for i in table.indexes if i.unique),
    ]
    for candidate in candidates:
        if [column.name for column in candidate.columns] == columns:
            return str(candidate.name) if candidate.name else None
    return None
