"""A node (scheduler + worker) on a fresh store and a fake clock, driven inside one test."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tickwork import eventloop
from tickwork.node import Node
from tickwork.store.protocols import ExecutionRecord
from tickwork.store.queue import StepRecord
from tickwork.store.tables import executions
from tickwork.testing import FakeClock
from tickwork.worker.breaker import BreakerSettings
from tickwork.worker.loop import WorkerSettings

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
HANG_GUARD_S = 30
FAST_RETRY = {"max_attempts": 3, "initial_interval": "10s", "multiplier": 2.0, "jitter": False}


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    """Run an async test body on a fresh event loop of the kind ``tickwork serve`` runs,
    with a guard against a hang."""

    async def guarded() -> None:
        await asyncio.wait_for(scenario(), HANG_GUARD_S)

    eventloop.run(guarded())


def settings(**overrides: Any) -> WorkerSettings:
    values: dict[str, Any] = {
        "slots": 20,
        "lease": timedelta(seconds=30),
        "heartbeat": timedelta(seconds=10),
        "shutdown_grace": timedelta(seconds=5),
        "breaker": BreakerSettings(failure_threshold=0),
    }
    values.update(overrides)
    return WorkerSettings(**values)


@asynccontextmanager
async def running_node(
    url: str, clock: FakeClock, worker: WorkerSettings | None = None
) -> AsyncIterator[Node]:
    """A node running in a task for the duration of the block; stopped after it."""
    node = Node(url, clock=clock, worker=worker or settings())
    task = asyncio.create_task(node.run())
    try:
        await settle(node)
        yield node
    finally:
        node.stop()
        await task
        node.close()


async def settle(node: Node) -> None:
    """Wait until the scheduler and the worker have handled everything due now."""
    for _ in range(3):  # a fire queues a run; a finished run may release another
        await node.scheduler.until_idle()
        await node.worker.until_idle()


def http_schedule(name: str, url: str, **fields: Any) -> dict[str, Any]:
    """A schedule that never fires by itself (yearly), posting to ``url``."""
    document: dict[str, Any] = {
        "name": name,
        "trigger": {"cron": "0 0 1 1 *"},
        "retry": FAST_RETRY,
        "action": {"kind": "http", "url": url, "body": {"n": "{{ input.n }}"}},
        "input": {"n": 1},
    }
    document.update(fields)
    return document


def shell_schedule(name: str, argv: list[str], **fields: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "name": name,
        "trigger": {"cron": "0 0 1 1 *"},
        "retry": FAST_RETRY,
        "action": {"kind": "shell", "argv": argv},
    }
    document.update(fields)
    return document


def python_schedule(name: str, target: str, **fields: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "name": name,
        "trigger": {"cron": "0 0 1 1 *"},
        "retry": FAST_RETRY,
        "action": {"kind": "python", "target": target},
    }
    document.update(fields)
    return document


def get_run(node: Node, run_id: uuid.UUID) -> ExecutionRecord:
    return node.runs.get(run_id).execution


def steps(node: Node, run_id: uuid.UUID) -> list[StepRecord]:
    return node.runs.get(run_id).steps


def statuses(engine: Engine) -> dict[str, int]:
    """How many runs are in each status."""
    c = executions.c
    with engine.connect() as conn:
        rows = conn.execute(sa.select(c.status, sa.func.count()).group_by(c.status))
        return {status: count for status, count in rows}
