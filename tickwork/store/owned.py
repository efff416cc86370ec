"""Rows of the tables declared files manage (``schedules``, ``workflows``), found the way
``apply`` looks for them: by names within a namespace, and by the set that manages them.
Both tables have ``namespace``, ``name`` and ``managed_by``; the caller turns the rows it
gets into its own records."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from tickwork.store.errors import translated_errors

__all__ = ["rows_managed_by", "rows_named"]

NAMES_PER_QUERY = 500
"""Names bound in one ``IN`` list (SQLite allows a few thousand parameters a statement)."""


def rows_named(
    conn: Connection, table: sa.Table, namespace: str, names: Sequence[str]
) -> list[RowMapping]:
    """The rows of ``namespace`` among ``names`` (absent names have none)."""
    found: list[RowMapping] = []
    for start in range(0, len(names), NAMES_PER_QUERY):
        chunk = names[start : start + NAMES_PER_QUERY]
        query = sa.select(table).where(table.c.namespace == namespace, table.c.name.in_(chunk))
        with translated_errors():
            found.extend(conn.execute(query).mappings().all())
    return found


def rows_managed_by(conn: Connection, table: sa.Table, set_name: str) -> list[RowMapping]:
    """Every row the YAML set ``set_name`` manages, by namespace then name."""
    query = (
        sa.select(table)
        .where(table.c.managed_by == set_name)
        .order_by(table.c.namespace, table.c.name)
    )
    with translated_errors():
        return list(conn.execute(query).mappings().all())
