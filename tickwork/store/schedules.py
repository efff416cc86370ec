"""Schedules in SQL: :class:`SqlScheduleStore`, the ``ScheduleStore`` of ``store.protocols``.

Portable SQLAlchemy Core; the contract (and what each error means) is in the Protocol.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from tickwork.errors import Conflict, NotFound
from tickwork.schedule.policies import ScheduleState
from tickwork.store.engine import is_postgres
from tickwork.store.errors import translated_errors
from tickwork.store.executions import execution_from_row, newest_run_id
from tickwork.store.owned import rows_managed_by, rows_named
from tickwork.store.protocols import DueSchedule, ExecutionRecord, NewSchedule, ScheduleRecord
from tickwork.store.tables import executions, schedules

__all__ = ["SqlScheduleStore", "schedule_from_row"]

_c = schedules.c
_BRIEF = (
    _c.id,
    _c.namespace,
    _c.name,
    _c.state,
    _c.next_fire_at,
    _c.last_fired_at,
    _c.runs_count,
    _c.revision,
    _c.created_at,
)
"""The columns of a :class:`DueSchedule`, in its field order."""

_CHANGEABLE = (
    "document",
    "trigger_kind",
    "timezone",
    "state",
    "pause_note",
    "next_fire_at",
    "last_fired_at",
    "runs_count",
    "consecutive_failures",
    "managed_by",
    "managed_file",
    "managed_document",
)


def schedule_from_row(row: Mapping[Any, Any]) -> ScheduleRecord:
    """A ``schedules`` row as a :class:`ScheduleRecord`."""
    values = dict(row)
    values["state"] = ScheduleState(values["state"])
    return ScheduleRecord(**values)


_BY_ID = sa.select(schedules).where(_c.id == sa.bindparam("schedule_id", type_=_c.id.type))
_BY_ID_FOR_UPDATE = _BY_ID.with_for_update()
"""One schedule by id (built once: building costs more than the lookup)."""
_LAST_RUN = {column.name: f"last_run_{column.name}" for column in executions.c}
"""The newest run's columns in :data:`_WITH_LAST_RUN`, by the names they take there."""
_WITH_LAST_RUN = (
    sa.select(schedules, *(column.label(_LAST_RUN[column.name]) for column in executions.c))
    .select_from(schedules.outerjoin(executions, executions.c.id == newest_run_id()))
    .where(_c.id == sa.bindparam("schedule_id", type_=_c.id.type))
)
"""A schedule and its newest run in one statement."""


