"""The scheduler loop: sleep until the next due instant, fire what is due, repeat.

* **Wakes on time, not by polling.** It asks the store for the earliest ``next_fire_at``
  (an indexed ``MIN``) and sleeps on the injected clock until then, or until
  :meth:`Scheduler.wake` is called because a schedule changed.
* **Fires in batches, one transaction each.** ``claim_due`` locks up to ``batch_size``
  due schedules (skipping rows another scheduler holds, on PostgreSQL); they are settled
  together (:func:`~tickwork.scheduler.firing.settle_many`); then the executions, the
  missed ranges and the schedules' new ``next_fire_at`` are written together, so a crash
  leaves either all of a batch or none of it. The unique key on (schedule, instant) makes
  a fire that somehow comes round again a no-op.
* **Restarts and stalls need no special case.** The store is the truth: whatever was due
  while the loop was not running is still due (``next_fire_at`` in the past), and the
  misfire policy decides what runs.

The loop runs in an asyncio task; the store is synchronous, so each pass runs in a
worker thread and the event loop stays free for the API.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection, Engine

from tickwork.clock import Clock
from tickwork.errors import StoreUnavailable
from tickwork.ids import IdGenerator
from tickwork.schedule.misfire import DEFAULT_GRACE
from tickwork.schedule.rules import ScheduleRules, rules_from_stored
from tickwork.scheduler.firing import Settlement, settle_many
from tickwork.scheduler.record import record_settlements
from tickwork.store.changes import ChangeListener
from tickwork.store.errors import translated_errors
from tickwork.store.executions import SqlExecutionStore
from tickwork.store.protocols import DueSchedule, NewExecution
from tickwork.store.schedules import SqlScheduleStore
from tickwork.wakeups import set_from_any_thread

__all__ = ["FireReport", "RulesCache", "Scheduler"]

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 2000
"""Schedules claimed, settled and written per transaction. Each batch costs a few round
trips and statements whatever its size; at 2,000 a burst of 10,000 spends less on them
than at 1,000 (about a tenth faster), and still writes one batch while the next is planned."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_RETRY_AFTER_BUSY = timedelta(milliseconds=50)
"""When due rows are locked by another scheduler: look again this soon."""
PREWARM_AHEAD = timedelta(seconds=30)
"""When the next due instant is at most this far ahead, the rules of the schedules due then
are built while the loop waits for it, so that firing them only claims, settles and writes
(building them is a third of a burst's cost). One read, no lock, nothing written."""
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


@dataclass(frozen=True, slots=True)
class _Batch:
    """One claimed and settled batch, waiting to be written in its transaction."""

    due: Sequence[DueSchedule]
    settlements: list[Settlement]
    now: datetime
    new_id: Callable[[], uuid.UUID]


def _discard(conn: Connection) -> None:
    """Close ``conn``, rolling back its transaction; a failure to do so adds nothing."""
    with contextlib.suppress(Exception):
        conn.close()


