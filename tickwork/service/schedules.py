"""Schedules as users change them: the one place each rule lives, for the API, CLI and UI.

Every method is one transaction: it validates first, then writes, so an error (an
``InvalidDocument`` naming the field, a ``Conflict``, a ``NotFound``) leaves the store
as it was. After a change commits, ``on_change`` is called so a sleeping scheduler
looks again at once; after runs are queued by hand, ``on_queued`` wakes the worker.

Decisions that are not obvious:

* **Shell and Python actions** run code on the Tickwork host: only an admin ``caller``
  may create them or edit a schedule into one (:mod:`tickwork.service.access`).
* **Creating** owes the instants strictly after the creation instant; a document that
  could never fire (an ``at`` or an ``end_at`` already past) is refused, not stored as
  a schedule that is completed from birth.
* **Editing, pausing and resuming settle first.** Instants the old definition owes by
  now are recorded under the old definition (fired, missed or skipped), then the new
  one takes over from now: nothing owed is lost, and an edit never makes the past owe
  instants it did not owe before.
* **Instants that pass while paused** are recorded ``skipped`` (reason ``paused``) when
  the schedule is resumed (or edited, or deleted: then they are not recorded at all,
  since the schedule and its ledger go), and never caught up.
* ``name`` and ``namespace`` are a schedule's identity: an update cannot change them.
* **Namespaces.** A ``caller`` limited to a namespace sees only its schedules: any other is
  ``NotFound`` to it (never "forbidden", which would reveal that it exists), lists show
  nothing else, and creating in another namespace is ``Forbidden``.
* **Patching** applies a JSON merge patch (RFC 7396) to the stored document, in the
  transaction that writes the result, and validates the result whole, like an update.
* **Trigger now** starts a ``manual`` run whatever the schedule's state and overlap
  policy (a person asked for it); the input override replaces the schedule's input. The
  same idempotency key returns the run it started the first time.
* **Backfill** starts one ``backfill`` run per trigger instant in a past range, oldest
  first; they run one after another (``buffered`` behind the first) unless the overlap
  policy is ``allow``. Backfills are not deduplicated: a range backfilled twice runs twice.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from itertools import islice
from typing import Any, Generic, TypeVar

from pydantic import JsonValue, TypeAdapter, ValidationError
from sqlalchemy.engine import Connection, Engine

from tickwork.clock import Clock
from tickwork.errors import Conflict, Forbidden, InvalidDocument, InvalidSpec, NotFound
from tickwork.ids import IdGenerator
from tickwork.schedule.fires import iter_nominal_fires
from tickwork.schedule.misfire import FireAction, FireDecision, FireReason, MissedRange, expand
from tickwork.schedule.policies import (
    ExecutionStatus,
    ExecutionTrigger,
    OverlapPolicy,
    ScheduleState,
)
from tickwork.schedule.rules import ScheduleRules, rules_from_stored
from tickwork.schedule.triggers import as_utc
from tickwork.scheduler.firing import settle
from tickwork.scheduler.record import record_settlements
from tickwork.service.access import SYSTEM, Caller, require_action_allowed
from tickwork.spec.documents import AtTriggerDocument, ScheduleDocument
from tickwork.store.changes import announce_change, announce_queued
from tickwork.store.engine import reads_only
from tickwork.store.executions import RunTiming, SqlExecutionStore
from tickwork.store.protocols import (
    ExecutionRecord,
    Managed,
    NewExecution,
    NewSchedule,
    ScheduleRecord,
)
from tickwork.store.schedules import SqlScheduleStore

__all__ = [
    "MAX_BACKFILL",
    "MAX_NEXT",
    "MAX_PAGE",
    "Listing",
    "MissedFire",
    "ScheduleMetrics",
    "ScheduleService",
    "merge_patch",
]

MAX_NEXT = 1000
"""Most fire instants one ``next_fires`` call lists."""
MAX_BACKFILL = 1000
"""Most runs one backfill starts: a larger range is more likely a mistake than a wish."""
MAX_IDEMPOTENCY_KEY = 255
MAX_PAGE = 500
"""Most items one page of a list holds."""
MAX_METRICS_SAMPLE = 10_000
"""Most runs whose durations and lateness one ``metrics`` call reads (the newest)."""
DELETED_REASON = "schedule_deleted"

_JUST_BEFORE = timedelta(microseconds=1)
_JSON_OBJECT: TypeAdapter[dict[str, JsonValue]] = TypeAdapter(dict[str, JsonValue])
_NAME_TAKEN = "uq_schedules_namespace_name"


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Listing(Generic[T]):
    """One page of a list; ``more``: there is at least one item after it."""

    items: list[T]
    more: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduleMetrics:
    """How a schedule's runs created since ``since`` went. Percentiles are nearest-rank
    over the newest :data:`MAX_METRICS_SAMPLE` runs; None when there is nothing to rank."""

    since: datetime
    counts: dict[ExecutionStatus, int]
    success_rate: float | None
    """succeeded / (succeeded + failed + dead + timed_out); None when none has ended so."""
    duration_p50_ms: int | None
    duration_p95_ms: int | None
    lateness_p50_ms: int | None
    """Of fires (trigger ``schedule``): how long after its nominal instant each was queued."""
    lateness_p95_ms: int | None
    lateness_max_ms: int | None


@dataclass(frozen=True, slots=True)
class MissedFire:
    """One nominal instant that did not run, and why."""

    scheduled_for: datetime
    status: ExecutionStatus  # missed | skipped
    reason: str | None


class ScheduleService:
    """Create, change and start schedules; every rule about doing so lives here."""

    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        *,
        ids: IdGenerator | None = None,
        on_change: Callable[[], None] | None = None,
        on_queued: Callable[[], None] | None = None,
    ) -> None:
        self._engine = engine
        self._reads = reads_only(engine)
        self._clock = clock
        self._ids = ids or IdGenerator(clock)
        self._on_change = on_change or (lambda: None)
        self._on_queued = on_queued or (lambda: None)
        self._schedules = SqlScheduleStore()
        self._executions = SqlExecutionStore()

    # ----------------------------------------------------------------------------------
    # Reading

    def get(self, schedule_id: uuid.UUID, *, caller: Caller = SYSTEM) -> ScheduleRecord:
        with self._engine.connect() as conn:
            return _visible(self._schedules.get(conn, schedule_id), caller)

    def get_with_last_run(
        self, schedule_id: uuid.UUID, *, caller: Caller = SYSTEM
    ) -> tuple[ScheduleRecord, ExecutionRecord | None]:
        """The schedule and its newest run (see :meth:`last_runs`), in one read."""
        with self._reads.connect() as conn:
            record, last = self._schedules.get_with_last_run(conn, schedule_id)
        return _visible(record, caller), last

    def find(self, namespace: str, name: str) -> ScheduleRecord:
        with self._engine.connect() as conn:
            return self._schedules.get_by_name(conn, namespace, name)

    def list_all(self, namespace: str | None = None) -> list[ScheduleRecord]:
        with self._engine.connect() as conn:
            return self._schedules.list_all(conn, namespace)

    def executions(self, schedule_id: uuid.UUID, *, limit: int = 100) -> list[ExecutionRecord]:
        with self._engine.connect() as conn:
            return self._executions.list_for_schedule(conn, schedule_id, limit=limit)

    def page(
        self,
        *,
        namespace: str | None = None,
        tag: str | None = None,
        state: ScheduleState | None = None,
        name_prefix: str | None = None,
        after: tuple[str, str] | None = None,
        limit: int = 50,
        caller: Caller = SYSTEM,
    ) -> Listing[ScheduleRecord]:
        """Schedules matching every filter given, by namespace then name, after the
        (namespace, name) ``after``. A caller limited to a namespace sees only that one:
        asking for another finds nothing."""
        _check_limit(limit)
        if caller.namespace is not None:
            if namespace not in (None, caller.namespace):
                return Listing([], more=False)
            namespace = caller.namespace
        with self._engine.connect() as conn:
            rows = self._schedules.page(
                conn,
                namespace=namespace,
                tag=tag,
                state=state,
                name_prefix=name_prefix,
                after=after,
                limit=limit + 1,
            )
        return Listing(rows[:limit], more=len(rows) > limit)

    def last_runs(self, schedule_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, ExecutionRecord]:
        """Each schedule's newest run, not counting ``skipped`` and ``missed`` records."""
        with self._engine.connect() as conn:
            return self._executions.latest_runs(conn, schedule_ids)

    def history(
        self,
        schedule_id: uuid.UUID,
        *,
        statuses: Sequence[ExecutionStatus] = (),
        triggers: Sequence[ExecutionTrigger] = (),
        before: tuple[datetime, uuid.UUID] | None = None,
        limit: int = 50,
        caller: Caller = SYSTEM,
    ) -> Listing[ExecutionRecord]:
        """The schedule's executions, newest nominal instant first, after the
        (scheduled_for, id) ``before``; ``NotFound`` when the schedule is not there."""
        _check_limit(limit)
        with self._engine.connect() as conn:
            _visible(self._schedules.get(conn, schedule_id), caller)
            rows = self._executions.history(
                conn,
                schedule_id,
                statuses=statuses,
                triggers=triggers,
                before=before,
                limit=limit + 1,
            )
        return Listing(rows[:limit], more=len(rows) > limit)

    def metrics(
        self, schedule_id: uuid.UUID, window: timedelta, *, caller: Caller = SYSTEM
    ) -> ScheduleMetrics:
        """Counts by status, success rate, durations and lateness of the schedule's runs
        created in the last ``window``."""
        since = self._clock.now() - window
        with self._engine.connect() as conn:
            _visible(self._schedules.get(conn, schedule_id), caller)
            counts = self._executions.count_by_status(conn, schedule_id, since=since)
            timings = self._executions.timings(
                conn, schedule_id, since=since, limit=MAX_METRICS_SAMPLE
            )
        return _metrics(since, counts, timings)

    def next_fires(
        self,
        schedule_id: uuid.UUID,
        count: int = 5,
        *,
        after: datetime | None = None,
        caller: Caller = SYSTEM,
    ) -> list[datetime]:
        """The schedule's next ``count`` nominal instants after ``after`` (default: now)."""
        if not 1 <= count <= MAX_NEXT:
            raise InvalidSpec("count", str(count), f"must be between 1 and {MAX_NEXT}")
        schedule = self.get(schedule_id, caller=caller)
        if schedule.state is ScheduleState.COMPLETED:
            return []
        start = _utc(after, "after") if after is not None else self._clock.now()
        rules = _rules(schedule)
        fires = iter_nominal_fires(
            rules.trigger, start, window=rules.window, runs_so_far=schedule.runs_count
        )
        with _in_calendar("after", start):
            return list(islice(fires, count))

    def missed(
        self, schedule_id: uuid.UUID, *, limit: int = 10_000, caller: Caller = SYSTEM
    ) -> list[MissedFire]:
        """Every instant of the schedule that was recorded ``missed`` or ``skipped``, oldest
        first, ranges listed instant by instant (at most ``limit``)."""
        with self._engine.connect() as conn:
            schedule = _visible(self._schedules.get(conn, schedule_id), caller)
            rows = self._executions.list_for_schedule(
                conn,
                schedule_id,
                statuses=[ExecutionStatus.MISSED, ExecutionStatus.SKIPPED],
                limit=limit,
                oldest_first=True,
            )
            ranges = self._executions.list_missed_ranges(conn, schedule_id)
        found = [
            MissedFire(row.scheduled_for, row.status, row.reason)
            for row in rows
            if row.trigger is ExecutionTrigger.SCHEDULE
        ]
        trigger = _rules(schedule).trigger
        for stored in ranges:
            reason = FireReason(stored.reason)
            action = FireAction.SKIPPED if reason is FireReason.PAUSED else FireAction.MISSED
            item = MissedRange(stored.first, stored.last, stored.count, reason, action)
            decisions: list[FireDecision | MissedRange] = [item]
            try:
                instants = [d.scheduled_for for d in islice(expand(decisions, trigger), limit)]
            except ValueError:
                # The trigger was edited since: the ends are all that is known for sure.
                instants = [item.first, item.last]
            found.extend(MissedFire(i, action.status, stored.reason) for i in instants)
        found.sort(key=lambda m: m.scheduled_for)
        return found[:limit]

    # ----------------------------------------------------------------------------------
    # Changing

    def create(self, data: Mapping[str, Any], *, caller: Caller = SYSTEM) -> ScheduleRecord:
        """Validate ``data`` (a schedule document) and store it; ``Conflict`` if the name
        is taken in its namespace, ``Forbidden`` if ``caller`` may not create its action."""
        document = ScheduleDocument.from_mapping(data)
        with self._engine.begin() as conn:
            record = self.create_in(conn, document, caller=caller)
        self._on_change()
        return record

    def create_in(
        self,
        conn: Connection,
        document: ScheduleDocument,
        *,
        caller: Caller = SYSTEM,
        managed: Managed | None = None,
    ) -> ScheduleRecord:
        """:meth:`create` inside the caller's transaction (call :meth:`changed` after it
        commits); ``managed``: the YAML set and file that declare it."""
        stored = document.model_dump(mode="json")
        require_action_allowed(caller, stored)
        if not caller.sees(document.namespace):
            raise Forbidden(
                f"a token of namespace {caller.namespace!r} cannot create schedules in "
                f"namespace {document.namespace!r}; set namespace: {caller.namespace}"
            )
        now = self._clock.now()
        schedule_id = self._ids.new()
        rules = rules_from_stored(stored, schedule_id=schedule_id, created_at=now)
        next_fire_at = rules.next_fire(now, 0)
        if next_fire_at is None:
            raise _never_fires(document, now)
        new = NewSchedule(
            id=schedule_id,
            namespace=document.namespace,
            name=document.name,
            document=stored,
            trigger_kind=_trigger_kind(stored),
            timezone=document.timezone,
            created_at=now,
            state=ScheduleState.PAUSED if document.paused else ScheduleState.ACTIVE,
            next_fire_at=next_fire_at,
            pause_note=document.pause_note if document.paused else None,
            managed_by=None if managed is None else managed.set_name,
            managed_file=None if managed is None else managed.file,
            managed_document=None if managed is None else managed.document,
        )
        try:
            record = self._schedules.insert(conn, new)
        except Conflict as exc:
            raise _name_taken(exc, document.namespace, document.name) from None
        announce_change(conn)
        return record

    def replace_in(
        self,
        conn: Connection,
        schedule_id: uuid.UUID,
        document: ScheduleDocument,
        *,
        caller: Caller = SYSTEM,
        managed: Managed | None = None,
    ) -> ScheduleRecord:
        """:meth:`update` inside the caller's transaction (call :meth:`changed` after it
        commits); with ``managed``, the schedule is (now) owned by that set and file."""
        old = self._locked(conn, schedule_id, caller=caller)
        return self._replace(conn, old, document, caller, managed=managed)

    def delete_in(
        self,
        conn: Connection,
        schedule_id: uuid.UUID,
        *,
        expected_revision: int | None = None,
        caller: Caller = SYSTEM,
    ) -> int:
        """:meth:`delete` inside the caller's transaction (call :meth:`changed` after it
        commits)."""
        self._locked(conn, schedule_id, expected_revision, caller)
        cancelled = self._executions.cancel_active(
            conn, schedule_id, now=self._clock.now(), reason=DELETED_REASON
        )
        self._schedules.delete(conn, schedule_id)
        announce_change(conn)
        return cancelled

    def changed(self) -> None:
        """Tell this node's scheduler that schedules changed (after a commit of ``*_in``)."""
        self._on_change()

    def update(
        self,
        schedule_id: uuid.UUID,
        data: Mapping[str, Any],
        *,
        expected_revision: int | None = None,
        caller: Caller = SYSTEM,
    ) -> ScheduleRecord:
        """Replace the schedule's document. With ``expected_revision``, refuse (``Conflict``)
        if someone changed it since that revision."""
        document = ScheduleDocument.from_mapping(data)
        with self._engine.begin() as conn:
            old = self._locked(conn, schedule_id, expected_revision, caller)
            record = self._replace(conn, old, document, caller)
        self._on_change()
        return record

    def patch(
        self,
        schedule_id: uuid.UUID,
        changes: Mapping[str, Any],
        *,
        expected_revision: int | None = None,
        caller: Caller = SYSTEM,
    ) -> ScheduleRecord:
        """Apply the JSON merge patch ``changes`` (RFC 7396: a null removes a field, a
        mapping merges, anything else replaces) to the stored document, then store the
        result as :meth:`update` would."""
        with self._engine.begin() as conn:
            old = self._locked(conn, schedule_id, expected_revision, caller)
            document = ScheduleDocument.from_mapping(merge_patch(old.document, changes))
            record = self._replace(conn, old, document, caller)
        self._on_change()
        return record

    def pause(
        self, schedule_id: uuid.UUID, note: str | None = None, *, caller: Caller = SYSTEM
    ) -> ScheduleRecord:
        """Stop firing; instants that pass until :meth:`resume` are recorded ``skipped``."""
        if note is not None and len(note) > 1000:
            raise InvalidSpec("note", "", "is longer than 1000 characters")
        with self._engine.begin() as conn:
            old = self._locked(conn, schedule_id, caller=caller)
            _refuse_completed(old, "paused")
            stored = {**old.document, "paused": True, "pause_note": note}
            record = self._write(conn, old, stored, paused=True)
        self._on_change()
        return record

    def resume(self, schedule_id: uuid.UUID, *, caller: Caller = SYSTEM) -> ScheduleRecord:
        """Fire again from now on; what passed while paused is recorded ``skipped``."""
        with self._engine.begin() as conn:
            old = self._locked(conn, schedule_id, caller=caller)
            _refuse_completed(old, "resumed")
            stored = {**old.document, "paused": False, "pause_note": None}
            record = self._write(conn, old, stored, paused=False)
        self._on_change()
        return record

    def delete(
        self,
        schedule_id: uuid.UUID,
        *,
        expected_revision: int | None = None,
        caller: Caller = SYSTEM,
    ) -> int:
        """Delete the schedule; its unfinished runs are cancelled (returns how many), its
        finished ones stay in the history."""
        with self._engine.begin() as conn:
            cancelled = self.delete_in(
                conn, schedule_id, expected_revision=expected_revision, caller=caller
            )
        self._on_change()
        return cancelled

    # ----------------------------------------------------------------------------------
    # Starting runs by hand

    def trigger_now(
        self,
        schedule_id: uuid.UUID,
        *,
        input: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        caller: Caller = SYSTEM,
    ) -> tuple[ExecutionRecord, bool]:
        """Start a ``manual`` run now; returns it and whether it is new (False: the
        idempotency key had already started it)."""
        input = _run_input(input)
        if idempotency_key is not None and not 1 <= len(idempotency_key) <= MAX_IDEMPOTENCY_KEY:
            raise InvalidSpec(
                "idempotency_key", "", f"must be 1 to {MAX_IDEMPOTENCY_KEY} characters"
            )
        with self._engine.begin() as conn:
            schedule = _visible(self._schedules.get(conn, schedule_id, for_update=True), caller)
            if idempotency_key is not None:
                earlier = self._executions.find_by_idempotency_key(
                    conn, schedule_id, idempotency_key
                )
                if earlier is not None:
                    return earlier, False
            now = self._clock.now()
            run = _manual_run(
                schedule,
                _rules(schedule),
                self._ids.new(),
                now,
                trigger=ExecutionTrigger.MANUAL,
                scheduled_for=now,
                status=ExecutionStatus.QUEUED,
                input=input,
                idempotency_key=idempotency_key,
            )
            created = self._executions.insert_run(conn, run)
            announce_queued(conn)
        self._on_queued()
        return created, True

    def backfill(
        self,
        schedule_id: uuid.UUID,
        start: datetime,
        end: datetime,
        *,
        input: Mapping[str, Any] | None = None,
        caller: Caller = SYSTEM,
    ) -> list[ExecutionRecord]:
        """One ``backfill`` run per trigger instant in [start, end] (a past range)."""
        start, end = _utc(start, "start"), _utc(end, "end")
        input = _run_input(input)
        now = self._clock.now()
        if end > now:
            raise InvalidSpec("end", end.isoformat(), "is in the future; backfill past fires")
        if start > end:
            raise InvalidSpec("start", start.isoformat(), "is after end")
        with self._engine.begin() as conn:
            schedule = _visible(self._schedules.get(conn, schedule_id, for_update=True), caller)
            rules = _rules(schedule)
            with _in_calendar("start", start):
                instants = list(
                    islice(
                        iter_nominal_fires(rules.trigger, start - _JUST_BEFORE, end),
                        MAX_BACKFILL + 1,
                    )
                )
            if not instants:
                raise InvalidSpec("start", start.isoformat(), "to end holds no fire instant")
            if len(instants) > MAX_BACKFILL:
                raise InvalidSpec(
                    "end", end.isoformat(), f"makes more than {MAX_BACKFILL} runs; split the range"
                )
            counts = self._executions.count_active(conn, schedule_id)
            # A buffered run is promised too: the backfill must not start ahead of it.
            busy = counts.active > 0 or counts.buffered > 0
            runs = []
            for index, instant in enumerate(instants):
                queued = rules.overlap is OverlapPolicy.ALLOW or (index == 0 and not busy)
                runs.append(
                    _manual_run(
                        schedule,
                        rules,
                        self._ids.new(),
                        now,
                        trigger=ExecutionTrigger.BACKFILL,
                        scheduled_for=instant,
                        status=ExecutionStatus.QUEUED if queued else ExecutionStatus.BUFFERED,
                        input=input,
                    )
                )
            self._executions.record_fires(conn, runs)
            announce_queued(conn)
            created = [self._executions.get(conn, run.id) for run in runs]
        self._on_queued()
        return created

    # ----------------------------------------------------------------------------------

    def _locked(
        self,
        conn: Connection,
        schedule_id: uuid.UUID,
        expected_revision: int | None = None,
        caller: Caller = SYSTEM,
    ) -> ScheduleRecord:
        schedule = _visible(self._schedules.get(conn, schedule_id, for_update=True), caller)
        if expected_revision is not None and schedule.revision != expected_revision:
            raise Conflict(
                f"schedule {schedule.namespace}/{schedule.name} is at revision "
                f"{schedule.revision}, not {expected_revision}: it changed since you read it",
                constraint="revision",
            )
        return schedule

    def _replace(
        self,
        conn: Connection,
        old: ScheduleRecord,
        document: ScheduleDocument,
        caller: Caller,
        *,
        managed: Managed | None = None,
    ) -> ScheduleRecord:
        """Store ``document`` as ``old``'s new definition, if ``caller`` may write its
        action; its identity cannot change."""
        stored = document.model_dump(mode="json")
        require_action_allowed(caller, stored)
        problems = [
            (key, f"cannot change (it is {getattr(old, key)!r}); create a new schedule")
            for key in ("namespace", "name")
            if getattr(document, key) != getattr(old, key)
        ]
        if problems:
            raise InvalidDocument(problems)
        return self._write(conn, old, stored, paused=document.paused, managed=managed)

    def _write(
        self,
        conn: Connection,
        old: ScheduleRecord,
        stored: Mapping[str, Any],
        *,
        paused: bool,
        managed: Managed | None = None,
    ) -> ScheduleRecord:
        """Settle what ``old`` owes by now, then store ``stored`` as the new definition."""
        now = self._clock.now()
        old_rules = _rules(old)
        current = old
        counts = self._executions.count_active(conn, old.id)
        settled = settle(old, old_rules, now, counts, self._ids.new)
        if settled is not None:
            record_settlements(conn, self._executions, [settled], now=now, new_id=self._ids.new)
            advance = settled.advance
            current = replace(
                old,
                next_fire_at=advance.next_fire_at,
                last_fired_at=advance.last_fired_at,
                runs_count=advance.runs_count,
                state=advance.state,
            )
        new_rules = rules_from_stored(stored, schedule_id=old.id, created_at=old.created_at)
        next_fire_at = current.next_fire_at
        if new_rules.timing() != old_rules.timing():
            next_fire_at = new_rules.next_fire(now, current.runs_count)
        if next_fire_at is None:
            state = ScheduleState.COMPLETED
        else:
            state = ScheduleState.PAUSED if paused else ScheduleState.ACTIVE
        changed = replace(
            current,
            document=dict(stored),
            trigger_kind=_trigger_kind(stored),
            timezone=str(stored.get("timezone") or "UTC"),
            state=state,
            pause_note=stored.get("pause_note") if paused else None,
            next_fire_at=next_fire_at,
        )
        if managed is not None:
            changed = replace(
                changed,
                managed_by=managed.set_name,
                managed_file=managed.file,
                managed_document=dict(managed.document),
            )
        record = self._schedules.update(conn, changed, now)
        announce_change(conn)
        return record


