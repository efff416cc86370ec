"""One Tickwork process: the store, the scheduler loop, the worker and the services.

``tickwork serve`` builds a :class:`Node`; tests build one on a fake clock. The store is
prepared first: on the embedded SQLite default the schema is migrated in place (there is
no one else to do it); on PostgreSQL, where several nodes share the database, migrating
is an explicit step (``tickwork db upgrade``) and a node refuses to start on an old schema.

Wiring: the scheduler's fires and the services' manual runs wake the worker at once; a
cancelled run stops at once when this node runs it. On PostgreSQL, ``LISTEN``/``NOTIFY``
carries both kinds of news between nodes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from sqlalchemy.engine import Engine

from tickwork.actions.runners import ActionRunners
from tickwork.clock import Clock, SystemClock
from tickwork.ids import IdGenerator
from tickwork.metrics import NodeMetrics
from tickwork.scheduler.loop import Scheduler
from tickwork.service.apply import ApplyService
from tickwork.service.runs import RunService
from tickwork.service.schedules import ScheduleService
from tickwork.service.workflows import WorkflowService
from tickwork.store import migrate
from tickwork.store.changes import CHANNEL, QUEUE_CHANNEL, ChangeListener
from tickwork.store.engine import create_store_engine, is_postgres, normalize_database_url
from tickwork.store.protocols import NewExecution
from tickwork.store.queue import FinishedRun, SqlQueueStore
from tickwork.worker.loop import Worker, WorkerSettings

__all__ = ["Node", "prepare_store"]


def prepare_store(url: str) -> str:
    """Migrate a SQLite store to head; check that a PostgreSQL one is already there.

    Returns the revision. ``SchemaOutdated`` (PostgreSQL) names the command to run.
    """
    if normalize_database_url(url).get_backend_name() == "sqlite":
        return migrate.upgrade(url) or migrate.head_revision()
    return migrate.require_current(url)


class Node:
    """The parts of a running Tickwork, sharing one engine, clock and id generator."""

    def __init__(
        self,
        url: str,
        *,
        clock: Clock | None = None,
        on_fired: Callable[[Sequence[NewExecution]], None] | None = None,
        on_finished: Callable[[Sequence[FinishedRun]], None] | None = None,
        runners: ActionRunners | None = None,
        worker: WorkerSettings | None = None,
        run_worker: bool = True,
    ) -> None:
        self.url = url
        self.clock = clock or SystemClock()
        self.engine: Engine = create_store_engine(url)
        ids = IdGenerator(self.clock)
        self.queue = SqlQueueStore()
        self.runners = runners or ActionRunners.from_env(self.clock)
        self._on_finished = on_finished
        self.worker = Worker(
            self.engine, self.clock, self.runners, settings=worker, on_finished=self._finished
        )
        self.metrics = NodeMetrics(self._sample)
        self._run_worker = run_worker
        self._schema_current = False
        self._on_fired = on_fired
        # One LISTEN connection wakes both loops (see run()).
        self.scheduler = Scheduler(
            self.engine, self.clock, ids=ids, on_fired=self._fired, listen=False
        )
        self.schedules = ScheduleService(
            self.engine,
            self.clock,
            ids=ids,
            on_change=self.scheduler.wake,
            on_queued=self.worker.wake,
        )
        self.workflows = WorkflowService(self.engine, self.clock, ids=ids)
        self.apply = ApplyService(self.engine, self.schedules, self.workflows)
        self.runs = RunService(
            self.engine,
            self.clock,
            ids=ids,
            on_queued=self.worker.wake,
            on_cancel=self.worker.cancel_local,
        )

    def _fired(self, rows: Sequence[NewExecution]) -> None:
        self.worker.wake()
        self.metrics.fired(rows)
        if self._on_fired is not None:
            self._on_fired(rows)

    def _finished(self, runs: Sequence[FinishedRun]) -> None:
        self.metrics.finished(runs)
        if self._on_finished is not None:
            self._on_finished(runs)

    def _sample(self) -> dict[str, tuple[str, float]]:
        """Gauges read when /metrics is scraped."""
        with self.engine.connect() as conn:
            counts = self.queue.depths(conn)
        return {
            "tickwork_queue_depth": ("Runs waiting to be claimed (queued).", counts.queued),
            "tickwork_running": ("Runs being executed, on every node.", counts.running),
            "tickwork_worker_running": (
                "Runs this node's worker executes now.",
                self.worker.running,
            ),
            "tickwork_circuit_breakers_open": (
                "HTTP targets this node's worker holds runs back from.",
                len(self.worker.breakers.open_targets(self.clock.now())),
            ),
        }

    async def run(self) -> None:
        """Run the scheduler and the worker until :meth:`stop`."""
        listener = None
        if is_postgres(self.engine):
            # Changes and runs queued through other nodes wake this node's loops too.
            listener = ChangeListener(
                self.engine.url,
                self.scheduler.wake,
                CHANNEL,
                more={QUEUE_CHANNEL: self.worker.wake} if self._run_worker else None,
            )
            listener.start()
        try:
            parts = [self.scheduler.run()]
            if self._run_worker:
                parts.append(self.worker.run())
            await asyncio.gather(*parts)
        finally:
            if listener is not None:
                await asyncio.to_thread(listener.stop)
            await self.runners.close()

    def schema_current(self) -> bool:
        """The store is at the schema this Tickwork needs (checked until it is)."""
        if not self._schema_current:
            self._schema_current = migrate.is_current(self.url)
        return self._schema_current

    def stop(self) -> None:
        """Stop firing and claiming, let running work finish, then return from :meth:`run`;
        safe from any thread."""
        self.scheduler.stop()
        self.worker.stop()

    def close(self) -> None:
        self.engine.dispose()
