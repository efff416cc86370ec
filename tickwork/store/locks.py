"""Named locks held until the transaction ends, for work that must not interleave."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tickwork.store.engine import is_postgres
from tickwork.store.errors import translated_errors

__all__ = ["lock_for_transaction"]


def lock_for_transaction(conn: Connection, name: str) -> None:
    """Wait for, then hold until commit or rollback, the lock called ``name``.

    PostgreSQL: a transaction-level advisory lock on a hash of the name. SQLite needs
    none: its writers are serialised by the database lock that ``BEGIN IMMEDIATE`` takes.
    """
    if not is_postgres(conn):
        return
    with translated_errors():
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtextextended(name, 0))))
