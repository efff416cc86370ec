"""Bulk writes: PostgreSQL through ``unnest`` (a thousand rows in one statement), SQLite
through one prepared statement fed raw values.

``executemany`` sends one ``INSERT`` per row (pipelined, but each is still planned and
executed on its own). Passing one array per column and reading them back with
``unnest(...)`` makes the whole batch a single statement: the scheduler's batches of
thousands of rows are written several times faster. SQLite has no arrays and no need (its
``executemany`` is one prepared statement in process), so these are PostgreSQL only.

Each column is cast to its declared type in the SQL, so psycopg only has to send
arrays of plain values (JSON travels as text and is cast to ``jsonb``).

On SQLite, SQLAlchemy's ``executemany`` runs every value of every row through its type's
bind processor in Python, which costs more than the write itself for a batch of finished
runs. :func:`sqlite_executemany` converts each value the way the column type stores it
(``uuid`` as 32 hex digits, ``timestamptz`` as epoch microseconds, ``jsonb`` as JSON text)
and hands the rows to the driver's ``executemany`` as they are.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Connection

from tickwork.store.types import sqlite_instant

__all__ = [
    "JSON_TEXT",
    "insert_columns",
    "insert_from_arrays",
    "sqlite_executemany",
    "update_columns",
    "update_from_arrays",
]


JSON_TEXT = "json_text"
"""The type of a column whose values are JSON already serialized (stored as ``jsonb``)."""
_JSONB = ("jsonb", JSON_TEXT)


def _arrays(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[tuple[str, str]]
) -> list[list[Any]]:
    arrays: list[list[Any]] = []
    for name, sql_type in columns:
        if sql_type == "jsonb":
            arrays.append([None if r[name] is None else json.dumps(r[name]) for r in rows])
        else:
            arrays.append([r[name] for r in rows])
    return arrays


def _unnest(columns: Sequence[tuple[str, str]]) -> str:
    casts = ", ".join(
        "%b::text[]" if sql_type in _JSONB else f"%b::{sql_type}[]" for _, sql_type in columns
    )
    names = ", ".join(name for name, _ in columns)
    return f"unnest({casts}) AS v({names})"


def insert_from_arrays(
    conn: Connection,
    table: str,
    columns: Sequence[tuple[str, str]],
    rows: Sequence[Mapping[str, Any]],
    *,
    on_conflict: str = "",
) -> int:
    """``INSERT INTO table (columns) SELECT … FROM unnest(arrays) [on_conflict]``; returns
    the rows inserted. ``columns`` are (name, PostgreSQL type) pairs."""
    return insert_columns(conn, table, columns, _arrays(rows, columns), on_conflict=on_conflict)


def insert_columns(
    conn: Connection,
    table: str,
    columns: Sequence[tuple[str, str]],
    arrays: Sequence[Sequence[Any]],
    *,
    on_conflict: str = "",
) -> int:
    """:func:`insert_from_arrays` for values already laid out one list per column, in the
    order of ``columns`` (JSON as text): what a caller with thousands of rows builds
    without a dict per row."""
    select = ", ".join(
        f"v.{name}::jsonb" if sql_type in _JSONB else f"v.{name}" for name, sql_type in columns
    )
    names = ", ".join(name for name, _ in columns)
    statement = (
        f"INSERT INTO {table} ({names}) SELECT {select} FROM {_unnest(columns)} {on_conflict}"
    )
    result = conn.exec_driver_sql(statement, tuple(arrays))
    return result.rowcount


def update_from_arrays(
    conn: Connection,
    table: str,
    key: tuple[str, str],
    columns: Sequence[tuple[str, str]],
    rows: Sequence[Mapping[str, Any]],
    *,
    where: str = "",
    where_params: Sequence[Any] = (),
    also: str = "",
) -> int:
    """``UPDATE table SET column = v.column … FROM unnest(arrays) WHERE table.key = v.key``,
    ``AND where`` (its ``%s`` bound to ``where_params``), setting ``also`` too; returns the
    rows updated."""
    every = [key, *columns]
    return update_columns(
        conn,
        table,
        key,
        columns,
        _arrays(rows, every),
        where=where,
        where_params=where_params,
        also=also,
    )


def update_columns(
    conn: Connection,
    table: str,
    key: tuple[str, str],
    columns: Sequence[tuple[str, str]],
    arrays: Sequence[Sequence[Any]],
    *,
    where: str = "",
    where_params: Sequence[Any] = (),
    also: str = "",
) -> int:
    """:func:`update_from_arrays` for values already laid out one list per column: the
    key's first, then those of ``columns`` in order (JSON as text)."""
    every = [key, *columns]
    assignments = ", ".join(
        f"{name} = v.{name}::jsonb" if sql_type in _JSONB else f"{name} = v.{name}"
        for name, sql_type in columns
    )
    if also:
        assignments += f", {also}"
    condition = f"{table}.{key[0]} = v.{key[0]}" + (f" AND {where}" if where else "")
    statement = f"UPDATE {table} SET {assignments} FROM {_unnest(every)} WHERE {condition}"
    result = conn.exec_driver_sql(statement, (*arrays, *where_params))
    return result.rowcount


def sqlite_executemany(
    conn: Connection,
    statement: str,
    columns: Sequence[tuple[str, str]],
    rows: Sequence[Mapping[str, Any]],
) -> None:
    """Run ``statement`` (``?`` placeholders, in the order of ``columns``) once per row on
    SQLite, each value stored as its column type stores it: ``columns`` are (name, type)
    pairs with the PostgreSQL type names used above (uuid, timestamptz, jsonb; others,
    and :data:`JSON_TEXT`, are passed as they are)."""
    convert = [_SQLITE_CONVERTERS.get(sql_type) for _, sql_type in columns]
    names = [name for name, _ in columns]
    params = [
        tuple(
            value if to is None or value is None else to(value)
            for value, to in zip((row[name] for name in names), convert, strict=True)
        )
        for row in rows
    ]
    conn.exec_driver_sql(statement, params)


_SQLITE_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "uuid": lambda value: value.hex,
    "timestamptz": sqlite_instant,
    "jsonb": json.dumps,
}
