"""Workflows as users change them: create, read, list, update, delete.

Every method is one transaction and validates before it writes, so an error leaves the
store as it was. Decisions that are not obvious:

* **Versions.** A workflow starts at version 1 and every update adds one; with
  ``expected_version`` an update is refused (``Conflict``, constraint ``version``) when
  someone changed it since. Runs record the version they ran.
* **Shell and Python steps** run code on the Tickwork host: only an admin may create a
  workflow with one, or update a workflow while it has one (as for a schedule's action,
  the whole new document is checked, so a writer cannot edit an admin's shell step).
* **Namespaces.** A caller bound to a namespace creates workflows only there
  (``Forbidden`` elsewhere) and does not see the others (``NotFound``, as if absent;
  a list asked for another namespace is empty).
* ``name`` and ``namespace`` are a workflow's identity: schedules refer to it by them, so
  an update cannot change them.
* **Delete** is refused (``Conflict``, constraint ``schedules``) while a schedule of the
  namespace names the workflow: its runs would have nothing to run.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.engine import Connection, Engine

from tickwork.clock import Clock
from tickwork.errors import Conflict, Forbidden, InvalidDocument, NotFound
from tickwork.ids import IdGenerator
from tickwork.service.access import ADMIN_ONLY_ACTIONS, SYSTEM, Caller, Scope
from tickwork.spec.workflows import WorkflowDocument
from tickwork.store.protocols import Managed
from tickwork.store.workflows import NAME_TAKEN, SqlWorkflowStore, WorkflowRecord

__all__ = ["MAX_PAGE", "WorkflowPage", "WorkflowService", "require_steps_allowed"]

MAX_PAGE = 500


@dataclass(frozen=True, slots=True)
class WorkflowPage:
    """Workflows in (namespace, name) order; ``more``: another page follows the last."""

    items: list[WorkflowRecord]
    more: bool


def require_steps_allowed(caller: Caller, document: WorkflowDocument) -> None:
    """``Forbidden`` when a step runs code on the host and ``caller`` is not an admin."""
    if caller.can(Scope.ADMIN):
        return
    for index, step in enumerate(document.steps):
        if step.action.kind in ADMIN_ONLY_ACTIONS:
            raise Forbidden(
                f"steps[{index}] ({step.name!r}) is a {step.action.kind} action, which runs "
                "code on the Tickwork host: it needs the admin scope",
                scope=Scope.ADMIN.value,
            )


class WorkflowService:
    """Create, read, change and delete workflows; every rule about doing so lives here."""

    def __init__(self, engine: Engine, clock: Clock, *, ids: IdGenerator | None = None) -> None:
        self._engine = engine
        self._clock = clock
        self._ids = ids or IdGenerator(clock)
        self._store = SqlWorkflowStore()

    # ----------------------------------------------------------------------------------
    # Reading

    def get(self, workflow_id: uuid.UUID, *, caller: Caller = SYSTEM) -> WorkflowRecord:
        with self._engine.connect() as conn:
            return _visible(self._store.get(conn, workflow_id), caller, str(workflow_id))

    def find(self, namespace: str, name: str, *, caller: Caller = SYSTEM) -> WorkflowRecord:
        key = f"{namespace}/{name}"
        if not caller.sees(namespace):
            raise NotFound("workflow", key)
        with self._engine.connect() as conn:
            return self._store.get_by_name(conn, namespace, name)

    def list_page(
        self,
        *,
        caller: Caller = SYSTEM,
        namespace: str | None = None,
        name_prefix: str | None = None,
        after: tuple[str, str] | None = None,
        limit: int = 50,
    ) -> WorkflowPage:
        """A page of the workflows the caller sees. A caller limited to a namespace sees
        only that one: asking for another finds nothing (as for schedules)."""
        if caller.namespace is not None:
            if namespace not in (None, caller.namespace):
                return WorkflowPage([], more=False)
            namespace = caller.namespace
        limit = max(1, min(limit, MAX_PAGE))
        with self._engine.connect() as conn:
            rows = self._store.list_page(
                conn, namespace=namespace, name_prefix=name_prefix, after=after, limit=limit + 1
            )
        return WorkflowPage(rows[:limit], len(rows) > limit)

    # ----------------------------------------------------------------------------------
    # Changing

    def create(self, data: object, *, caller: Caller = SYSTEM) -> WorkflowRecord:
        """Validate ``data`` (a loaded workflow document) and store it as version 1."""
        document = WorkflowDocument.from_mapping(data)
        with self._engine.begin() as conn:
            return self.create_in(conn, document, caller=caller)

    def update(
        self,
        workflow_id: uuid.UUID,
        data: object,
        *,
        caller: Caller = SYSTEM,
        expected_version: int | None = None,
    ) -> WorkflowRecord:
        """Replace the document (version + 1). With ``expected_version``, ``Conflict``
        (constraint ``version``) if the stored version is another."""
        document = WorkflowDocument.from_mapping(data)
        with self._engine.begin() as conn:
            return self.replace_in(
                conn, workflow_id, document, caller=caller, expected_version=expected_version
            )

    def delete(self, workflow_id: uuid.UUID, *, caller: Caller = SYSTEM) -> None:
        """Delete the workflow; ``Conflict`` while a schedule of its namespace starts it."""
        with self._engine.begin() as conn:
            self.delete_in(conn, workflow_id, caller=caller)

    # ----------------------------------------------------------------------------------
    # The same, inside the caller's transaction (``tickwork apply`` changes many at once)

    def create_in(
        self,
        conn: Connection,
        document: WorkflowDocument,
        *,
        caller: Caller = SYSTEM,
        managed: Managed | None = None,
    ) -> WorkflowRecord:
        if not caller.sees(document.namespace):
            raise Forbidden(
                f"a token of namespace {caller.namespace!r} cannot create workflows in "
                f"namespace {document.namespace!r}"
            )
        require_steps_allowed(caller, document)
        try:
            return self._store.insert(
                conn,
                workflow_id=self._ids.new(),
                namespace=document.namespace,
                name=document.name,
                document=document.model_dump(mode="json"),
                now=self._clock.now(),
                managed=managed,
            )
        except Conflict as exc:
            if exc.constraint != NAME_TAKEN:
                raise
            raise Conflict(
                f"a workflow named {document.name!r} already exists in namespace "
                f"{document.namespace!r}",
                constraint=NAME_TAKEN,
            ) from None

    def replace_in(
        self,
        conn: Connection,
        workflow_id: uuid.UUID,
        document: WorkflowDocument,
        *,
        caller: Caller = SYSTEM,
        expected_version: int | None = None,
        managed: Managed | None = None,
    ) -> WorkflowRecord:
        """With ``managed``, the workflow is (now) owned by that set and file."""
        old = _visible(self._store.get(conn, workflow_id, for_update=True), caller, workflow_id)
        if expected_version is not None and old.version != expected_version:
            raise Conflict(
                f"workflow {old.namespace}/{old.name} is at version {old.version}, not "
                f"{expected_version}: it changed since you read it",
                constraint="version",
            )
        problems = [
            (key, f"cannot change (it is {getattr(old, key)!r}); create a new workflow")
            for key in ("namespace", "name")
            if getattr(document, key) != getattr(old, key)
        ]
        if problems:
            raise InvalidDocument(problems)
        require_steps_allowed(caller, document)
        return self._store.update(
            conn, old, document.model_dump(mode="json"), self._clock.now(), managed=managed
        )

    def delete_in(
        self, conn: Connection, workflow_id: uuid.UUID, *, caller: Caller = SYSTEM
    ) -> None:
        old = _visible(self._store.get(conn, workflow_id, for_update=True), caller, workflow_id)
        users = [
            name
            for name, document in self._store.schedule_documents(conn, old.namespace)
            if document.get("workflow") == old.name
        ]
        if users:
            more = f" and {len(users) - 5} more" if len(users) > 5 else ""
            shown = ", ".join(users[:5]) + more
            raise Conflict(
                f"workflow {old.namespace}/{old.name} is started by schedule(s) {shown}; "
                "change or delete them first",
                constraint="schedules",
            )
        self._store.delete(conn, workflow_id)


def _visible(record: WorkflowRecord, caller: Caller, key: object) -> WorkflowRecord:
    if not caller.sees(record.namespace):
        raise NotFound("workflow", str(key))
    return record