def _visible(schedule: ScheduleRecord, caller: Caller) -> ScheduleRecord:
    """The schedule, if ``caller`` may see it; else ``NotFound``, as if it were not there."""
    if not caller.sees(schedule.namespace):
        raise NotFound("schedule", str(schedule.id))
    return schedule


def _utc(value: datetime, field: str) -> datetime:
    with _in_calendar(field, value):
        return as_utc(value, field)


@contextmanager
def _in_calendar(field: str, value: datetime) -> Iterator[None]:
    """An instant from the caller so near year 1 or 9999 that the fires around it fall off
    the calendar is their mistake (422), not ours."""
    try:
        yield
    except OverflowError:
        raise InvalidSpec(
            field, value.isoformat(), "is too close to the ends of the calendar"
        ) from None


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidSpec("limit", str(limit), f"must be between 1 and {MAX_PAGE}")


def merge_patch(target: object, patch: object) -> Any:
    """``patch`` applied to ``target`` as RFC 7396 says (neither is changed)."""
    if not isinstance(patch, Mapping):
        return patch
    merged = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


_ENDED = (
    ExecutionStatus.SUCCEEDED,
    ExecutionStatus.FAILED,
    ExecutionStatus.DEAD,
    ExecutionStatus.TIMED_OUT,
)


