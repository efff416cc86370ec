"""The python runner calling real functions by name: sync in the pool, async on the loop,
and every way a call can fail."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest

from tickwork.actions.base import StepOutcome
from tickwork.actions.python import PythonRunner
from tickwork.schedule.retry import FailureClass
from tickwork.spec.actions import PythonActionDocument

from . import targets
from .helpers import run, step_context

MODULE = "tests.integration.actions.targets"


def call(function: str, **context: Any) -> StepOutcome:
    """Run ``targets:<function>`` once with a fresh runner, closed afterwards."""
    action = PythonActionDocument.model_validate({"kind": "python", "target": function})

    async def scenario() -> StepOutcome:
        runner = PythonRunner(max_threads=2)
        try:
            return await runner.run(action, step_context(**context))
        finally:
            await runner.close()

    return run(scenario)


def test_a_sync_function_runs_in_the_pool_with_a_copy_of_the_input() -> None:
    payload = {"day": "monday", "name": "ada"}
    outcome = call(f"{MODULE}:greet", input=payload)
    assert outcome.ok
    assert outcome.result["hello"] == "ada"
    assert outcome.result["thread"].startswith("tickwork-python")
    assert outcome.output is not None and '"hello": "ada"' in outcome.output
    assert payload == {"day": "monday", "name": "ada"}  # the function changed its copy only


def test_an_async_function_is_awaited_on_the_loop() -> None:
    outcome = call(f"{MODULE}:greet_async")
    assert outcome.ok and outcome.result == ["monday", "MainThread"]


def test_an_awaitable_returned_by_a_sync_function_is_awaited() -> None:
    outcome = call(f"{MODULE}:returns_awaitable")
    assert outcome.ok and outcome.result == "awaited" and outcome.output == '"awaited"'


def test_a_dotted_attribute_path_after_the_colon_is_followed() -> None:
    assert call(f"{MODULE}:Namespace.method").result == "nested"


def test_the_result_is_what_json_carries() -> None:
    outcome = call(f"{MODULE}:returns_tuple")
    assert outcome.ok and outcome.result == [1, 2] and outcome.output == "[1, 2]"


def test_an_exception_fails_with_its_type_message_and_traceback() -> None:
    outcome = call(f"{MODULE}:fails")
    assert outcome.failure is FailureClass.OTHER
    assert outcome.error == "ValueError: bad day: monday"
    assert outcome.stderr is not None
    assert outcome.stderr.startswith("Traceback (most recent call last):")
    assert "in fails" in outcome.stderr


def test_system_exit_is_a_failure_not_an_exit_of_the_worker() -> None:
    outcome = call(f"{MODULE}:exits")
    assert outcome.failure is FailureClass.OTHER and outcome.error == "SystemExit: 2"


def test_a_return_value_that_is_not_json_fails() -> None:
    outcome = call(f"{MODULE}:returns_set")
    assert outcome.failure is FailureClass.OTHER
    assert (outcome.error or "").startswith("returned a set, which is not JSON")


def test_a_sync_function_past_its_timeout_fails_without_waiting_for_it() -> None:
    started = time.monotonic()
    try:
        outcome = call(f"{MODULE}:blocking", timeout=timedelta(milliseconds=200))
    finally:
        targets.RELEASE.set()
    assert outcome.failure is FailureClass.TIMEOUT
    assert outcome.error == "timed out after 200ms"
    assert time.monotonic() - started < 5


def test_an_async_function_past_its_timeout_is_cancelled() -> None:
    outcome = call(f"{MODULE}:hangs", timeout=timedelta(milliseconds=100))
    assert outcome.failure is FailureClass.TIMEOUT and outcome.error == "timed out after 100ms"


@pytest.mark.parametrize(
    ("target", "error"),
    [
        (
            "tests.integration.actions.no_such_module:f",
            "cannot import 'tests.integration.actions.no_such_module': ModuleNotFoundError: "
            "No module named 'tests.integration.actions.no_such_module'",
        ),
        (
            "tests.integration.actions.broken_target:f",
            "cannot import 'tests.integration.actions.broken_target': "
            "RuntimeError: this module refuses to load",
        ),
        (f"{MODULE}:missing", f"'{MODULE}' has no attribute 'missing'"),
        (f"{MODULE}:Namespace.missing", f"'{MODULE}.Namespace' has no attribute 'missing'"),
        (f"{MODULE}:NOT_CALLABLE", f"'{MODULE}:NOT_CALLABLE' is not callable (found int)"),
    ],
    ids=["no-module", "module-raises", "no-attribute", "no-nested-attribute", "not-callable"],
)
def test_a_target_that_cannot_be_resolved_fails_naming_it(target: str, error: str) -> None:
    outcome = call(target)
    assert outcome.failure is FailureClass.OTHER
    assert outcome.error == error
