"""The worker: claim queued runs, run their actions, record how they ended.

* **Claims in batches, runs side by side.** One claim takes as many queued runs as there
  are free slots (``WorkerSettings.slots``); each runs as an asyncio task. Runs claimed
  together start together, so a burst of due webhooks goes out in parallel. While runs
  wait for slots, the next claim comes once a quarter of the slots is free, or
  :data:`CLAIM_LINGER` after the first one freed up, not once per finished run.
* **Records in batches.** A finished attempt joins a buffer that one writer task commits
  in one transaction with whatever else finished meanwhile: at a thousand runs a second,
  that is tens of transactions a second, not thousands.
* **Leases.** Every run it holds is leased; a heartbeat renews the leases and gives up the
  runs it no longer holds (cancelled, or taken over after a stall). The heartbeat also
  recovers runs whose worker died (any node's worker may), and keeps the ``workers`` row.
* **Sleeps until there is work.** The loop wakes when runs are queued (the scheduler and
  the service call :meth:`Worker.wake`; on PostgreSQL a ``NOTIFY`` from another node does),
  when a slot frees up while runs were left waiting, and at the earliest ``not_before``
  of a retry or a held run.
* **Circuit breakers** per HTTP target hold runs (``waiting``, reason ``circuit_open``)
  instead of sending them to a target that keeps failing.
* **Graceful stop.** :meth:`Worker.stop` stops claiming, lets running actions finish until
  the shutdown grace ends, then cancels the rest and hands them back to the queue.

The store is synchronous: claims and writes run in threads, so the event loop stays free
for the actions (and the API).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import random
import secrets
import socket
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import Engine

from tickwork.actions.base import StepContext, StepOutcome
from tickwork.actions.runners import ActionRunners
from tickwork.clock import Clock
from tickwork.errors import StoreUnavailable
from tickwork.schedule.policies import ExecutionStatus
from tickwork.schedule.retry import FailureClass
from tickwork.store.changes import announce_queued
from tickwork.store.errors import translated_errors
from tickwork.store.protocols import ExecutionRecord
from tickwork.store.queue import (
    ClaimedRun,
    FinishedRun,
    HeldRun,
    SqlQueueStore,
    StepRecord,
    WorkerInfo,
)
from tickwork.wakeups import set_from_any_thread
from tickwork.worker.breaker import Admission, BreakerSettings, CircuitBreakers
from tickwork.worker.outcome import UNHEALTHY, complete
from tickwork.worker.plan import AnyAction, PlanError, PlannedStep, Plans

__all__ = ["CIRCUIT_OPEN_REASON", "CLAIM_LINGER", "Worker", "WorkerSettings"]

log = logging.getLogger(__name__)

CIRCUIT_OPEN_REASON = "circuit_open"
_BUSY_RETRY = timedelta(milliseconds=50)
"""Queued runs still due after a claim took fewer than asked: another worker holds them."""
_STORE_BACKOFF = timedelta(seconds=1)
_PROMOTE_EVERY = timedelta(milliseconds=100)
CLAIM_LINGER = timedelta(milliseconds=10)
"""With runs waiting for slots, how long a freed slot may wait for others before a claim
(which claims at once when a quarter of the slots is free). Real time, like the I/O it
batches: it delays a waiting run by this much at most."""


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    """How much a worker runs at once and how it keeps its leases."""

    slots: int = 200
    """Runs in flight at once (webhooks mostly wait on the network, so many fit)."""
    lease: timedelta = timedelta(seconds=30)
    """How long a claimed run is ours without a heartbeat; a dead worker's runs are
    recovered this long after its last one."""
    heartbeat: timedelta = timedelta(seconds=10)
    shutdown_grace: timedelta = timedelta(seconds=30)
    """How long a stopping worker lets running actions finish before cancelling them."""
    breaker: BreakerSettings = field(default_factory=BreakerSettings)

    def __post_init__(self) -> None:
        if self.slots < 1:
            raise ValueError(f"slots must be at least 1 (got {self.slots})")
        if not timedelta(0) < self.heartbeat < self.lease:
            raise ValueError("heartbeat must be positive and shorter than the lease")


class Worker:
    """Runs queued executions from one store; several may share a PostgreSQL store."""

    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        runners: ActionRunners,
        *,
        settings: WorkerSettings | None = None,
        worker_id: str | None = None,
        rand: Callable[[], float] | None = None,
        on_finished: Callable[[Sequence[FinishedRun]], None] | None = None,
    ) -> None:
        self.settings = settings or WorkerSettings()
        self.id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self._engine = engine
        self._clock = clock
        self._runners = runners
        self._rand = rand or random.Random().random
        self._on_finished = on_finished
        self._queue = SqlQueueStore()
        self._plans = Plans()
        self.breakers = CircuitBreakers(self.settings.breaker)
        self._tasks: dict[uuid.UUID, asyncio.Task[None]] = {}
        self._held: set[uuid.UUID] = set()  # claimed and not yet recorded as ended
        self._dropped: set[uuid.UUID] = set()  # cancelled or lost: record nothing
        self._finished: list[FinishedRun] = []
        self._holds: list[HeldRun] = []
        self._handed_back: list[uuid.UUID] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        self._flush = asyncio.Event()
        self._stop = asyncio.Event()
        self._asleep = False
        self._backlog = False
        self._claim_batch = max(1, self.settings.slots // 4)
        self._linger: asyncio.TimerHandle | None = None
        self._writing = False
        self._beating = 0  # beats in progress: the heartbeat loop's, and a caller's
        self._started = False
        self._stopping = False
        self._promoted_at: datetime | None = None

    # ----------------------------------------------------------------------------------
    # Control

    def wake(self) -> None:
        """Runs may be claimable: look now. Safe to call from any thread."""
        set_from_any_thread(self._loop, self._wake)

    def stop(self) -> None:
        """Stop claiming; finish (or hand back) what runs; return from :meth:`run`."""
        self._stopping = True  # seen by run() if it has not started yet
        set_from_any_thread(self._loop, self._stop)
        self.wake()

    def cancel_local(self, execution_id: uuid.UUID) -> bool:
        """Stop a run this worker is executing (its row was already set ``cancelled``)."""
        loop = self._loop
        if loop is None or loop.is_closed() or execution_id not in self._tasks:
            return False
        loop.call_soon_threadsafe(self._drop, execution_id)
        return True

    def _drop(self, execution_id: uuid.UUID) -> None:
        task = self._tasks.get(execution_id)
        self._dropped.add(execution_id)
        self._held.discard(execution_id)
        if task is not None:
            task.cancel()

    @property
    def running(self) -> int:
        """Runs in flight in this worker now."""
        return len(self._tasks)

    @property
    def started(self) -> bool:
        """True while :meth:`run` is claiming (for readiness checks)."""
        return self._started and not self._stop.is_set()

    # ----------------------------------------------------------------------------------
    # The loop

    async def run(self) -> None:
        """Claim and run until :meth:`stop`; then finish or hand back what is running."""
        self._loop = asyncio.get_running_loop()
        if self._stopping:
            self._stop.set()
        await self._store(self._register)
        writer = asyncio.create_task(self._write_loop(), name="tickwork-worker-writer")
        heartbeat = asyncio.create_task(self._heartbeat_loop(), name="tickwork-worker-heartbeat")
        self._started = True
        try:
            await self._claim_loop()
        finally:
            if self._linger is not None:
                self._linger.cancel()
            await self._shut_down()
            heartbeat.cancel()
            self._flush.set()
            self._stop.set()
            await asyncio.gather(heartbeat, return_exceptions=True)
            await writer
            with contextlib.suppress(StoreUnavailable):
                await asyncio.to_thread(self._write_stopped)

    async def _claim_loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            if self._linger is not None:
                self._linger.cancel()
                self._linger = None
            free = self.settings.slots - len(self._tasks)
            wake_at: datetime | None = None
            if free > 0:
                try:
                    claimed, wake_at = await asyncio.to_thread(self._claim, free)
                except StoreUnavailable as exc:
                    log.warning("worker: store unavailable, retrying: %s", exc)
                    await self._sleep(self._clock.now() + _STORE_BACKOFF)
                    continue
                self._backlog = len(claimed) == free
                for run in claimed:
                    self._start(run)
                if self._backlog:
                    await asyncio.sleep(0)  # let the new tasks start before claiming more
                    continue
            else:
                self._backlog = True
            await self._sleep(wake_at)

    def _claim(self, free: int) -> tuple[list[ClaimedRun], datetime | None]:
        now = self._clock.now()
        with translated_errors(), self._engine.begin() as conn:
            # Retries and held runs come due on a timer: looking for them once per
            # _PROMOTE_EVERY is plenty, and saves a statement on most claims of a burst.
            if self._promoted_at is None or now - self._promoted_at >= _PROMOTE_EVERY:
                self._queue.promote_due(conn, now)
                self._promoted_at = now
            claimed = self._queue.claim(
                conn,
                now=now,
                worker_id=self.id,
                lease_until=now + self.settings.lease,
                limit=free,
            )
            if len(claimed) == free:
                return claimed, None
            wake_at = self._queue.next_due_at(conn)
        if wake_at is not None and wake_at <= now:
            wake_at = now + _BUSY_RETRY
        return claimed, wake_at

    async def _sleep(self, until: datetime | None) -> None:
        self._asleep = True
        try:
            if until is None:
                await self._wake.wait()
            else:
                await self._clock.sleep_until(until, self._wake)
        finally:
            self._asleep = False

    def _start(self, claimed: ClaimedRun) -> None:
        run_id = claimed.execution.id
        self._held.add(run_id)
        task = asyncio.create_task(self._execute(claimed), name=f"tickwork-run-{run_id}")
        self._tasks[run_id] = task
        task.add_done_callback(functools.partial(self._task_done, run_id))

    def _task_done(self, run_id: uuid.UUID, _task: asyncio.Task[None]) -> None:
        self._tasks.pop(run_id, None)
        if not self._backlog:
            return
        # Runs are waiting for slots. Claim once a batch's worth is free, or shortly after
        # the first slot freed up: not one claim (a transaction) per finished run.
        if self.settings.slots - len(self._tasks) >= self._claim_batch:
            self._wake.set()
        elif self._linger is None and self._loop is not None:
            self._linger = self._loop.call_later(CLAIM_LINGER.total_seconds(), self._lingered)

    def _lingered(self) -> None:
        self._linger = None
        self._wake.set()

    # ----------------------------------------------------------------------------------
    # One run

    async def _execute(self, claimed: ClaimedRun) -> None:
        run = claimed.execution
        started = self._clock.now()
        try:
            plan = self._plans.get(claimed.plan, run.max_attempts, workflow=claimed.workflow)
        except PlanError as exc:
            self._record(
                FinishedRun(
                    execution_id=run.id,
                    status=ExecutionStatus.FAILED,
                    finished_at=started,
                    schedule_name=run.schedule_name,
                    error=str(exc),
                )
            )
            return
        # An open circuit on the first step's target holds the whole run back (not an
        # attempt); a later step meeting one fails the attempt like a refused connection.
        first_target = _http_target(plan.steps[0].action)
        first_admission = None
        if first_target is not None:
            first_admission = self.breakers.admit(first_target, started)
            if not first_admission.allowed:
                assert first_admission.retry_at is not None
                self._hold(run.id, first_target, first_admission.retry_at)
                return
        records: list[StepRecord] = []
        results: dict[str, Any] = {}
        outcome: StepOutcome | None = None
        for index, step in enumerate(plan.steps):
            step_started = self._clock.now()
            context = StepContext(
                execution_id=run.id,
                scheduled_for=run.scheduled_for,
                attempt=run.attempt,
                schedule_id=run.schedule_id,
                schedule_name=run.schedule_name,
                namespace=run.namespace,
                input=run.input,
                timeout=step.timeout,
                steps=results,
            )
            admitted = first_admission if index == 0 else None
            outcome = await self._step(run.id, step, context, admitted)
            if outcome is None:  # cancelled: recorded elsewhere, or handed back
                return
            records.append(_step_record(run, step.name, outcome, step_started, self._clock.now()))
            results[step.name] = {"ok": outcome.ok, "result": outcome.result}
            if not outcome.ok:
                break
        assert outcome is not None
        finished_at = self._clock.now()
        completion = complete(
            outcome, attempt=run.attempt, policy=plan.retry, now=finished_at, rand=self._rand
        )
        result: Any = None
        if outcome.ok:
            result = outcome.result if plan.single else {n: r["result"] for n, r in results.items()}
        failed_step = (
            "" if outcome.ok or plan.single else f"step {plan.steps[len(records) - 1].name}: "
        )
        self._record(
            FinishedRun(
                execution_id=run.id,
                status=completion.status,
                finished_at=finished_at,
                schedule_name=run.schedule_name,
                error=None if completion.error is None else failed_step + completion.error,
                result=result,
                not_before=completion.not_before,
                pause_after_failures=plan.pause_after_failures,
                steps=tuple(records),
            )
        )

    async def _step(
        self,
        run_id: uuid.UUID,
        step: PlannedStep,
        context: StepContext,
        admission: Admission | None = None,
    ) -> StepOutcome | None:
        """One step once; None when it was cancelled (the run is dropped or handed back).
        ``admission``: the circuit breaker already let this step through."""
        target = _http_target(step.action)
        probe = False
        if target is not None:
            if admission is None:
                admission = self.breakers.admit(target, self._clock.now())
            if not admission.allowed:
                return StepOutcome(
                    ok=False,
                    failure=FailureClass.CONNECTION,
                    error=f"circuit open for {target} after repeated failures",
                    target=target,
                )
            probe = admission.probe
        try:
            outcome = await self._runners.run(step.action, context)
        except asyncio.CancelledError:
            if probe and target is not None:
                self.breakers.release_probe(target)
            if run_id not in self._dropped:  # shutting down: someone else runs it
                self._handed_back.append(run_id)
            return None
        except Exception as exc:  # a runner bug must not leave the run running forever
            log.exception("worker: step %s of %s raised", step.name, run_id)
            outcome = StepOutcome(
                ok=False, failure=FailureClass.OTHER, error=f"internal error: {exc!r}"
            )
        if target is not None:
            healthy = outcome.ok or outcome.failure not in UNHEALTHY
            self.breakers.record(target, healthy, self._clock.now(), probe=probe)
        return outcome

    def _hold(self, run_id: uuid.UUID, target: str, until: datetime) -> None:
        self._holds.append(
            HeldRun(
                execution_id=run_id,
                reason=CIRCUIT_OPEN_REASON,
                not_before=until,
                error=f"circuit open for {target} after repeated failures; "
                f"next try at {until:%Y-%m-%dT%H:%M:%SZ}",
            )
        )
        self._flush.set()

    def _record(self, finished: FinishedRun) -> None:
        if finished.execution_id in self._dropped:
            return
        self._finished.append(finished)
        self._flush.set()

    # ----------------------------------------------------------------------------------
    # Writing

    async def _write_loop(self) -> None:
        while True:
            if not (self._finished or self._holds):
                if self._stop.is_set() and not self._tasks:
                    return
                await self._flush.wait()
                self._flush.clear()
                continue
            self._writing = True
            try:
                written = await self._write_pending()
            finally:
                self._writing = False
            if not written and self._stop.is_set() and not self._tasks:
                # Stopping and the store is gone: the leases expire and another worker
                # (or this one, restarted) recovers the runs.
                return

    async def _write_pending(self) -> bool:
        finished, self._finished = self._finished, []
        holds, self._holds = self._holds, []
        try:
            released = await asyncio.to_thread(self._write, finished, holds)
        except StoreUnavailable as exc:
            log.warning("worker: could not record %d runs, retrying: %s", len(finished), exc)
            self._finished[:0] = finished
            self._holds[:0] = holds
            await self._clock.sleep_until(self._clock.now() + _STORE_BACKOFF, self._stop)
            return False
        for run in finished:
            self._held.discard(run.execution_id)
        for hold in holds:
            self._held.discard(hold.execution_id)
        # Released runs are claimable now; a retry or a hold is due later: either way the
        # claim loop must look again (it may be asleep with no due instant at all).
        if released or holds or any(r.status is ExecutionStatus.RETRYING for r in finished):
            self._wake.set()
        if self._on_finished is not None and finished:
            self._on_finished(finished)
        return True

    def _write(self, finished: Sequence[FinishedRun], holds: Sequence[HeldRun]) -> int:
        now = self._clock.now()
        with translated_errors(), self._engine.begin() as conn:
            ended = self._queue.finish(conn, self.id, finished, now)
            self._queue.hold(conn, self.id, holds)
            if ended.released:
                announce_queued(conn)
        return ended.released

    # ----------------------------------------------------------------------------------
    # Heartbeat

    async def _heartbeat_loop(self) -> None:
        while not self._stop.is_set():
            await self._clock.sleep_until(self._clock.now() + self.settings.heartbeat, self._stop)
            if self._stop.is_set():
                return
            try:
                await self.beat()
            except StoreUnavailable as exc:
                log.warning("worker: heartbeat failed: %s", exc)

    def _beat(self, held: set[uuid.UUID]) -> tuple[set[uuid.UUID], int]:
        now = self._clock.now()
        with translated_errors(), self._engine.begin() as conn:
            kept = self._queue.renew_leases(conn, self.id, held, now + self.settings.lease)
            self._queue.worker_heartbeat(conn, self.id, now, len(self._tasks), stopped=False)
        with translated_errors(), self._engine.begin() as conn:
            recovered = self._queue.recover_expired(conn, now)
        for run in recovered:
            log.warning("worker: recovered run %s from %s (lease expired)", run.id, run.worker_id)
        # Runs recorded meanwhile are no longer held by anyone: not lost.
        return {i for i in held - kept if i in self._held}, len(recovered)

    async def beat(self) -> None:
        """Renew leases, stop lost runs, recover dead workers' runs (every
        ``settings.heartbeat``; tests call it directly)."""
        self._beating += 1
        try:
            lost, recovered = await asyncio.to_thread(self._beat, set(self._held))
        finally:
            self._beating -= 1
        for run_id in lost:
            log.info("worker: run %s was cancelled or taken over; stopping it", run_id)
            self._drop(run_id)
        if recovered:
            self._wake.set()

    # ----------------------------------------------------------------------------------
    # Start and stop

    def _register(self) -> None:
        now = self._clock.now()
        info = WorkerInfo(
            id=self.id,
            hostname=socket.gethostname(),
            pid=os.getpid(),
            slots=self.settings.slots,
            running=0,
            started_at=now,
            heartbeat_at=now,
            stopped_at=None,
        )
        with translated_errors(), self._engine.begin() as conn:
            self._queue.register_worker(conn, info)

    def _write_stopped(self) -> None:
        with translated_errors(), self._engine.begin() as conn:
            self._queue.worker_heartbeat(conn, self.id, self._clock.now(), 0, stopped=True)

    async def _store(self, call: Callable[[], None]) -> None:
        while True:
            try:
                await asyncio.to_thread(call)
                return
            except StoreUnavailable as exc:
                log.warning("worker: store unavailable, retrying: %s", exc)
                await self._clock.sleep_until(self._clock.now() + _STORE_BACKOFF, self._stop)
                if self._stop.is_set():
                    return

    async def _shut_down(self) -> None:
        tasks = list(self._tasks.values())
        if tasks:
            grace = self.settings.shutdown_grace.total_seconds()
            _done, pending = await asyncio.wait(tasks, timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self._handed_back:
            ids, self._handed_back = self._handed_back, []
            with contextlib.suppress(StoreUnavailable):
                await asyncio.to_thread(self._hand_back, ids)

    def _hand_back(self, ids: Sequence[uuid.UUID]) -> None:
        with translated_errors(), self._engine.begin() as conn:
            if self._queue.hand_back(conn, self.id, ids):
                announce_queued(conn)
        log.info("worker: handed %d unfinished runs back to the queue", len(ids))

    # ----------------------------------------------------------------------------------
    # Tests

    async def until_idle(self) -> None:
        """Return once nothing claimable is left now, nothing runs and everything is
        recorded (for tests that move a fake clock)."""
        while True:
            await asyncio.sleep(0.002)
            quiet = not self._tasks and not self._finished and not self._holds
            busy = self._writing or self._beating > 0 or self._wake.is_set()
            if quiet and self._asleep and not busy:
                return


def _http_target(action: AnyAction) -> str | None:
    """``host:port`` of an http action: the circuit breaker's key."""
    if action.kind != "http":
        return None
    return _target_of(action.url)


@functools.lru_cache(maxsize=4096)
def _target_of(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    return f"{parts.hostname}:{port}"


def _step_record(
    run: ExecutionRecord,
    name: str,
    outcome: StepOutcome,
    started: datetime,
    finished_at: datetime,
) -> StepRecord:
    status = (
        ExecutionStatus.SUCCEEDED
        if outcome.ok
        else ExecutionStatus.TIMED_OUT
        if outcome.failure is FailureClass.TIMEOUT
        else ExecutionStatus.FAILED
    )
    return StepRecord(
        execution_id=run.id,
        step=name,
        attempt=run.attempt,
        status=status,
        started_at=started,
        finished_at=finished_at,
        status_code=outcome.status_code,
        exit_code=outcome.exit_code,
        output=outcome.output,
        output_truncated=outcome.truncated,
        stderr=outcome.stderr,
        failure=None if outcome.failure is None else str(outcome.failure),
        detail=dict(outcome.detail) or None,
        error=outcome.error,
    )