def _metrics(
    since: datetime, counts: dict[ExecutionStatus, int], timings: Sequence[RunTiming]
) -> ScheduleMetrics:
    ended = sum(counts.get(status, 0) for status in _ENDED)
    durations = sorted(
        (t.finished_at - t.started_at) // timedelta(milliseconds=1)
        for t in timings
        if t.started_at is not None and t.finished_at is not None
    )
    lateness = sorted(
        t.lateness_ms
        for t in timings
        if t.lateness_ms is not None and t.trigger is ExecutionTrigger.SCHEDULE
    )
    return ScheduleMetrics(
        since=since,
        counts=counts,
        success_rate=counts.get(ExecutionStatus.SUCCEEDED, 0) / ended if ended else None,
        duration_p50_ms=_percentile(durations, 50),
        duration_p95_ms=_percentile(durations, 95),
        lateness_p50_ms=_percentile(lateness, 50),
        lateness_p95_ms=_percentile(lateness, 95),
        lateness_max_ms=lateness[-1] if lateness else None,
    )


def _percentile(ordered: Sequence[int], percent: int) -> int | None:
    """Nearest rank: the smallest value that at least ``percent`` % of values do not exceed."""
    if not ordered:
        return None
    return ordered[max(0, math.ceil(percent / 100 * len(ordered)) - 1)]


