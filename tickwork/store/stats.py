"""Aggregate reads for overviews: schedules by state, runs by status in a window."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tickwork.store.errors import translated_errors
from tickwork.store.tables import executions, schedules

__all__ = ["executions_by_status", "schedules_by_state"]


def schedules_by_state(conn: Connection, namespace: str | None) -> dict[str, int]:
    query = sa.select(schedules.c.state, sa.func.count()).group_by(schedules.c.state)
    if namespace is not None:
        query = query.where(schedules.c.namespace == namespace)
    with translated_errors():
        return {state: int(count) for state, count in conn.execute(query)}


def executions_by_status(
    conn: Connection, since: datetime, namespace: str | None
) -> dict[str, int]:
    """Runs created since ``since``, by status."""
    c = executions.c
    query = sa.select(c.status, sa.func.count()).where(c.created_at >= since).group_by(c.status)
    if namespace is not None:
        query = query.where(c.namespace == namespace)
    with translated_errors():
        return {status: int(count) for status, count in conn.execute(query)}
