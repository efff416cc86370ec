"""``ActionRunners``: one object, configured from the environment, running every kind."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from tickwork.actions import signing
from tickwork.actions.base import StepOutcome
from tickwork.actions.runners import ActionRunners
from tickwork.errors import InvalidSpec
from tickwork.schedule.retry import FailureClass
from tickwork.spec.actions import HttpActionDocument, PythonActionDocument, ShellActionDocument
from tickwork.testing import FakeClock

from .helpers import SCHEDULED_FOR, Sink, run, serving, step_context

ENVIRON = {
    "PATH": os.environ["PATH"],
    "TICKWORK_SECRET_BILLING": "billing-key",
    "TICKWORK_HTTP_DENY_NETWORKS": "169.254.0.0/16",
    "GREETING": "from the worker",
}


def test_each_kind_is_run_by_its_runner_with_settings_from_the_environment() -> None:
    async def scenario() -> tuple[Sink, list[StepOutcome]]:
        runners = ActionRunners.from_env(FakeClock(SCHEDULED_FOR), ENVIRON)
        try:
            async with serving() as sink:
                actions: list[HttpActionDocument | ShellActionDocument | PythonActionDocument] = [
                    HttpActionDocument(kind="http", url=sink.url("/echo"), secret="billing"),
                    HttpActionDocument(kind="http", url="http://169.254.169.254/"),
                    ShellActionDocument(kind="shell", argv=("sh", "-c", 'echo "$GREETING"')),
                    PythonActionDocument(
                        kind="python", target="tests.integration.actions.targets:greet"
                    ),
                ]
                outcomes = [await runners.run(action, step_context()) for action in actions]
                return sink, outcomes
        finally:
            await runners.close()

    sink, (signed, denied, shell, python) = run(scenario)
    assert signed.ok and signed.detail["signed"] is True
    (request,) = sink.received
    assert signing.verify(
        b"billing-key",
        request.body,
        timestamp=request.headers["X-Tickwork-Timestamp"],
        signature_header=request.headers["X-Tickwork-Signature"],
        now=datetime.now(UTC),
    )
    assert denied.failure is FailureClass.OTHER and "169.254.0.0/16" in (denied.error or "")
    assert shell.ok and shell.output == "from the worker\n"
    assert python.ok and python.result["hello"] == "world"


def test_a_bad_deny_list_in_the_environment_is_refused_at_start() -> None:
    with pytest.raises(InvalidSpec, match="TICKWORK_HTTP_DENY_NETWORKS: 'nope'"):
        ActionRunners.from_env(FakeClock(SCHEDULED_FOR), {"TICKWORK_HTTP_DENY_NETWORKS": "nope"})