def _rules(schedule: ScheduleRecord) -> ScheduleRules:
    return rules_from_stored(
        schedule.document, schedule_id=schedule.id, created_at=schedule.created_at
    )


def _trigger_kind(stored: Mapping[str, Any]) -> str:
    return next(kind for kind in ("cron", "interval", "at") if kind in stored["trigger"])


def _never_fires(document: ScheduleDocument, now: datetime) -> InvalidDocument:
    if document.end_at is not None and document.end_at <= now:
        return InvalidDocument([("end_at", "is in the past: the schedule would never fire")])
    if isinstance(document.trigger, AtTriggerDocument):
        where = "in the past" if document.trigger.at <= now else "outside start_at..end_at"
        return InvalidDocument([("trigger.at", f"is {where}: the schedule would never fire")])
    return InvalidDocument([("trigger", "has no fire instant after now: it would never fire")])


def _name_taken(exc: Conflict, namespace: str, name: str) -> Conflict:
    if exc.constraint == _NAME_TAKEN:
        return Conflict(
            f"a schedule named {name!r} already exists in namespace {namespace!r}",
            constraint=_NAME_TAKEN,
        )
    return exc


def _run_input(input: object) -> dict[str, Any] | None:
    """An input override checked like a document's ``input``: a JSON object, or None."""
    if input is None:
        return None
    if not isinstance(input, Mapping):
        raise InvalidSpec("input", "", "must be a JSON object")
    try:
        return _JSON_OBJECT.validate_python(input)
    except ValidationError as exc:
        where = ".".join(["input", *(str(part) for part in exc.errors()[0]["loc"])])
        raise InvalidSpec("input", "", f"must hold only JSON values; {where} is not one") from None


