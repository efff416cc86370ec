"""Applying declared files: the difference between them and the store, made at once.

``apply`` takes every document of a *set* (the files of one directory, named after it
unless told otherwise) and makes the store match: it creates what is new, updates what
differs, leaves the rest alone and, with ``prune``, deletes what the set manages but no
longer declares. Decisions that are not obvious:

* **All or nothing.** Every document is validated first (each problem names its file,
  line and field); then every change is made in one transaction, which a problem found
  on the way (a name owned by someone else, a workflow nobody declares) rolls back whole.
  ``dry_run`` does the same work and rolls it back, so it reports exactly what a real
  apply would do. Applies of one set are serialised (an advisory lock on PostgreSQL).
* **Ownership.** What an apply creates is marked managed by its set and file. A set
  never touches what another set manages (an error), nor what was made by hand unless
  ``adopt`` says to take it over. ``prune`` deletes only the set's own rows.
* **Overrides.** Changes made through the API or the dashboard to a managed row (a
  pause, say) stay until the next apply, which restores the file's state and reports
  each field it reverts. Applying the same files twice changes nothing the second time.
* **Order.** Workflows are written before the schedules that start them, and pruned
  after them; deleting a workflow that a remaining schedule starts is refused.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection, Engine

from tickwork.errors import (
    Forbidden,
    InvalidDocument,
    InvalidManifests,
    InvalidSpec,
    SourceProblem,
)
from tickwork.manifests.documents import Declared, check_set_name
from tickwork.service.access import SYSTEM, Caller, require_action_allowed
from tickwork.service.managed import FieldChange, field_changes, overrides
from tickwork.service.schedules import ScheduleService
from tickwork.service.workflows import WorkflowService, require_steps_allowed
from tickwork.spec.documents import ScheduleDocument
from tickwork.spec.workflows import WorkflowDocument
from tickwork.store.locks import lock_for_transaction
from tickwork.store.protocols import Managed, ScheduleRecord
from tickwork.store.schedules import SqlScheduleStore
from tickwork.store.workflows import SqlWorkflowStore, WorkflowRecord

__all__ = ["ACTIONS", "ApplyResult", "ApplyService", "Change"]

ACTIONS = ("create", "update", "delete", "unchanged", "orphaned")
"""What an apply does to each row: ``orphaned`` rows are managed by the set but no longer
declared, and stay because ``prune`` was not asked for."""

MAX_DOCUMENTS = 10_000


@dataclass(frozen=True, slots=True)
class Change:
    """What the apply did (or, dry, would do) to one schedule or workflow."""

    kind: str  # Schedule | Workflow
    namespace: str
    name: str
    action: str  # one of ACTIONS
    file: str | None  # where it is declared (None: no longer declared)
    line: int | None = None
    fields: dict[str, FieldChange] = field(default_factory=dict)
    """Updates: every top-level field that changes, stored value -> declared value."""
    reverted: dict[str, FieldChange] = field(default_factory=dict)
    """Overrides this apply undoes: value set through the API -> the file's value."""
    adopted: bool = False
    """A row made by hand that this set now manages."""
    previous_file: str | None = None
    """The file that declared it before, when it moved to another file of the set."""


@dataclass(frozen=True, slots=True)
class ApplyResult:
    set_name: str
    dry_run: bool
    changes: list[Change]

    def counts(self) -> dict[str, int]:
        """How many rows each action touched (every action present, zeros included)."""
        counted = Counter(change.action for change in self.changes)
        return {action: counted.get(action, 0) for action in ACTIONS}


@dataclass(frozen=True, slots=True)
class _Checked:
    """A declared document that validated, as its model and as stored."""

    declared: Declared
    model: ScheduleDocument | WorkflowDocument
    stored: dict[str, Any]

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.declared.kind, self.model.namespace, self.model.name)

    def managed(self, set_name: str) -> Managed:
        return Managed(set_name, self.declared.file, self.stored)

    def problem(self, field: str, message: str) -> SourceProblem:
        return SourceProblem(self.declared.file, self.declared.line_of(field), field, message)


class ApplyService:
    """Make the store match a set of declared documents; every rule of ``apply`` is here."""

    def __init__(
        self, engine: Engine, schedules: ScheduleService, workflows: WorkflowService
    ) -> None:
        self._engine = engine
        self._schedules = schedules
        self._workflows = workflows

    def apply(
        self,
        set_name: str,
        declared: Sequence[Declared],
        *,
        prune: bool = False,
        dry_run: bool = False,
        adopt: bool = False,
        caller: Caller = SYSTEM,
    ) -> ApplyResult:
        """Apply ``declared`` as the whole of set ``set_name``; see the module docstring."""
        check_set_name(set_name)
        if len(declared) > MAX_DOCUMENTS:
            raise InvalidSpec(
                "documents", str(len(declared)), f"are more than {MAX_DOCUMENTS} in one set"
            )
        checked = _validate(declared, caller)
        with self._engine.connect() as conn:
            transaction = conn.begin()
            try:
                lock_for_transaction(conn, f"tickwork-apply:{set_name}")
                run = _Run(self._schedules, self._workflows, conn, set_name, caller, adopt=adopt)
                changes = run.reconcile(checked, prune=prune)
            except BaseException:
                transaction.rollback()
                raise
            if dry_run:
                transaction.rollback()
            else:
                transaction.commit()
        if not dry_run and any(
            c.kind == "Schedule" and c.action in ("create", "update", "delete") for c in changes
        ):
            self._schedules.changed()
        return ApplyResult(set_name, dry_run, changes)


