"""``tickwork runs …`` against a real server: history, steps, output, re-run, cancel."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .client_rig import Cli, cli_against

FAILING = """\
name: failing
trigger:
  interval: 1h
retry: {max_attempts: 1}
action:
  kind: shell
  argv: [sh, -c, "echo out here; echo oops >&2; exit 3"]
"""

SLOW = """\
name: slow
trigger:
  interval: 1h
action:
  kind: shell
  argv: [sleep, "30"]
"""


@pytest.fixture
def cli(sqlite_database_url: str, tmp_path: Path) -> Iterator[Cli]:
    with cli_against(sqlite_database_url, tmp_path) as running:
        yield running


def _failed_run(cli: Cli) -> str:
    """A run of the failing schedule, followed to its end (exit 1: it failed)."""
    cli.create(FAILING)
    run_id: str = cli.json("schedules", "trigger", "failing")["id"]
    watched = cli.run("runs", "watch", run_id, "--timeout", "30")
    assert watched.returncode == 1, watched.stderr
    assert "step action attempt 1 failed (exit 3" in watched.stdout
    assert f"run {run_id} failed" in watched.stdout
    return run_id


def test_a_failing_run_in_the_history_with_its_steps_and_stderr(cli: Cli) -> None:
    run_id = _failed_run(cli)

    listed = cli.ok("runs", "ls", "--schedule", "failing")
    assert run_id in listed and "failed" in listed and "manual" in listed
    assert [r["id"] for r in cli.json("runs", "ls", "--status", "failed")] == [run_id]
    assert cli.json("runs", "ls", "--status", "succeeded") == []

    shown = cli.ok("runs", "get", run_id)
    assert "exit 3" in shown and "exited with code 3" in shown
    detail = cli.json("runs", "get", run_id)
    assert detail["steps"][0]["stderr"] == "oops\n"

    logs = cli.ok("runs", "logs", run_id)
    assert "step action, attempt 1: failed, exit 3" in logs
    output, stderr = logs.split("stderr:")
    assert "out here" in output and "oops" in stderr


def test_retry_starts_a_new_run(cli: Cli) -> None:
    run_id = _failed_run(cli)
    said = cli.ok("runs", "retry", run_id)
    assert f"(re-run of {run_id}" in said
    runs = cli.json("runs", "ls", "--schedule", "failing")
    assert [r["trigger"] for r in runs] == ["retry", "manual"]
    assert runs[0]["id"] in said


def test_cancelling_an_ended_run_is_a_clear_error(cli: Cli) -> None:
    run_id = _failed_run(cli)
    error = cli.fails("runs", "cancel", run_id)
    assert error == f"error: run {run_id} has already ended (failed); nothing to cancel\n"


def test_cancel_a_running_run(cli: Cli) -> None:
    cli.create(SLOW)
    run_id = cli.json("schedules", "trigger", "slow")["id"]
    said = cli.ok("runs", "cancel", run_id)
    assert f"cancelled run {run_id} (cancelled)" in said
    watched = cli.run("runs", "watch", run_id, "--timeout", "30")
    assert watched.returncode == 1
    assert "cancelled" in watched.stdout.splitlines()[-1]


def test_watch_gives_up_at_its_deadline(cli: Cli) -> None:
    cli.create(SLOW)
    run_id = cli.json("schedules", "trigger", "slow")["id"]
    error = cli.fails("runs", "watch", run_id, "--timeout", "0.5")
    assert f"run {run_id} is still" in error and "stopped watching" in error
    cli.ok("runs", "cancel", run_id)


def test_unknown_and_malformed_run_ids(cli: Cli) -> None:
    missing = cli.fails("runs", "get", "01890000-0000-7000-8000-000000000000")
    assert "not found" in missing
    assert cli.fails("runs", "logs", "42") == (
        "error: '42' is not a run id (tickwork runs ls lists them)\n"
    )
