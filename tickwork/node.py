"""One Tickwork process: the store, the scheduler loop and the services, wired together.

``tickwork serve`` builds a :class:`Node`; tests build one on a fake clock. The store is
prepared first: on the embedded SQLite default the schema is migrated in place (there is
no one else to do it); on PostgreSQL, where several nodes share the database, migrating
is an explicit step (``tickwork db upgrade``) and a node refuses to start on an old schema.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy.engine import Engine

from tickwork.clock import Clock, SystemClock
from tickwork.ids import IdGenerator
from tickwork.scheduler.loop import Scheduler
from tickwork.service.schedules import ScheduleService
from tickwork.store import migrate
from tickwork.store.engine import create_store_engine, normalize_database_url
from tickwork.store.protocols import NewExecution

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
    ) -> None:
        self.url = url
        self.clock = clock or SystemClock()
        self.engine: Engine = create_store_engine(url)
        ids = IdGenerator(self.clock)
        self.scheduler = Scheduler(self.engine, self.clock, ids=ids, on_fired=on_fired)
        self.schedules = ScheduleService(
            self.engine, self.clock, ids=ids, on_change=self.scheduler.wake
        )

    async def run(self) -> None:
        """Run until :meth:`stop`."""
        await self.scheduler.run()

    def stop(self) -> None:
        """Finish the current pass and return from :meth:`run`; safe from any thread."""
        self.scheduler.stop()

    def close(self) -> None:
        self.engine.dispose()
