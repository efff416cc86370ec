"""The store seam: what the scheduler loop, the worker and the service layer may ask of a store.

The docstrings of :class:`ScheduleStore` and :class:`ExecutionStore` are the contract; one
test suite (``tests/integration/store``) holds every implementation to it, on SQLite and on
PostgreSQL.

Conventions shared by every method:

* The first argument is a ``Connection``; **the caller owns the transaction** (``with
  engine.begin() as conn: …``). Several calls in one ``begin()`` block commit or roll back
  together; that is how the loop records fires and advances the schedule atomically.
* Instants are aware datetimes, passed in by the caller (from the injected clock); a store
  never reads a clock. Instants read back are in UTC.
* Ids are made by the caller (``tickwork.ids``), so tests can pin them.
* Missing rows raise :class:`~tickwork.errors.NotFound`; refused writes raise
  :class:`~tickwork.errors.Conflict` (``constraint`` says which key refused). After either,
  on PostgreSQL, the transaction is aborted: roll it back.
* Driver failures that retrying may cure raise :class:`~tickwork.errors.StoreUnavailable`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.engine import Connection

from tickwork.schedule.misfire import MissedRange
from tickwork.schedule.policies import ExecutionStatus, ExecutionTrigger, ScheduleState

# --------------------------------------------------------------------------------------
# Values


@dataclass(frozen=True, slots=True)
class Managed:
    """Who owns a row declared in a file: the YAML set, the file (relative to the set's
    root) and the document as that file declares it."""

    set_name: str
    file: str
    document: Mapping[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class NewSchedule:
    """A schedule to insert: what the caller decides. The store sets ``revision`` to 1,
    ``runs_count`` and ``consecutive_failures`` to 0, and ``updated_at`` to ``created_at``."""

    id: uuid.UUID
    namespace: str
    name: str
    document: Mapping[str, Any]
    trigger_kind: str  # one of tables.TRIGGER_KINDS
    timezone: str
    created_at: datetime
    state: ScheduleState = ScheduleState.ACTIVE
    next_fire_at: datetime | None = None
    pause_note: str | None = None
    managed_by: str | None = None
    managed_file: str | None = None
    managed_document: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduleRecord:
    """A stored schedule, as read. Change one with ``dataclasses.replace`` and
    :meth:`ScheduleStore.update`, which checks ``revision``."""

    id: uuid.UUID
    namespace: str
    name: str
    document: Mapping[str, Any]
    trigger_kind: str
    timezone: str
    state: ScheduleState
    pause_note: str | None
    next_fire_at: datetime | None
    last_fired_at: datetime | None  # the last nominal instant handled (fired, missed, skipped)
    runs_count: int
    consecutive_failures: int
    revision: int
    managed_by: str | None  # the YAML set that owns it
    managed_file: str | None
    created_at: datetime
    updated_at: datetime
    managed_document: Mapping[str, Any] | None = None  # the document as its file declares it


@dataclass(frozen=True, slots=True, kw_only=True)
class DueSchedule:
    """What firing reads of a due schedule besides its document: the document is only
    needed to build the schedule's rules, which the loop keeps by (id, revision)."""

    id: uuid.UUID
    namespace: str
    name: str
    state: ScheduleState
    next_fire_at: datetime | None
    last_fired_at: datetime | None
    runs_count: int
    revision: int
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class NewExecution:
    """An execution to insert: a fire of a schedule, or a manual / backfill / retry run."""

    id: uuid.UUID
    namespace: str
    trigger: ExecutionTrigger
    scheduled_for: datetime  # the nominal instant
    status: ExecutionStatus
    created_at: datetime
    schedule_id: uuid.UUID | None = None
    schedule_name: str | None = None
    workflow_name: str | None = None  # None: the schedule's inline action runs
    workflow_version: int | None = None
    reason: str | None = None  # paused | overlap | misfire | …
    max_attempts: int = 1
    priority: int = 0
    concurrency_key: str | None = None
    concurrency_limit: int | None = None
    input: Mapping[str, Any] = field(default_factory=dict)
    queued_at: datetime | None = None
    not_before: datetime | None = None
    lateness_ms: int | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionRecord:
    """A stored execution, as read."""

    id: uuid.UUID
    schedule_id: uuid.UUID | None
    schedule_name: str | None
    namespace: str
    workflow_name: str | None
    workflow_version: int | None
    trigger: ExecutionTrigger
    scheduled_for: datetime
    status: ExecutionStatus
    reason: str | None
    attempt: int
    max_attempts: int
    priority: int
    concurrency_key: str | None
    concurrency_limit: int | None
    input: Mapping[str, Any]
    queued_at: datetime | None
    not_before: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    lateness_ms: int | None
    worker_id: str | None
    lease_expires_at: datetime | None
    idempotency_key: str | None
    error: str | None
    result: Any
    created_at: datetime
    dismissed_at: datetime | None = None  # removed from the dead list (dead runs only)


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduleAdvance:
    """Where a schedule stands after its due fires were handled (see ``advance_schedules``)."""

    schedule_id: uuid.UUID
    next_fire_at: datetime | None
    last_fired_at: datetime | None
    runs_count: int
    state: ScheduleState


