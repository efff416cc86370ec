"""What holds a run back: concurrency keys, buffered fires, open circuits, failure streaks."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from tickwork.schedule.policies import ExecutionStatus, ScheduleState
from tickwork.testing import FakeClock
from tickwork.worker.breaker import BreakerSettings
from tickwork.worker.loop import CIRCUIT_OPEN_REASON

from . import targets
from .rig import (
    T0,
    get_run,
    http_schedule,
    python_schedule,
    run,
    running_node,
    settings,
    settle,
    shell_schedule,
)
from .sink import Reply, serving

GATED = "tests.integration.worker.targets:wait_for_gate"


async def until_status(node_get: object, *wanted: ExecutionStatus) -> None:
    for _ in range(2000):
        if node_get() in wanted:  # type: ignore[operator]
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never reached {wanted}")


def test_a_concurrency_key_runs_one_at_a_time(store_url: str) -> None:
    async def scenario() -> None:
        targets.GATE.clear()
        async with running_node(store_url, FakeClock(T0)) as node:
            first = node.schedules.create(
                python_schedule("first", GATED, concurrency_key="warehouse")
            )
            second = node.schedules.create(
                shell_schedule("second", ["true"], concurrency_key="warehouse")
            )
            free = node.schedules.create(shell_schedule("free", ["true"]))
            a, _ = node.schedules.trigger_now(first.id)
            await until_status(lambda: get_run(node, a.id).status, ExecutionStatus.RUNNING)
            b, _ = node.schedules.trigger_now(second.id)
            c, _ = node.schedules.trigger_now(free.id)
            await until_status(lambda: get_run(node, c.id).status, ExecutionStatus.SUCCEEDED)

            held = get_run(node, b.id)
            assert (held.status, held.reason) == (ExecutionStatus.WAITING, "concurrency")

            targets.GATE.set()
            await settle(node)
            assert get_run(node, a.id).status is ExecutionStatus.SUCCEEDED
            assert get_run(node, b.id).status is ExecutionStatus.SUCCEEDED

    run(scenario)


def test_a_buffered_fire_starts_when_the_running_one_ends(store_url: str) -> None:
    async def scenario() -> None:
        targets.GATE.clear()
        clock = FakeClock(T0)
        async with running_node(store_url, clock) as node:
            schedule = node.schedules.create(
                python_schedule(
                    "serial", GATED, trigger={"cron": "* * * * *"}, overlap="buffer_all"
                )
            )
            clock.advance(timedelta(minutes=1))
            await node.scheduler.until_idle()
            [first] = node.schedules.executions(schedule.id)
            await until_status(lambda: get_run(node, first.id).status, ExecutionStatus.RUNNING)

            clock.advance(timedelta(minutes=1))
            await node.scheduler.until_idle()
            second = next(e for e in node.schedules.executions(schedule.id) if e.id != first.id)
            assert second.status is ExecutionStatus.BUFFERED

            targets.GATE.set()
            await settle(node)
            assert get_run(node, first.id).status is ExecutionStatus.SUCCEEDED
            assert get_run(node, second.id).status is ExecutionStatus.SUCCEEDED

    run(scenario)


def test_an_open_circuit_holds_runs_until_a_probe_succeeds(store_url: str) -> None:
    async def scenario() -> None:
        clock = FakeClock(T0)
        breaker = BreakerSettings(failure_threshold=2, open_for=timedelta(seconds=30))
        async with (
            serving() as sink,
            running_node(store_url, clock, settings(breaker=breaker)) as node,
        ):
            schedule = node.schedules.create(
                http_schedule("fragile", sink.url, retry={"max_attempts": 1})
            )
            sink.script(Reply(503, "down"), Reply(503, "down"), Reply(200, "{}"))
            failed = []
            for _ in range(2):
                triggered, _ = node.schedules.trigger_now(schedule.id)
                await settle(node)
                failed.append(get_run(node, triggered.id).status)
            assert failed == [ExecutionStatus.FAILED, ExecutionStatus.FAILED]

            held_run, _ = node.schedules.trigger_now(schedule.id)
            await settle(node)
            held = get_run(node, held_run.id)
            assert (held.status, held.reason) == (ExecutionStatus.WAITING, CIRCUIT_OPEN_REASON)
            assert held.not_before == T0 + timedelta(seconds=30)
            assert "circuit open for 127.0.0.1" in (held.error or "")
            assert held.attempt == 1  # held, not attempted
            assert len(sink.received) == 2

            clock.advance(timedelta(seconds=30))
            await settle(node)
            assert get_run(node, held_run.id).status is ExecutionStatus.SUCCEEDED
            assert len(sink.received) == 3
            assert node.worker.breakers.open_targets(clock.now()) == []

    run(scenario)


def test_a_failure_streak_pauses_the_schedule(store_url: str) -> None:
    async def scenario() -> None:
        async with running_node(store_url, FakeClock(T0)) as node:
            schedule = node.schedules.create(
                shell_schedule(
                    "brittle", ["false"], retry={"max_attempts": 1}, pause_after_failures=2
                )
            )
            for _ in range(2):
                node.schedules.trigger_now(schedule.id)
                await settle(node)
            paused = node.schedules.get(schedule.id)
            assert paused.state is ScheduleState.PAUSED
            assert paused.pause_note == "paused after 2 consecutive failures"
            assert paused.consecutive_failures == 2

    run(scenario)


def test_a_success_resets_the_failure_streak(store_url: str) -> None:
    async def scenario() -> None:
        async with running_node(store_url, FakeClock(T0)) as node:
            failing = shell_schedule("flip", ["false"], retry={"max_attempts": 1})
            schedule = node.schedules.create({**failing, "pause_after_failures": 2})
            node.schedules.trigger_now(schedule.id)
            await settle(node)
            assert node.schedules.get(schedule.id).consecutive_failures == 1
            node.schedules.update(
                schedule.id, {**failing, "action": {"kind": "shell", "argv": ["true"]}}
            )
            node.schedules.trigger_now(schedule.id)
            await settle(node)
            again = node.schedules.get(schedule.id)
            assert (again.consecutive_failures, again.state) == (0, ScheduleState.ACTIVE)

    run(scenario)