class SqlScheduleStore:
    """``ScheduleStore`` on SQLite and PostgreSQL. Stateless: one instance serves every
    connection and thread."""

    def insert(self, conn: Connection, schedule: NewSchedule) -> ScheduleRecord:
        values: dict[str, Any] = {
            "id": schedule.id,
            "namespace": schedule.namespace,
            "name": schedule.name,
            "document": dict(schedule.document),
            "trigger_kind": schedule.trigger_kind,
            "timezone": schedule.timezone,
            "state": schedule.state.value,
            "pause_note": schedule.pause_note,
            "next_fire_at": schedule.next_fire_at,
            "last_fired_at": None,
            "runs_count": 0,
            "consecutive_failures": 0,
            "revision": 1,
            "managed_by": schedule.managed_by,
            "managed_file": schedule.managed_file,
            "managed_document": _json_or_none(schedule.managed_document),
            "created_at": schedule.created_at,
            "updated_at": schedule.created_at,
        }
        with translated_errors():
            row = conn.execute(sa.insert(schedules).values(values).returning(schedules)).one()
        return schedule_from_row(row._mapping)

    def get(
        self, conn: Connection, schedule_id: uuid.UUID, *, for_update: bool = False
    ) -> ScheduleRecord:
        query = _BY_ID_FOR_UPDATE if for_update and is_postgres(conn) else _BY_ID
        with translated_errors():
            row = conn.execute(query, {"schedule_id": schedule_id}).mappings().one_or_none()
        if row is None:
            raise NotFound("schedule", str(schedule_id))
        return schedule_from_row(row)

    def get_with_last_run(
        self, conn: Connection, schedule_id: uuid.UUID
    ) -> tuple[ScheduleRecord, ExecutionRecord | None]:
        with translated_errors():
            row = conn.execute(_WITH_LAST_RUN, {"schedule_id": schedule_id}).one_or_none()
        if row is None:
            raise NotFound("schedule", str(schedule_id))
        values = row._asdict()
        run = {name: values.pop(label) for name, label in _LAST_RUN.items()}
        record = schedule_from_row(values)
        return record, None if run["id"] is None else execution_from_row(run)

    def get_by_name(
        self, conn: Connection, namespace: str, name: str, *, for_update: bool = False
    ) -> ScheduleRecord:
        where = sa.and_(_c.namespace == namespace, _c.name == name)
        return self._one(conn, where, f"{namespace}/{name}", for_update=for_update)

    def update(self, conn: Connection, schedule: ScheduleRecord, now: datetime) -> ScheduleRecord:
        values: dict[str, Any] = {name: getattr(schedule, name) for name in _CHANGEABLE}
        values["document"] = dict(schedule.document)
        values["managed_document"] = _json_or_none(schedule.managed_document)
        values["state"] = ScheduleState(schedule.state).value
        values["revision"] = schedule.revision + 1
        values["updated_at"] = now
        statement = (
            sa.update(schedules)
            .where(_c.id == schedule.id, _c.revision == schedule.revision)
            .values(values)
            .returning(schedules)
        )
        with translated_errors():
            row = conn.execute(statement).one_or_none()
        if row is None:
            stored = self.get(conn, schedule.id)  # NotFound when it was deleted
            raise Conflict(
                f"schedule {schedule.namespace}/{schedule.name} changed since it was read "
                f"(revision {schedule.revision}, now {stored.revision})",
                constraint="revision",
            )
        return schedule_from_row(row._mapping)

    def named(
        self, conn: Connection, namespace: str, names: Sequence[str]
    ) -> dict[str, ScheduleRecord]:
        """The schedules of ``namespace`` among ``names``, by name (absent ones left out)."""
        return {
            row["name"]: schedule_from_row(row)
            for row in rows_named(conn, schedules, namespace, names)
        }

    def managed_by(self, conn: Connection, set_name: str) -> list[ScheduleRecord]:
        """Every schedule the YAML set ``set_name`` manages, by namespace then name."""
        return [schedule_from_row(row) for row in rows_managed_by(conn, schedules, set_name)]

    def delete(self, conn: Connection, schedule_id: uuid.UUID) -> None:
        with translated_errors():
            result = conn.execute(sa.delete(schedules).where(_c.id == schedule_id))
        if result.rowcount == 0:
            raise NotFound("schedule", str(schedule_id))

    def list_all(self, conn: Connection, namespace: str | None = None) -> list[ScheduleRecord]:
        query = sa.select(schedules).order_by(_c.namespace, _c.name)
        if namespace is not None:
            query = query.where(_c.namespace == namespace)
        with translated_errors():
            rows = conn.execute(query).mappings().all()
        return [schedule_from_row(row) for row in rows]

    def page(
        self,
        conn: Connection,
        *,
        namespace: str | None = None,
        tag: str | None = None,
        state: ScheduleState | None = None,
        name_prefix: str | None = None,
        after: tuple[str, str] | None = None,
        limit: int = 50,
    ) -> list[ScheduleRecord]:
        """At most ``limit`` schedules matching every filter given, ordered by namespace then
        name, starting after the (namespace, name) ``after`` (keyset pagination: a page does
        not shift when schedules before it are added or deleted)."""
        query = sa.select(schedules).order_by(_c.namespace, _c.name).limit(limit)
        if namespace is not None:
            query = query.where(_c.namespace == namespace)
        if state is not None:
            query = query.where(_c.state == ScheduleState(state).value)
        if name_prefix:
            # substr, not LIKE: exact and case-sensitive on both dialects, no escaping.
            query = query.where(sa.func.substr(_c.name, 1, len(name_prefix)) == name_prefix)
        if tag is not None:
            query = query.where(_has_tag(conn, tag))
        if after is not None:
            last_namespace, last_name = after
            query = query.where(
                sa.or_(
                    _c.namespace > last_namespace,
                    sa.and_(_c.namespace == last_namespace, _c.name > last_name),
                )
            )
        with translated_errors():
            rows = conn.execute(query).mappings().all()
        return [schedule_from_row(row) for row in rows]

    def due(self, conn: Connection, now: datetime, limit: int) -> list[ScheduleRecord]:
        query = (
            sa.select(schedules)
            .where(_c.state == ScheduleState.ACTIVE.value, _c.next_fire_at <= now)
            .order_by(_c.next_fire_at, _c.id)
            .limit(limit)
        )
        with translated_errors():
            rows = conn.execute(query).mappings().all()
        return [schedule_from_row(row) for row in rows]

    def claim_due(self, conn: Connection, now: datetime, limit: int) -> list[ScheduleRecord]:
        query = (
            sa.select(schedules)
            .where(_c.state == ScheduleState.ACTIVE.value, _c.next_fire_at <= now)
            .order_by(_c.next_fire_at, _c.id)
            .limit(limit)
        )
        if is_postgres(conn):
            # Rows another scheduler holds are skipped, not waited for: it is firing them.
            query = query.with_for_update(skip_locked=True)
        with translated_errors():
            rows = conn.execute(query).mappings().all()
        return [schedule_from_row(row) for row in rows]

    def due_brief(self, conn: Connection, now: datetime, limit: int) -> list[DueSchedule]:
        return self._brief(conn, _due(now, limit))

    def claim_due_brief(self, conn: Connection, now: datetime, limit: int) -> list[DueSchedule]:
        query = _due(now, limit)
        if is_postgres(conn):
            query = query.with_for_update(skip_locked=True)
        return self._brief(conn, query)

    def _brief(self, conn: Connection, query: sa.Select[Any]) -> list[DueSchedule]:
        with translated_errors():
            rows = conn.execute(query).all()
        return [
            DueSchedule(
                id=id_,
                namespace=namespace,
                name=name,
                state=ScheduleState(state),
                next_fire_at=next_fire_at,
                last_fired_at=last_fired_at,
                runs_count=runs_count,
                revision=revision,
                created_at=created_at,
            )
            for (
                id_,
                namespace,
                name,
                state,
                next_fire_at,
                last_fired_at,
                runs_count,
                revision,
                created_at,
            ) in rows
        ]

    def documents(
        self, conn: Connection, schedule_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, tuple[int, Mapping[str, Any]]]:
        if not schedule_ids:
            return {}
        # As text, decoded here: psycopg's own jsonb decoding costs three times as much,
        # which a burst of ten thousand cold schedules feels.
        text = sa.cast(_c.document, sa.Text)
        query = sa.select(_c.id, _c.revision, text).where(_id_among(conn, schedule_ids))
        with translated_errors():
            rows = conn.execute(query).all()
        return {id_: (revision, json.loads(document)) for id_, revision, document in rows}

    def next_due_at(self, conn: Connection) -> datetime | None:
        query = sa.select(sa.func.min(_c.next_fire_at)).where(
            _c.state == ScheduleState.ACTIVE.value
        )
        with translated_errors():
            earliest: datetime | None = conn.execute(query).scalar_one()
        return earliest

    def _one(
        self, conn: Connection, where: sa.ColumnElement[bool], key: str, *, for_update: bool
    ) -> ScheduleRecord:
        query = sa.select(schedules).where(where)
        if for_update and is_postgres(conn):
            query = query.with_for_update()
        with translated_errors():
            row = conn.execute(query).mappings().one_or_none()
        if row is None:
            raise NotFound("schedule", key)
        return schedule_from_row(row)