@dataclass(frozen=True, slots=True, kw_only=True)
class MissedRangeRecord:
    """A stored streak of nominal instants that did not run (listable with ``expand``)."""

    id: uuid.UUID
    schedule_id: uuid.UUID
    first: datetime
    last: datetime
    count: int
    reason: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ActiveCounts:
    """A schedule's unfinished executions, for overlap decisions.

    ``active``: queued or running (what ``skip`` / ``cancel_other`` look at);
    ``buffered``: held by ``buffer_one`` / ``buffer_all``.
    """

    active: int
    buffered: int


# --------------------------------------------------------------------------------------
# Protocols


class ScheduleStore(Protocol):
    """Schedules: one row per (namespace, name), changed under optimistic concurrency."""

    def insert(self, conn: Connection, schedule: NewSchedule) -> ScheduleRecord:
        """Store a new schedule and return it as stored (``revision`` 1).

        Raises ``Conflict`` (``constraint="uq_schedules_namespace_name"``) when the
        namespace already has a schedule of that name, or when the id is taken.
        """
        ...

    def get(
        self, conn: Connection, schedule_id: uuid.UUID, *, for_update: bool = False
    ) -> ScheduleRecord:
        """The schedule with this id; ``NotFound`` when there is none.

        ``for_update`` locks the row until the transaction ends (PostgreSQL; SQLite's
        ``BEGIN IMMEDIATE`` already serialises writers), so a read-modify-write cannot
        interleave with the loop advancing the same schedule.
        """
        ...

    def get_by_name(
        self, conn: Connection, namespace: str, name: str, *, for_update: bool = False
    ) -> ScheduleRecord:
        """The schedule named ``name`` in ``namespace``; ``NotFound`` when there is none."""
        ...

    def get_with_last_run(
        self, conn: Connection, schedule_id: uuid.UUID
    ) -> tuple[ScheduleRecord, ExecutionRecord | None]:
        """The schedule with this id and its newest run (by ``scheduled_for``, then id;
        ``skipped`` and ``missed`` records do not count; None without one), read in one
        statement, so it fits a connection of ``reads_only``; ``NotFound`` when there is
        no such schedule."""
        ...

    def update(self, conn: Connection, schedule: ScheduleRecord, now: datetime) -> ScheduleRecord:
        """Write every changeable field of ``schedule`` if it is still at ``schedule.revision``.

        Changeable: ``document``, ``trigger_kind``, ``timezone``, ``state``, ``pause_note``,
        ``next_fire_at``, ``last_fired_at``, ``runs_count``, ``consecutive_failures``,
        ``managed_by``, ``managed_file``, ``managed_document``. ``id``, ``namespace``,
        ``name`` and ``created_at`` are not written. Returns the stored row with
        ``revision`` + 1 and ``updated_at`` = ``now``. Raises ``NotFound`` when the
        schedule is gone, and ``Conflict`` (``constraint="revision"``) when someone else
        changed it since it was read: read it again, re-apply the change, retry.
        """
        ...

    def delete(self, conn: Connection, schedule_id: uuid.UUID) -> None:
        """Delete the schedule and its missed ranges; its executions stay, with
        ``schedule_id`` set to NULL (cancel queued runs first). ``NotFound`` when absent."""
        ...

    def list_all(self, conn: Connection, namespace: str | None = None) -> list[ScheduleRecord]:
        """Every schedule (of ``namespace``, if given), ordered by namespace then name."""
        ...

    def due(self, conn: Connection, now: datetime, limit: int) -> list[ScheduleRecord]:
        """At most ``limit`` active schedules whose ``next_fire_at`` is at or before ``now``,
        soonest first (ties by id). Paused and completed schedules, and schedules without a
        ``next_fire_at``, are never due. Claims nothing: with several schedulers, only the
        lease holder may act on the answer.
        """
        ...

    def claim_due(self, conn: Connection, now: datetime, limit: int) -> list[ScheduleRecord]:
        """Like :meth:`due`, but locks the rows returned until the transaction ends, and on
        PostgreSQL skips rows another transaction holds: two schedulers firing at once
        split the due schedules between them instead of both planning the same fires."""
        ...

    def due_brief(self, conn: Connection, now: datetime, limit: int) -> list[DueSchedule]:
        """:meth:`due` without the documents; claims nothing."""
        ...

    def claim_due_brief(self, conn: Connection, now: datetime, limit: int) -> list[DueSchedule]:
        """:meth:`claim_due` without the documents (fetch those that are needed with
        :meth:`documents`): the same rows, locked the same way."""
        ...

    def documents(
        self, conn: Connection, schedule_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, tuple[int, Mapping[str, Any]]]:
        """The (revision, document) of each schedule in ``schedule_ids`` that exists."""
        ...

    def next_due_at(self, conn: Connection) -> datetime | None:
        """The earliest ``next_fire_at`` of any active schedule, or None when none has one;
        the loop sleeps until then (or until a change)."""
        ...