class _CollectorPause:
    """Keeps Python's cyclic garbage collector off while at least one pass runs.

    A burst allocates a few objects per fire, and the collector runs every 700 of them;
    now and then it walks every object the process holds (the cached rules of thousands of
    schedules among them). For a burst of 10,000 fires that was a sixth of the pass. A
    pass makes no reference cycles that must go at once: whatever it leaves is collected
    by the first collection after it. Counted, so that passes of two schedulers in one
    process (tests do that) turn it back on only when the last ends, and only if it was on.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._passes = 0
        self._was_enabled = False

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        with self._lock:
            if self._passes == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._passes += 1
        try:
            yield
        finally:
            with self._lock:
                self._passes -= 1
                if self._passes == 0 and self._was_enabled:
                    gc.enable()


_COLLECTOR_PAUSE = _CollectorPause()
"""One for the process, as the collector is."""


def _unix_ms(instant: datetime) -> int:
    return (instant - _EPOCH) // timedelta(milliseconds=1)


class RulesCache:
    """Rules by schedule id, rebuilt when the revision changes; least recently used go first.

    Bounded so that 100,000 schedules do not keep 100,000 parsed expressions alive.
    """

    def __init__(self, size: int = 20_000) -> None:
        self._size = size
        self._entries: OrderedDict[uuid.UUID, tuple[int, ScheduleRules]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def size(self) -> int:
        """How many rules it keeps at most."""
        return self._size

    def cached(self, schedule_id: uuid.UUID, revision: int) -> ScheduleRules | None:
        """The rules of that revision, if they are here."""
        with self._lock:
            entry = self._entries.get(schedule_id)
            if entry is None or entry[0] != revision:
                return None
            self._entries.move_to_end(schedule_id)
            return entry[1]

    def build(
        self,
        schedule_id: uuid.UUID,
        revision: int,
        created_at: datetime,
        document: Mapping[str, Any],
    ) -> ScheduleRules:
        """The rules of ``document`` (that revision of the schedule), kept for next time."""
        rules = rules_from_stored(document, schedule_id=schedule_id, created_at=created_at)
        with self._lock:
            self._entries[schedule_id] = (revision, rules)
            self._entries.move_to_end(schedule_id)
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
        with _COLLECTOR_PAUSE.held():
            return self._fire_due()

    def _fire_due(self) -> FireReport:
        report = FireReport()
        started = self._clock.now()
        while True:
            conn = self._connect()
            batch = self._plan_batch(conn, started)
            if batch is None or len(batch.due) < self._batch_size:
                self._write_batch(conn, batch, report)
                return report
            if self._engine.dialect.name != "postgresql":
                self._write_batch(conn, batch, report)
                continue
            # A full batch: more may be due. Claiming and settling the next one while this
            # one is written keeps both the database and this process busy.
            return self._fire_overlapped(conn, batch, report, started)

    def _fire_overlapped(
        self, conn: Connection, first: _Batch, report: FireReport, started: datetime
    ) -> FireReport:
        """PostgreSQL: batch N is written and committed in a second thread while N+1 is
        claimed and settled on another connection. ``SKIP LOCKED`` keeps the two claims
        apart (N's rows stay locked until it commits), as it does for two schedulers."""
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="scheduler-write") as writer:
            writing = writer.submit(self._write_batch, conn, first, report)
            batch: _Batch | None = first
            try:
                while batch is not None and len(batch.due) == self._batch_size:
                    conn = self._connect()
                    batch = self._plan_batch(conn, started)
                    try:
                        writing.result()
                    except BaseException:
                        _discard(conn)
                        raise
                    writing = writer.submit(self._write_batch, conn, batch, report)
            finally:
                wait([writing])
            writing.result()
        return report

    def _connect(self) -> Connection:
        with translated_errors():
            return self._engine.connect()

    def _plan_batch(self, conn: Connection, started: datetime) -> _Batch | None:
        """Begin a transaction on ``conn``, claim up to a batch of due schedules and settle
        them; None (transaction still open) when nothing is due. ``conn`` is closed on error."""
        try:
            with translated_errors():
                conn.begin()
                due = self._schedules.claim_due_brief(conn, self._clock.now(), self._batch_size)
                if not due:
                    return None
                rules_of = self._rules_of(conn, due)
                counts = self._executions.count_active_many(conn, [s.id for s in due])
        except BaseException:
            _discard(conn)
            raise
        now = self._clock.now()  # after the claim, so lateness includes the query
        # Time spent on earlier batches of this pass is the loop's own delay, not a misfire:
        # an instant due when the pass began is as on time in its last batch as in its first.
        grace = DEFAULT_GRACE + max(now - started, timedelta(0))
        new_id = functools.partial(self._ids.new, _unix_ms(now))
        try:
            settlements = settle_many(due, rules_of, now, counts, new_id, grace=grace)
        except BaseException:
            _discard(conn)
            raise
        return _Batch(due, settlements, now, new_id)

    def _write_batch(self, conn: Connection, batch: _Batch | None, report: FireReport) -> None:
        """Write a planned batch in its transaction and commit; always closes ``conn``."""
        try:
            with translated_errors():
                if batch is not None:
                    self._record(conn, batch, report)
                conn.commit()
        finally:
            conn.close()

    def _record(self, conn: Connection, batch: _Batch, report: FireReport) -> None:
        settlements = batch.settlements
        report.inserted += record_settlements(
            conn, self._executions, settlements, now=batch.now, new_id=batch.new_id
        )
        rows = [row for s in settlements for row in s.executions]
        report.batches += 1
        report.schedules += len(settlements)
        report.missed_ranges += sum(len(s.missed_ranges) for s in settlements)
        report.executions.extend(rows)
        if self._on_fired is not None and rows:
            self._on_fired(rows)

    def _rules_of(
        self, conn: Connection, due: Sequence[DueSchedule]
    ) -> dict[uuid.UUID, ScheduleRules]:
        """Each schedule's rules: from the cache, else built from its document (fetched for
        those only: decoding ten thousand documents is most of a burst's claim)."""
        found = {s.id: self._rules.cached(s.id, s.revision) for s in due}
        missing = [s for s in due if found[s.id] is None]
        documents = self._schedules.documents(conn, [s.id for s in missing])
        for schedule in missing:
            # The row is locked (or written only under the writer gate on SQLite): the
            # document read now is the one of the claimed revision.
            _, document = documents[schedule.id]
            found[schedule.id] = self._rules.build(
                schedule.id, schedule.revision, schedule.created_at, document
            )
        return {schedule_id: rules for schedule_id, rules in found.items() if rules is not None}

    def prewarm(self, until: datetime) -> int:
        """Build the rules of the schedules due by ``until`` that are not cached, soonest
        first, a batch at a time until ``until`` comes; return how many were built.

        At most half the cache, so that building does not evict what the pass will use.
        """
        with translated_errors(), self._engine.connect() as conn:
            due = self._schedules.due_brief(conn, until, self._rules.size // 2)
            missing = [s for s in due if self._rules.cached(s.id, s.revision) is None]
            built = 0
            for first in range(0, len(missing), self._batch_size):
                if self._clock.now() >= until:
                    break
                chunk = missing[first : first + self._batch_size]
                documents = self._schedules.documents(conn, [s.id for s in chunk])
                for schedule in chunk:
                    found = documents.get(schedule.id)
                    if found is not None and found[0] == schedule.revision:
                        self._rules.build(
                            schedule.id, schedule.revision, schedule.created_at, found[1]
                        )
                        built += 1
        return built

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
            elif next_at is not None and next_at - self._clock.now() <= PREWARM_AHEAD:
                await asyncio.to_thread(self._prewarm_quietly, next_at)
            await self._sleep(next_at)

    def _prewarm_quietly(self, until: datetime) -> None:
        try:
            self.prewarm(until)
        except StoreUnavailable as exc:  # only a cache: the pass at ``until`` reads anyway
            log.debug("could not build rules ahead: %s", exc)

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
