"""Leases, cancellation and shutdown: a run is never left ``running`` by a worker that is gone."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from tickwork.errors import Conflict
from tickwork.node import Node
from tickwork.schedule.policies import ExecutionStatus
from tickwork.service.runs import RunService
from tickwork.store.queue import LEASE_LOST_REASON, SHUTDOWN_REASON, SqlQueueStore
from tickwork.testing import FakeClock

from .rig import T0, get_run, run, running_node, settings, settle, shell_schedule, steps


async def until(check: Callable[[], bool], what: str) -> None:
    """Wait for a real process to reach a state (a deadline guards it)."""
    for _ in range(2000):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def pid_alive(pid: int) -> bool:
    """True while the process runs (a zombie waiting to be reaped does not count)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def sleeper(tmp_path: Path, name: str) -> tuple[dict[str, object], Path]:
    """A shell schedule whose run writes its pid, then sleeps (in a child of the child)."""
    pidfile = tmp_path / f"{name}.pid"
    script = f"sleep 30 & echo $! > {pidfile}; wait"
    return shell_schedule(name, ["sh", "-c", script], retry={"max_attempts": 1}), pidfile


def test_a_run_whose_worker_died_is_recovered_as_a_new_attempt(store_url: str) -> None:
    async def scenario() -> None:
        clock = FakeClock(T0)
        node = Node(store_url, clock=clock, worker=settings())
        schedule = node.schedules.create(shell_schedule("job", ["true"]))
        triggered, _ = node.schedules.trigger_now(schedule.id)
        # A worker on another node claims it, then dies without a word.
        with node.engine.begin() as conn:
            [claimed] = SqlQueueStore().claim(
                conn, now=T0, worker_id="gone:1", lease_until=T0 + timedelta(seconds=30), limit=5
            )
        node.close()
        assert claimed.execution.id == triggered.id

        async with running_node(store_url, clock) as survivor:
            clock.advance(timedelta(seconds=29))
            await survivor.worker.beat()
            assert get_run(survivor, triggered.id).status is ExecutionStatus.RUNNING

            clock.advance(timedelta(seconds=2))  # past the lease
            await survivor.worker.beat()
            await settle(survivor)

            done = get_run(survivor, triggered.id)
            assert (done.status, done.attempt) == (ExecutionStatus.SUCCEEDED, 2)
            lost, ran = steps(survivor, triggered.id)
            assert (lost.attempt, lost.failure) == (1, "lost")
            assert "gone:1 stopped renewing its lease" in (lost.error or "")
            assert (ran.attempt, ran.status) == (2, ExecutionStatus.SUCCEEDED)

    run(scenario)


def test_a_lost_run_with_no_attempt_left_is_dead(store_url: str) -> None:
    async def scenario() -> None:
        clock = FakeClock(T0)
        node = Node(store_url, clock=clock, worker=settings())
        schedule = node.schedules.create(
            shell_schedule("once", ["true"], retry={"max_attempts": 1})
        )
        triggered, _ = node.schedules.trigger_now(schedule.id)
        with node.engine.begin() as conn:
            SqlQueueStore().claim(
                conn, now=T0, worker_id="gone:2", lease_until=T0 + timedelta(seconds=30), limit=5
            )
        node.close()

        async with running_node(store_url, clock) as survivor:
            clock.advance(timedelta(minutes=1))
            await survivor.worker.beat()
            await settle(survivor)
            done = get_run(survivor, triggered.id)
            assert (done.status, done.reason) == (ExecutionStatus.DEAD, LEASE_LOST_REASON)

    run(scenario)