def _json_or_none(document: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return None if document is None else dict(document)


def _due(now: datetime, limit: int) -> sa.Select[Any]:
    """The brief columns of at most ``limit`` schedules due by ``now``, soonest first."""
    return (
        sa.select(*_BRIEF)
        .where(_c.state == ScheduleState.ACTIVE.value, _c.next_fire_at <= now)
        .order_by(_c.next_fire_at, _c.id)
        .limit(limit)
    )


def _id_among(conn: Connection, schedule_ids: Sequence[uuid.UUID]) -> sa.ColumnElement[bool]:
    """``id`` is one of ``schedule_ids``: one array parameter on PostgreSQL (a thousand
    separate ones cost more to bind than the query takes), ``IN`` on SQLite."""
    if is_postgres(conn):
        return _c.id == sa.any_(sa.literal(list(schedule_ids), postgresql.ARRAY(sa.Uuid())))
    return _c.id.in_(schedule_ids)


def _has_tag(conn: Connection, tag: str) -> sa.ColumnElement[bool]:
    """The document's ``tags`` list holds ``tag``: JSONB containment on PostgreSQL,
    ``json_each`` on SQLite."""
    if is_postgres(conn):
        return sa.type_coerce(_c.document, postgresql.JSONB).contains({"tags": [tag]})
    tags = sa.func.json_each(_c.document, "$.tags").table_valued("value")
    return sa.exists().select_from(tags).where(tags.c.value == tag)
