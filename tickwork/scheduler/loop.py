"""The scheduler loop: sleep until the next due instant, fire what is due, repeat.

* **Wakes on time, not by polling.** It asks the store for the earliest ``next_fire_at``
  (an indexed ``MIN``) and sleeps on the injected clock until then, or until
  :meth:`Scheduler.wake` is called because a schedule changed.
* **Fires in batches, one transaction each.** ``claim_due`` locks up to ``batch_size``
  due schedules (skipping rows another scheduler holds, on PostgreSQL); each is settled
  (:func:`~tickwork.scheduler.firing.settle`); then the executions, the missed ranges and
  the schedules' new ``next_fire_at`` are written together, so a crash leaves either all
  of a batch or none of it. The unique key on (schedule, instant) makes a fire that
  somehow comes round again a no-op.
* **Restarts and stalls need no special case.** The store is the truth: whatever was due
  while the loop was not running is still due (``next_fire_at`` in the past), and the
  misfire policy decides what runs.

The loop runs in an asyncio task; the store is synchronous, so each pass runs in a
worker thread and the event loop stays free for the API.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.engine import Connection, Engine

from tickwork.clock import Clock
from tickwork.errors import StoreUnavailable
from tickwork.ids import IdGenerator
from tickwork.schedule.misfire import DEFAULT_GRACE
from tickwork.schedule.rules import ScheduleRules, rules_from_stored
from tickwork.scheduler.firing import Settlement, settle
from tickwork.scheduler.record import record_settlements
from tickwork.store.changes import ChangeListener
from tickwork.store.errors import translated_errors
from tickwork.store.executions import SqlExecutionStore
from tickwork.store.protocols import NewExecution, ScheduleRecord
from tickwork.store.schedules import SqlScheduleStore
from tickwork.wakeups import set_from_any_thread

__all__ = ["FireReport", "RulesCache", "Scheduler"]

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 1000
_RETRY_AFTER_BUSY = timedelta(milliseconds=50)
"""When due rows are locked by another scheduler: look again this soon."""
_STORE_BACKOFF = (timedelta(seconds=1), timedelta(seconds=30))
"""First and longest wait after the store could not be reached."""


@dataclass(slots=True)
class FireReport:
    """What one :meth:`Scheduler.fire_due` call did."""

    batches: int = 0
    schedules: int = 0
    inserted: int = 0
    """Execution rows written (fires, and missed or skipped instants)."""
    missed_ranges: int = 0
    executions: list[NewExecution] = field(default_factory=list)
    """The rows planned, oldest batch first (for logs and tests)."""


class RulesCache:
    """Rules by schedule id, rebuilt when the revision changes; least recently used go first.

    Bounded so that 100,000 schedules do not keep 100,000 parsed expressions alive.
    """

    def __init__(self, size: int = 10_000) -> None:
        self._size = size
        self._entries: OrderedDict[uuid.UUID, tuple[int, ScheduleRules]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, schedule: ScheduleRecord) -> ScheduleRules:
        with self._lock:
            entry = self._entries.get(schedule.id)
            if entry is not None and entry[0] == schedule.revision:
                self._entries.move_to_end(schedule.id)
                return entry[1]
        rules = rules_from_stored(
            schedule.document, schedule_id=schedule.id, created_at=schedule.created_at
        )
        with self._lock:
            self._entries[schedule.id] = (schedule.revision, rules)
            self._entries.move_to_end(schedule.id)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return rules


class Scheduler:
    """Fires due schedules from one store; several may share a PostgreSQL store."""

    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        *,
        ids: IdGenerator | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        on_fired: Callable[[Sequence[NewExecution]], None] | None = None,
        rules: RulesCache | None = None,
        listen: bool = True,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1 (got {batch_size})")
        self._engine = engine
        self._clock = clock
        self._ids = ids or IdGenerator(clock)
        self._batch_size = batch_size
        self._on_fired = on_fired
        self._rules = rules or RulesCache()
        self._schedules = SqlScheduleStore()
        self._executions = SqlExecutionStore()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._sleeping_until: datetime | None = None
        self._stopping = False
        self._running = False
        self._listen = listen

    # ----------------------------------------------------------------------------------
    # One pass

    def fire_due(self) -> FireReport:
        """Settle every schedule due now, batch after batch, until none is left."""
        report = FireReport()
        started = self._clock.now()
        while True:
            with translated_errors(), self._engine.begin() as conn:
                claimed = self._fire_batch(conn, report, started)
            if claimed < self._batch_size:
                return report

    def _fire_batch(self, conn: Connection, report: FireReport, started: datetime) -> int:
        due = self._schedules.claim_due(conn, self._clock.now(), self._batch_size)
        if not due:
            return 0
        counts = self._executions.count_active_many(conn, [s.id for s in due])
        now = self._clock.now()  # after the claim, so lateness includes the query
        # Time spent on earlier batches of this pass is the loop's own delay, not a misfire:
        # an instant due when the pass began is as on time in its last batch as in its first.
        grace = DEFAULT_GRACE + max(now - started, timedelta(0))
        settlements: list[Settlement] = []
        for schedule in due:
            rules = self._rules.get(schedule)
            settled = settle(schedule, rules, now, counts[schedule.id], self._ids.new, grace=grace)
            if settled is not None:
                settlements.append(settled)
        report.inserted += record_settlements(
            conn, self._executions, settlements, now=now, new_id=self._ids.new
        )
        rows = [row for s in settlements for row in s.executions]
        report.batches += 1
        report.schedules += len(settlements)
        report.missed_ranges += sum(len(s.missed_ranges) for s in settlements)
        report.executions.extend(rows)
        if self._on_fired is not None and rows:
            self._on_fired(rows)
        return len(due)

    def next_due_at(self) -> datetime | None:
        """The earliest instant any active schedule is due."""
        with translated_errors(), self._engine.connect() as conn:
            return self._schedules.next_due_at(conn)

    # ----------------------------------------------------------------------------------
    # The loop

    async def run(self) -> None:
        """Fire, sleep until the next due instant or a change, repeat; until :meth:`stop`."""
        self._loop = asyncio.get_running_loop()
        listener = None
        if self._listen and self._engine.dialect.name == "postgresql":
            # Changes made through other nodes wake this loop too.
            listener = ChangeListener(self._engine.url, self.wake)
            listener.start()
        self._running = True
        try:
            await self._run()
        finally:
            self._running = False
            if listener is not None:
                await asyncio.to_thread(listener.stop)

    async def _run(self) -> None:
        backoff = _STORE_BACKOFF[0]
        while not self._stopping:
            self._wake.clear()
            try:
                await asyncio.to_thread(self.fire_due)
                next_at = await asyncio.to_thread(self.next_due_at)
            except StoreUnavailable as exc:
                log.warning("store unavailable, retrying in %s: %s", backoff, exc)
                await self._sleep(self._clock.now() + backoff)
                backoff = min(backoff * 2, _STORE_BACKOFF[1])
                continue
            backoff = _STORE_BACKOFF[0]
            if next_at is not None and next_at <= self._clock.now():
                # Still due after a full pass: another scheduler holds those rows.
                next_at = self._clock.now() + _RETRY_AFTER_BUSY
            await self._sleep(next_at)

    async def _sleep(self, until: datetime | None) -> None:
        if self._stopping:
            return
        self._sleeping_until = until
        self._idle.set()
        try:
            if until is None:
                await self._wake.wait()
            else:
                await self._clock.sleep_until(until, self._wake)
        finally:
            self._idle.clear()

    def wake(self) -> None:
        """A schedule changed: look again now. Safe to call from any thread."""
        set_from_any_thread(self._loop, self._wake)

    def stop(self) -> None:
        """Finish the current pass and return from :meth:`run`. Safe from any thread."""
        self._stopping = True
        self.wake()

    async def until_idle(self) -> None:
        """Return once the loop is asleep with nothing due and no change pending.

        For tests that move a fake clock: after ``clock.advance(...)`` or a change, this
        waits for the loop to have handled it.
        """
        while True:
            await self._idle.wait()
            until = self._sleeping_until
            # Idle again, not just "was idle": a wake (a NOTIFY from the listener thread)
            # may have ended the sleep and started a pass before this task resumed.
            asleep = self._idle.is_set() and not self._wake.is_set()
            if asleep and (until is None or until > self._clock.now()):
                return
            await asyncio.sleep(0)

    @property
    def running(self) -> bool:
        """True while :meth:`run` is looping (for readiness checks)."""
        return self._running

    @property
    def sleeping_until(self) -> datetime | None:
        """The instant the loop sleeps until (None: until woken), while it sleeps."""
        return self._sleeping_until if self._idle.is_set() else None