def _refuse_completed(schedule: ScheduleRecord, verb: str) -> None:
    if schedule.state is ScheduleState.COMPLETED:
        raise Conflict(
            f"schedule {schedule.namespace}/{schedule.name} is completed and cannot be "
            f"{verb}; edit its trigger or window to give it new fires",
            constraint="state",
        )


def _manual_run(
    schedule: ScheduleRecord,
    rules: ScheduleRules,
    run_id: uuid.UUID,
    now: datetime,
    *,
    trigger: ExecutionTrigger,
    scheduled_for: datetime,
    status: ExecutionStatus,
    input: Mapping[str, Any] | None,
    idempotency_key: str | None = None,
) -> NewExecution:
    return NewExecution(
        id=run_id,
        namespace=schedule.namespace,
        trigger=trigger,
        scheduled_for=scheduled_for,
        status=status,
        created_at=now,
        schedule_id=schedule.id,
        schedule_name=schedule.name,
        workflow_name=rules.workflow,
        max_attempts=rules.max_attempts,
        priority=rules.priority,
        concurrency_key=rules.concurrency_key,
        concurrency_limit=rules.concurrency_limit,
        input=dict(rules.input if input is None else input),
        queued_at=now if status is ExecutionStatus.QUEUED else None,
        not_before=now,
        lateness_ms=0,
        idempotency_key=idempotency_key,
    )