class _Run:
    """One apply inside its transaction: compares, writes, collects problems."""

    def __init__(
        self,
        schedules: ScheduleService,
        workflows: WorkflowService,
        conn: Connection,
        set_name: str,
        caller: Caller,
        *,
        adopt: bool,
    ) -> None:
        self.schedules = schedules
        self.workflows = workflows
        self.schedule_rows = SqlScheduleStore()
        self.workflow_rows = SqlWorkflowStore()
        self.conn = conn
        self.set_name = set_name
        self.caller = caller
        self.adopt = adopt
        self.problems: list[SourceProblem] = []
        self.existing: dict[tuple[str, str, str], ScheduleRecord | WorkflowRecord] = {}

    def reconcile(self, checked: list[_Checked], *, prune: bool) -> list[Change]:
        workflows = [c for c in checked if c.declared.kind == "Workflow"]
        schedules = [c for c in checked if c.declared.kind == "Schedule"]
        declared_keys = {c.key for c in checked}
        started = {
            ("Workflow", c.model.namespace, c.model.workflow)
            for c in schedules
            if isinstance(c.model, ScheduleDocument) and c.model.workflow is not None
        }
        self._read_existing(declared_keys | started)
        changes: list[Change] = []
        for item in workflows:
            changes.extend(self._declare(item))
        for item in schedules:
            self._check_workflow_exists(item, declared_keys)
        for item in schedules:
            changes.extend(self._declare(item))
        if self.problems:
            raise InvalidManifests(self.problems)
        changes.extend(self._leftovers(declared_keys, prune=prune))
        return changes

    # ----------------------------------------------------------------------------------

    def _declare(self, item: _Checked) -> list[Change]:
        """Create, update or leave alone the row ``item`` declares; [] on a problem."""
        model = item.model
        managed = item.managed(self.set_name)
        existing = self.existing.get(item.key)
        try:
            if existing is None:
                if isinstance(model, ScheduleDocument):
                    self.schedules.create_in(self.conn, model, caller=self.caller, managed=managed)
                else:
                    self.workflows.create_in(self.conn, model, caller=self.caller, managed=managed)
                return [self._change(item, "create")]
            if not self._may_manage(item, existing.managed_by, existing.managed_file):
                return []
            if _same(existing, item, self.set_name):
                return [self._change(item, "unchanged")]
            if isinstance(model, ScheduleDocument):
                self.schedules.replace_in(
                    self.conn, existing.id, model, caller=self.caller, managed=managed
                )
            else:
                self.workflows.replace_in(
                    self.conn, existing.id, model, caller=self.caller, managed=managed
                )
        except InvalidDocument as exc:
            self.problems.extend(item.problem(p.field, p.message) for p in exc.problems)
            return []
        except InvalidSpec as exc:  # e.g. an `at` already past: it would never fire
            self.problems.append(item.problem(exc.field, exc.reason))
            return []
        return [self._updated(item, existing)]

    def _read_existing(self, keys: set[tuple[str, str, str]]) -> None:
        """What the store holds under the declared names (and the workflows the declared
        schedules start): a few queries for the lot."""
        wanted: dict[tuple[str, str], list[str]] = {}
        for kind, namespace, name in sorted(keys):
            wanted.setdefault((kind, namespace), []).append(name)
        for (kind, namespace), names in wanted.items():
            rows = self.schedule_rows if kind == "Schedule" else self.workflow_rows
            for name, record in rows.named(self.conn, namespace, names).items():
                self.existing[(kind, namespace, name)] = record

    def _may_manage(self, item: _Checked, managed_by: str | None, managed_file: str | None) -> bool:
        """Whether this set may write the existing row; if not, a problem says why."""
        what = f"{item.declared.kind.lower()} {item.model.namespace}/{item.model.name}"
        if managed_by == self.set_name:
            return True
        if managed_by is not None:
            self.problems.append(
                item.problem(
                    "name",
                    f"{what} is managed by set {managed_by!r} ({managed_file}); remove it "
                    "there first, or apply it with that set",
                )
            )
            return False
        if not self.adopt:
            self.problems.append(
                item.problem(
                    "name",
                    f"{what} already exists and was not made from files; adopt it "
                    "(--adopt) to manage it from this file",
                )
            )
            return False
        return True

    def _check_workflow_exists(self, item: _Checked, declared: set[tuple[str, str, str]]) -> None:
        model = item.model
        assert isinstance(model, ScheduleDocument)
        if model.workflow is None:
            return
        key = ("Workflow", model.namespace, model.workflow)
        if key not in declared and key not in self.existing:
            self.problems.append(
                item.problem(
                    "workflow",
                    f"names workflow {model.workflow!r}, which namespace "
                    f"{model.namespace!r} does not have and these files do not declare",
                )
            )

    def _leftovers(self, declared: set[tuple[str, str, str]], *, prune: bool) -> list[Change]:
        """Rows the set manages that its files no longer declare: deleted with ``prune``,
        else reported ``orphaned``. Schedules go before the workflows they start."""
        changes: list[Change] = []
        rows: list[tuple[str, ScheduleRecord | WorkflowRecord]] = [
            ("Schedule", row) for row in self.schedule_rows.managed_by(self.conn, self.set_name)
        ]
        rows += [
            ("Workflow", row) for row in self.workflow_rows.managed_by(self.conn, self.set_name)
        ]
        for kind, row in rows:
            if (kind, row.namespace, row.name) in declared or not self.caller.sees(row.namespace):
                continue
            if prune:
                if kind == "Schedule":
                    self.schedules.delete_in(self.conn, row.id, caller=self.caller)
                else:
                    self.workflows.delete_in(self.conn, row.id, caller=self.caller)
            changes.append(
                Change(
                    kind,
                    row.namespace,
                    row.name,
                    "delete" if prune else "orphaned",
                    None,
                    previous_file=row.managed_file,
                )
            )
        return changes

    def _change(self, item: _Checked, action: str) -> Change:
        return Change(
            item.declared.kind,
            item.model.namespace,
            item.model.name,
            action,
            item.declared.file,
            item.declared.line,
        )

    def _updated(self, item: _Checked, existing: ScheduleRecord | WorkflowRecord) -> Change:
        current = dict(existing.document)
        reverted = {
            key: FieldChange(change.after, item.stored.get(key))
            for key, change in overrides(current, existing.managed_document).items()
            if current.get(key) != item.stored.get(key)
        }
        moved = existing.managed_by == self.set_name and existing.managed_file != item.declared.file
        return Change(
            item.declared.kind,
            item.model.namespace,
            item.model.name,
            "update",
            item.declared.file,
            item.declared.line,
            fields=field_changes(current, item.stored),
            reverted=reverted,
            adopted=existing.managed_by is None,
            previous_file=existing.managed_file if moved else None,
        )


