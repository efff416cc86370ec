"""Shell and Python runs through the worker: exit codes, retries by code, return values."""

from __future__ import annotations

import sys
from datetime import timedelta

import pytest

from tickwork.errors import Forbidden
from tickwork.schedule.policies import ExecutionStatus
from tickwork.service.access import Caller, Scope
from tickwork.testing import FakeClock

from . import targets
from .rig import T0, get_run, python_schedule, run, running_node, settle, shell_schedule, steps


def test_a_shell_run_records_exit_code_stdout_and_stderr(store_url: str) -> None:
    async def scenario() -> None:
        async with running_node(store_url, FakeClock(T0)) as node:
            script = "import sys; print('out'); print('err', file=sys.stderr); sys.exit(0)"
            schedule = node.schedules.create(
                shell_schedule("script", [sys.executable, "-c", script])
            )
            triggered, _ = node.schedules.trigger_now(schedule.id)
            await settle(node)

            assert get_run(node, triggered.id).status is ExecutionStatus.SUCCEEDED
            [step] = steps(node, triggered.id)
            assert (step.exit_code, step.output, step.stderr) == (0, "out\n", "err\n")

    run(scenario)


def test_an_exit_code_listed_in_the_policy_is_retried_and_others_fail(store_url: str) -> None:
    async def scenario() -> None:
        clock = FakeClock(T0)
        async with running_node(store_url, clock) as node:
            retry = {"max_attempts": 2, "initial_interval": "1s", "jitter": False}
            retried = node.schedules.create(
                shell_schedule("three", ["sh", "-c", "exit 3"], retry={**retry, "exit_codes": [3]})
            )
            failing = node.schedules.create(
                shell_schedule("four", ["sh", "-c", "exit 4"], retry=retry)
            )
            first, _ = node.schedules.trigger_now(retried.id)
            second, _ = node.schedules.trigger_now(failing.id)
            await settle(node)
            assert get_run(node, first.id).status is ExecutionStatus.RETRYING
            done = get_run(node, second.id)
            assert (done.status, done.error) == (ExecutionStatus.FAILED, "exited with code 4")

            clock.advance(timedelta(seconds=1))
            await settle(node)
            dead = get_run(node, first.id)
            assert (dead.status, dead.attempt) == (ExecutionStatus.DEAD, 2)
            assert [s.exit_code for s in steps(node, first.id)] == [3, 3]

    run(scenario)


def test_python_runs_record_return_values_and_exceptions(store_url: str) -> None:
    async def scenario() -> None:
        async with running_node(store_url, FakeClock(T0)) as node:
            module = "tests.integration.worker.targets"
            sync = node.schedules.create(
                python_schedule("sync", f"{module}:record", input={"n": 5})
            )
            coro = node.schedules.create(
                python_schedule("async", f"{module}:record_async", input={"n": 6})
            )
            boom = node.schedules.create(python_schedule("boom", f"{module}:explode"))
            runs = [node.schedules.trigger_now(s.id)[0] for s in (sync, coro, boom)]
            await settle(node)

            ok_sync, ok_async, failed = (get_run(node, r.id) for r in runs)
            assert ok_sync.status is ExecutionStatus.SUCCEEDED
            assert ok_sync.result["seen"] == 5
            assert targets.calls[-1] == {"n": 5}
            assert (ok_async.status, ok_async.result) == (ExecutionStatus.SUCCEEDED, ["async", 6])
            # An exception is not a transient failure: no retry.
            assert failed.status is ExecutionStatus.FAILED
            assert failed.error == "ValueError: cannot handle None"
            [step] = steps(node, failed.id)
            assert "Traceback" in (step.stderr or "")

    run(scenario)


def test_only_admins_may_create_shell_and_python_actions(store_url: str) -> None:
    async def scenario() -> None:
        async with running_node(store_url, FakeClock(T0)) as node:
            writer = Caller(frozenset({Scope.READ, Scope.WRITE}))
            with pytest.raises(Forbidden, match=r"shell action runs code .* needs the admin scope"):
                node.schedules.create(shell_schedule("nope", ["true"]), caller=writer)
            with pytest.raises(Forbidden, match="python action"):
                node.schedules.create(
                    python_schedule("nope", "tests.integration.worker.targets:record"),
                    caller=writer,
                )
            assert node.schedules.list_all() == []
            admin = Caller(frozenset({Scope.ADMIN}))
            created = node.schedules.create(shell_schedule("yes", ["true"]), caller=admin)
            # Nor may a writer turn an http schedule into a shell one.
            hook = node.schedules.create(
                {
                    "name": "hook",
                    "trigger": {"cron": "0 0 1 1 *"},
                    "action": {"kind": "http", "url": "http://127.0.0.1:9/"},
                },
                caller=writer,
            )
            with pytest.raises(Forbidden):
                node.schedules.update(hook.id, shell_schedule("hook", ["true"]), caller=writer)
            assert node.schedules.get(hook.id).document["action"]["kind"] == "http"
            assert created.document["action"]["kind"] == "shell"

    run(scenario)


def test_output_with_nul_bytes_is_recorded_with_replacement_characters(store_url: str) -> None:
    async def scenario() -> None:
        async with running_node(store_url, FakeClock(T0)) as node:
            schedule = node.schedules.create(
                shell_schedule("binary", ["printf", "a\\000b"], retry={"max_attempts": 1})
            )
            triggered, _ = node.schedules.trigger_now(schedule.id)
            await settle(node)

            assert get_run(node, triggered.id).status is ExecutionStatus.SUCCEEDED
            [step] = steps(node, triggered.id)
            assert step.output == "a\ufffdb"

    run(scenario)