class ExecutionStore(Protocol):
    """Executions, and the schedule bookkeeping the loop writes with them."""

    def record_fires(self, conn: Connection, fires: Sequence[NewExecution]) -> int:
        """Insert ``fires`` and return how many rows were actually inserted.

        Exactly-once: a fire with ``trigger`` ``schedule`` whose (``schedule_id``,
        ``scheduled_for``) is already stored means "already fired" and is skipped silently,
        never an error — whether the earlier row came from this call, an earlier one, or a
        concurrent transaction on another connection (which this call then waits for).
        Other triggers (manual, backfill, retry…) are never deduplicated by instant.
        Other refusals (a taken idempotency key, an unknown schedule) raise ``Conflict``.
        Rows go in as few statements as the driver allows.
        """
        ...

    def insert_run(self, conn: Connection, run: NewExecution) -> ExecutionRecord:
        """Insert one run and return it as stored, in one statement: for runs that are not
        fires (``manual``, ``backfill``…), which nothing deduplicates by instant (a fire
        already stored is a ``Conflict`` here). A taken idempotency key or an unknown
        schedule raise ``Conflict``."""
        ...

    def advance_schedule(
        self,
        conn: Connection,
        schedule_id: uuid.UUID,
        *,
        next_fire_at: datetime | None,
        last_fired_at: datetime | None,
        runs_count: int,
        state: ScheduleState,
        expected_revision: int | None = None,
    ) -> None:
        """Move a schedule on after its fires were handled: call it in the same transaction
        as :meth:`record_fires` so both commit or neither does.

        Sets exactly the given fields; ``revision`` and ``updated_at`` (which track edits of
        the document) are left alone. With ``expected_revision``, the schedule must still be
        at that revision, else ``Conflict`` (``constraint="revision"``): it was edited since
        the loop read it, and the fires must be planned again. ``NotFound`` when absent.
        """
        ...

    def advance_schedules(self, conn: Connection, advances: Sequence[ScheduleAdvance]) -> None:
        """Many :meth:`advance_schedule` calls in one round trip, for rows this transaction
        locked with ``claim_due`` (so no revision check is needed: nobody else can edit
        them until it commits)."""
        ...

    def record_missed_range(
        self,
        conn: Connection,
        schedule_id: uuid.UUID,
        missed: MissedRange,
        *,
        range_id: uuid.UUID,
        created_at: datetime,
    ) -> None:
        """Store a streak of fires that did not run (first, last, count, reason) as one row.
        ``Conflict`` when the schedule does not exist."""
        ...

    def list_missed_ranges(
        self, conn: Connection, schedule_id: uuid.UUID
    ) -> list[MissedRangeRecord]:
        """The schedule's stored ranges of missed/skipped instants, oldest first."""
        ...

    def cancel_active(
        self, conn: Connection, schedule_id: uuid.UUID, *, now: datetime, reason: str
    ) -> int:
        """Mark every unfinished execution of the schedule (queued, running, buffered,
        waiting, retrying) ``cancelled`` with ``reason``; return how many. A worker running
        one sees the status change when it next renews its lease, and stops."""
        ...

    def find_by_idempotency_key(
        self, conn: Connection, schedule_id: uuid.UUID, key: str
    ) -> ExecutionRecord | None:
        """The schedule's execution started with this idempotency key, if any."""
        ...

    def get(self, conn: Connection, execution_id: uuid.UUID) -> ExecutionRecord:
        """The execution with this id; ``NotFound`` when there is none."""
        ...

    def list_for_schedule(
        self,
        conn: Connection,
        schedule_id: uuid.UUID,
        *,
        statuses: Sequence[ExecutionStatus] | None = None,
        limit: int = 100,
        oldest_first: bool = False,
    ) -> list[ExecutionRecord]:
        """At most ``limit`` executions of the schedule (every trigger), newest
        ``scheduled_for`` first (ties: newest id first; the other way round with
        ``oldest_first``), only those in ``statuses`` if given. An unknown schedule has no
        executions (an empty list, not ``NotFound``)."""
        ...

    def count_active(self, conn: Connection, schedule_id: uuid.UUID) -> ActiveCounts:
        """How many executions of the schedule are queued or running, and how many are
        buffered, for overlap decisions. Take it in the transaction that records the fire."""
        ...

    def count_active_many(
        self, conn: Connection, schedule_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, ActiveCounts]:
        """:meth:`count_active` for many schedules in one query (every id is a key)."""
        ...