def _same(existing: ScheduleRecord | WorkflowRecord, item: _Checked, set_name: str) -> bool:
    """Nothing to write: the row is what the file declares, owned by this set and file."""
    return (
        dict(existing.document) == item.stored
        and existing.managed_document is not None
        and dict(existing.managed_document) == item.stored
        and existing.managed_by == set_name
        and existing.managed_file == item.declared.file
    )


def _validate(declared: Sequence[Declared], caller: Caller) -> list[_Checked]:
    """Every document checked before anything is written: all problems at once."""
    problems: list[SourceProblem] = []
    checked: list[_Checked] = []
    seen: dict[tuple[str, str, str], Declared] = {}
    for item in declared:
        model: ScheduleDocument | WorkflowDocument
        try:
            if item.kind == "Schedule":
                model = ScheduleDocument.from_mapping(item.document)
            elif item.kind == "Workflow":
                model = WorkflowDocument.from_mapping(item.document)
            else:
                problems.append(
                    SourceProblem(
                        item.file,
                        item.line,
                        "kind",
                        f"is {item.kind!r}; give kind: Schedule or Workflow",
                    )
                )
                continue
        except InvalidDocument as exc:
            problems.extend(
                SourceProblem(item.file, item.line_of(p.field), p.field, p.message)
                for p in exc.problems
            )
            continue
        except InvalidSpec as exc:
            problems.append(
                SourceProblem(item.file, item.line_of(exc.field), exc.field, exc.reason)
            )
            continue
        one = _Checked(item, model, model.model_dump(mode="json"))
        earlier = seen.get(one.key)
        if earlier is not None:
            problems.append(
                one.problem(
                    "name",
                    f"{item.kind.lower()} {model.namespace}/{model.name} is declared twice "
                    f"(also in {earlier.file}:{earlier.line})",
                )
            )
            continue
        seen[one.key] = item
        if not caller.sees(model.namespace):
            problems.append(
                one.problem(
                    "namespace",
                    f"is {model.namespace!r}, but this token only sees namespace "
                    f"{caller.namespace!r}",
                )
            )
            continue
        try:
            if isinstance(model, ScheduleDocument):
                require_action_allowed(caller, one.stored)
            else:
                require_steps_allowed(caller, model)
        except Forbidden as exc:
            raise Forbidden(f"{item.file}:{item.line}: {exc}", scope=exc.scope) from None
        checked.append(one)
    if problems:
        raise InvalidManifests(problems)
    return checked
