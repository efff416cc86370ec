"""HTTP runs end to end: fired or triggered, sent to a real server, recorded with retries."""

from __future__ import annotations

import json
from datetime import timedelta

from tickwork.schedule.policies import ExecutionStatus
from tickwork.testing import FakeClock

from .rig import T0, get_run, http_schedule, run, running_node, settle, steps
from .sink import Reply, serving


def test_a_triggered_webhook_succeeds_and_records_the_response(store_url: str) -> None:
    async def scenario() -> None:
        async with serving() as sink, running_node(store_url, FakeClock(T0)) as node:
            schedule = node.schedules.create(http_schedule("hook", sink.url))
            sink.script(Reply(200, '{"received": 1}'))
            triggered, _ = node.schedules.trigger_now(schedule.id, input={"n": 7})
            await settle(node)

            done = get_run(node, triggered.id)
            assert done.status is ExecutionStatus.SUCCEEDED
            assert done.result == {"received": 1}
            assert done.started_at == T0 and done.finished_at == T0
            [step] = steps(node, triggered.id)
            assert (step.status, step.status_code, step.attempt) == (
                ExecutionStatus.SUCCEEDED,
                200,
                1,
            )
            assert step.output == '{"received": 1}'
            [request] = sink.received
            assert request.headers["Idempotency-Key"] == str(triggered.id)
            assert request.headers["X-Tickwork-Scheduled-For"] == "2026-03-02T12:00:00Z"
            assert json.loads(request.body) == {"n": "7"}

    run(scenario)


def test_a_fire_at_its_instant_is_delivered_without_a_trigger(store_url: str) -> None:
    async def scenario() -> None:
        clock = FakeClock(T0)
        async with serving() as sink, running_node(store_url, clock) as node:
            node.schedules.create(
                http_schedule("minutely", sink.url, trigger={"cron": "* * * * *"})
            )
            clock.advance(timedelta(minutes=1))
            await settle(node)

            [request] = sink.received
            assert request.headers["X-Tickwork-Scheduled-For"] == "2026-03-02T12:01:00Z"

    run(scenario)


def test_a_500_is_retried_after_the_backoff_and_then_succeeds(store_url: str) -> None:
    async def scenario() -> None:
        clock = FakeClock(T0)
        async with serving() as sink, running_node(store_url, clock) as node:
            schedule = node.schedules.create(http_schedule("flaky", sink.url))
            sink.script(Reply(500, "oops"), Reply(200, "{}"))
            triggered, _ = node.schedules.trigger_now(schedule.id)
            await settle(node)

            waiting = get_run(node, triggered.id)
            assert waiting.status is ExecutionStatus.RETRYING
            assert waiting.attempt == 2
            assert waiting.not_before == T0 + timedelta(seconds=10)  # initial_interval, no jitter
            assert len(sink.received) == 1

            clock.advance(timedelta(seconds=9))
            await settle(node)
            assert len(sink.received) == 1  # not before the backoff ends

            clock.advance(timedelta(seconds=1))
            await settle(node)
            done = get_run(node, triggered.id)
            assert (done.status, done.attempt) == (ExecutionStatus.SUCCEEDED, 2)
            assert [(s.attempt, s.status, s.status_code) for s in steps(node, triggered.id)] == [
                (1, ExecutionStatus.FAILED, 500),
                (2, ExecutionStatus.SUCCEEDED, 200),
            ]
            # Each attempt carries the same idempotency key: the target can deduplicate.
            keys = {r.headers["Idempotency-Key"] for r in sink.received}
            assert keys == {str(triggered.id)}
            assert [r.headers["X-Tickwork-Attempt"] for r in sink.received] == ["1", "2"]

    run(scenario)


def test_a_429_waits_at_least_its_retry_after(store_url: str) -> None:
    async def scenario() -> None:
        clock = FakeClock(T0)
        async with serving() as sink, running_node(store_url, clock) as node:
            schedule = node.schedules.create(http_schedule("busy", sink.url))
            sink.script(Reply(429, "slow down", headers={"Retry-After": "120"}))
            triggered, _ = node.schedules.trigger_now(schedule.id)
            await settle(node)

            waiting = get_run(node, triggered.id)
            assert waiting.status is ExecutionStatus.RETRYING
            assert waiting.not_before == T0 + timedelta(seconds=120)
            [step] = steps(node, triggered.id)
            assert step.failure == "429"

    run(scenario)


def test_retries_exhausted_make_the_run_dead(store_url: str) -> None:
    async def scenario() -> None:
        clock = FakeClock(T0)
        async with serving() as sink, running_node(store_url, clock) as node:
            schedule = node.schedules.create(http_schedule("down", sink.url))
            sink.script(*(Reply(503, "down") for _ in range(3)))
            triggered, _ = node.schedules.trigger_now(schedule.id)
            for _ in range(3):
                await settle(node)
                clock.advance(timedelta(minutes=1))
            await settle(node)

            done = get_run(node, triggered.id)
            assert (done.status, done.attempt) == (ExecutionStatus.DEAD, 3)
            assert "503" in (done.error or "")
            assert len(sink.received) == 3

    run(scenario)


def test_a_404_is_not_retried(store_url: str) -> None:
    async def scenario() -> None:
        async with serving() as sink, running_node(store_url, FakeClock(T0)) as node:
            schedule = node.schedules.create(http_schedule("gone", sink.url))
            sink.script(Reply(404, "no such hook"))
            triggered, _ = node.schedules.trigger_now(schedule.id)
            await settle(node)

            done = get_run(node, triggered.id)
            assert (done.status, done.attempt) == (ExecutionStatus.FAILED, 1)
            [step] = steps(node, triggered.id)
            assert (step.status_code, step.failure) == (404, "4xx")

    run(scenario)


def test_connection_refused_is_retried_as_a_connection_failure(store_url: str) -> None:
    async def scenario() -> None:
        async with running_node(store_url, FakeClock(T0)) as node:
            schedule = node.schedules.create(http_schedule("nobody", "http://127.0.0.1:9/"))
            triggered, _ = node.schedules.trigger_now(schedule.id)
            await settle(node)

            assert get_run(node, triggered.id).status is ExecutionStatus.RETRYING
            [step] = steps(node, triggered.id)
            assert step.failure == "connection"
            assert step.status_code is None

    run(scenario)


def test_a_slow_target_times_out(store_url: str) -> None:
    async def scenario() -> None:
        async with serving() as sink, running_node(store_url, FakeClock(T0)) as node:
            action = {"kind": "http", "url": sink.url, "timeout": "200ms"}
            schedule = node.schedules.create(
                http_schedule("slow", sink.url, action=action, retry={"max_attempts": 1})
            )
            sink.script(Reply(200, "{}", delay_s=5))
            triggered, _ = node.schedules.trigger_now(schedule.id)
            await settle(node)

            done = get_run(node, triggered.id)
            assert done.status is ExecutionStatus.TIMED_OUT
            [step] = steps(node, triggered.id)
            assert (step.status, step.failure) == (ExecutionStatus.TIMED_OUT, "timeout")

    run(scenario)