def test_cancelling_a_running_run_kills_its_process_group(store_url: str, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_node(store_url, FakeClock(T0)) as node:
            document, pidfile = sleeper(tmp_path, "long")
            schedule = node.schedules.create(document)
            triggered, _ = node.schedules.trigger_now(schedule.id)
            await until(lambda: pidfile.exists() and pidfile.read_text().strip() != "", "pid")
            grandchild = int(pidfile.read_text())
            assert get_run(node, triggered.id).status is ExecutionStatus.RUNNING

            cancelled = node.runs.cancel(triggered.id)
            assert cancelled.status is ExecutionStatus.CANCELLED
            await settle(node)

            await until(lambda: not pid_alive(grandchild), "the grandchild to die")
            done = get_run(node, triggered.id)
            assert (done.status, done.reason) == (ExecutionStatus.CANCELLED, "cancelled_by_user")
            assert steps(node, triggered.id) == []  # nothing ran to an outcome

    run(scenario)


def test_a_run_cancelled_on_another_node_stops_at_the_next_heartbeat(
    store_url: str, tmp_path: Path
) -> None:
    async def scenario() -> None:
        clock = FakeClock(T0)
        async with running_node(store_url, clock) as node:
            document, pidfile = sleeper(tmp_path, "remote")
            schedule = node.schedules.create(document)
            triggered, _ = node.schedules.trigger_now(schedule.id)
            await until(lambda: pidfile.exists() and pidfile.read_text().strip() != "", "pid")
            grandchild = int(pidfile.read_text())

            elsewhere = RunService(node.engine, clock)  # no line to this node's worker
            elsewhere.cancel(triggered.id)
            assert pid_alive(grandchild)

            await node.worker.beat()
            await settle(node)
            await until(lambda: not pid_alive(grandchild), "the grandchild to die")
            assert get_run(node, triggered.id).status is ExecutionStatus.CANCELLED

    run(scenario)


def test_stopping_lets_short_runs_finish_and_hands_long_ones_back(
    store_url: str, tmp_path: Path
) -> None:
    async def scenario() -> None:
        clock = FakeClock(T0)
        node = Node(
            store_url, clock=clock, worker=settings(shutdown_grace=timedelta(milliseconds=500))
        )
        task = asyncio.create_task(node.run())
        document, pidfile = sleeper(tmp_path, "long")
        long = node.schedules.create(document)
        short = node.schedules.create(
            shell_schedule("short", ["sh", "-c", "sleep 0.2"], retry={"max_attempts": 1})
        )
        long_run, _ = node.schedules.trigger_now(long.id)
        short_run, _ = node.schedules.trigger_now(short.id)
        await until(lambda: pidfile.exists() and pidfile.read_text().strip() != "", "pid")
        grandchild = int(pidfile.read_text())

        node.stop()
        await task

        assert get_run(node, short_run.id).status is ExecutionStatus.SUCCEEDED
        handed = get_run(node, long_run.id)
        assert (handed.status, handed.reason, handed.attempt) == (
            ExecutionStatus.QUEUED,
            SHUTDOWN_REASON,
            1,
        )
        assert handed.worker_id is None
        await until(lambda: not pid_alive(grandchild), "the grandchild to die")
        node.close()

    run(scenario)


def test_cancelling_an_ended_run_is_refused_and_a_rerun_is_a_new_run(store_url: str) -> None:
    async def scenario() -> None:
        async with running_node(store_url, FakeClock(T0)) as node:
            schedule = node.schedules.create(
                shell_schedule("fails", ["sh", "-c", "exit 1"], retry={"max_attempts": 1})
            )
            triggered, _ = node.schedules.trigger_now(schedule.id)
            await settle(node)
            assert get_run(node, triggered.id).status is ExecutionStatus.FAILED

            with pytest.raises(Conflict, match=r"has already ended \(failed\)"):
                node.runs.cancel(triggered.id)

            again = node.runs.rerun(triggered.id)
            assert again.id != triggered.id
            assert (again.trigger.value, again.scheduled_for) == ("retry", triggered.scheduled_for)
            await settle(node)
            assert get_run(node, again.id).status is ExecutionStatus.FAILED
            assert get_run(node, triggered.id).status is ExecutionStatus.FAILED

    run(scenario)


def test_a_stop_before_the_node_runs_makes_it_return_at_once(store_url: str) -> None:
    async def scenario() -> None:
        node = Node(store_url, clock=FakeClock(T0), worker=settings())
        node.stop()  # e.g. SIGTERM while starting up
        await asyncio.wait_for(node.run(), 10)
        assert not node.worker.started
        node.close()

    run(scenario)
