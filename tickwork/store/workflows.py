"""Workflows in SQL: one row per (namespace, name), its document and a version.

The caller owns the transaction, makes the ids and passes ``now`` (as everywhere in the
store). ``update`` is a compare-and-set on ``version``, so two writers that read the same
version cannot both win.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from tickwork.errors import Conflict, NotFound
from tickwork.store.engine import is_postgres
from tickwork.store.errors import translated_errors
from tickwork.store.owned import rows_managed_by, rows_named
from tickwork.store.protocols import Managed
from tickwork.store.tables import schedules, workflows

__all__ = ["NAME_TAKEN", "SqlWorkflowStore", "WorkflowRecord", "managed_values"]

NAME_TAKEN = "uq_workflows_namespace_name"
"""The constraint that refuses a second workflow of the same name in a namespace."""

_c = workflows.c


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkflowRecord:
    """A stored workflow, as read."""

    id: uuid.UUID
    namespace: str
    name: str
    version: int
    document: Mapping[str, Any]
    managed_by: str | None  # the YAML set that owns it
    managed_file: str | None
    created_at: datetime
    updated_at: datetime
    managed_document: Mapping[str, Any] | None = None  # the document as its file declares it


def managed_values(managed: Managed | None) -> dict[str, Any]:
    """The ``managed_*`` columns of a row owned by ``managed`` (all NULL: made by hand)."""
    if managed is None:
        return {"managed_by": None, "managed_file": None, "managed_document": None}
    return {
        "managed_by": managed.set_name,
        "managed_file": managed.file,
        "managed_document": dict(managed.document),
    }


def _record(row: RowMapping) -> WorkflowRecord:
    return WorkflowRecord(**dict(row))


class SqlWorkflowStore:
    """Workflows on SQLite and PostgreSQL. Stateless: one instance serves every connection."""

    def insert(
        self,
        conn: Connection,
        *,
        workflow_id: uuid.UUID,
        namespace: str,
        name: str,
        document: Mapping[str, Any],
        now: datetime,
        managed: Managed | None = None,
    ) -> WorkflowRecord:
        """Version 1 of a new workflow; ``Conflict`` (``NAME_TAKEN``) if the name is taken."""
        values = {
            "id": workflow_id,
            "namespace": namespace,
            "name": name,
            "version": 1,
            "document": dict(document),
            **managed_values(managed),
            "created_at": now,
            "updated_at": now,
        }
        with translated_errors():
            row = conn.execute(sa.insert(workflows).values(values).returning(workflows)).one()
        return _record(row._mapping)

    def get(
        self, conn: Connection, workflow_id: uuid.UUID, *, for_update: bool = False
    ) -> WorkflowRecord:
        query = sa.select(workflows).where(_c.id == workflow_id)
        if for_update and is_postgres(conn):
            query = query.with_for_update()
        with translated_errors():
            row = conn.execute(query).mappings().one_or_none()
        if row is None:
            raise NotFound("workflow", str(workflow_id))
        return _record(row)

    def get_by_name(self, conn: Connection, namespace: str, name: str) -> WorkflowRecord:
        query = sa.select(workflows).where(_c.namespace == namespace, _c.name == name)
        with translated_errors():
            row = conn.execute(query).mappings().one_or_none()
        if row is None:
            raise NotFound("workflow", f"{namespace}/{name}")
        return _record(row)

    def list_page(
        self,
        conn: Connection,
        *,
        namespace: str | None = None,
        name_prefix: str | None = None,
        after: tuple[str, str] | None = None,
        limit: int = 50,
    ) -> list[WorkflowRecord]:
        """Up to ``limit`` workflows ordered by (namespace, name), after ``after``."""
        query = sa.select(workflows).order_by(_c.namespace, _c.name).limit(limit)
        if namespace is not None:
            query = query.where(_c.namespace == namespace)
        if name_prefix:
            query = query.where(_c.name.startswith(name_prefix, autoescape=True))
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
        return [_record(row) for row in rows]

    def update(
        self,
        conn: Connection,
        workflow: WorkflowRecord,
        document: Mapping[str, Any],
        now: datetime,
        *,
        managed: Managed | None = None,
    ) -> WorkflowRecord:
        """Store ``document`` as version ``workflow.version + 1``; ``Conflict`` (constraint
        ``version``) if the stored version is no longer ``workflow.version``. With
        ``managed``, the workflow is (now) owned by that set and file; without, ownership
        stays as it was."""
        values: dict[str, Any] = {
            "document": dict(document),
            "version": workflow.version + 1,
            "updated_at": now,
        }
        if managed is not None:
            values.update(managed_values(managed))
        statement = (
            sa.update(workflows)
            .where(_c.id == workflow.id, _c.version == workflow.version)
            .values(values)
            .returning(workflows)
        )
        with translated_errors():
            row = conn.execute(statement).one_or_none()
        if row is None:
            stored = self.get(conn, workflow.id)  # NotFound when it was deleted
            raise Conflict(
                f"workflow {workflow.namespace}/{workflow.name} changed since it was read "
                f"(version {workflow.version}, now {stored.version})",
                constraint="version",
            )
        return _record(row._mapping)

    def named(
        self, conn: Connection, namespace: str, names: Sequence[str]
    ) -> dict[str, WorkflowRecord]:
        """The workflows of ``namespace`` among ``names``, by name (absent ones left out)."""
        return {row["name"]: _record(row) for row in rows_named(conn, workflows, namespace, names)}

    def managed_by(self, conn: Connection, set_name: str) -> list[WorkflowRecord]:
        """Every workflow the YAML set ``set_name`` manages, by namespace then name."""
        return [_record(row) for row in rows_managed_by(conn, workflows, set_name)]

    def delete(self, conn: Connection, workflow_id: uuid.UUID) -> None:
        with translated_errors():
            result = conn.execute(sa.delete(workflows).where(_c.id == workflow_id))
        if result.rowcount == 0:
            raise NotFound("workflow", str(workflow_id))

    def schedule_documents(
        self, conn: Connection, namespace: str
    ) -> list[tuple[str, Mapping[str, Any]]]:
        """(name, document) of every schedule in ``namespace``, by name: which of them
        start a workflow is read from the documents, the same way on every store."""
        query = (
            sa.select(schedules.c.name, schedules.c.document)
            .where(schedules.c.namespace == namespace)
            .order_by(schedules.c.name)
        )
        with translated_errors():
            return [(name, document) for name, document in conn.execute(query)]
