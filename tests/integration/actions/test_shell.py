"""The shell runner with real processes: exit codes, captured streams, environment, and
that a timeout or a cancellation leaves nothing of the command running."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tickwork.actions.base import OUTPUT_MAX_CHARS, StepOutcome
from tickwork.actions.shell import ShellRunner
from tickwork.schedule.retry import FailureClass
from tickwork.spec.actions import ShellActionDocument

from .helpers import process_alive, run, step_context, wait_until_dead

SHORT = timedelta(milliseconds=500)
FAST_GRACE = timedelta(milliseconds=200)


def shell(**fields: Any) -> ShellActionDocument:
    return ShellActionDocument.model_validate({"kind": "shell", **fields})


def execute(
    action: ShellActionDocument, runner: ShellRunner | None = None, **context: Any
) -> StepOutcome:
    """Run ``action`` once with ``runner`` (default: a plain one) on a fresh loop."""
    shell_runner = runner or ShellRunner()

    async def scenario() -> StepOutcome:
        return await shell_runner.run(action, step_context(**context))

    return run(scenario)


def read_pid(path: Path) -> int:
    """The pid a command wrote to ``path`` (polling briefly: the command writes it)."""
    give_up = time.monotonic() + 5
    while not path.exists() or not path.read_text().strip():
        assert time.monotonic() < give_up, f"{path} was never written"
        time.sleep(0.01)
    return int(path.read_text())


def test_exit_zero_succeeds_with_stdout() -> None:
    outcome = execute(shell(argv=["echo", "hello", "world"]))
    assert outcome.ok and outcome.failure is None
    assert outcome.exit_code == 0
    assert outcome.output == "hello world\n" and outcome.stderr == ""
    assert outcome.result == {"exit_code": 0, "stdout": "hello world\n"}
    assert not outcome.truncated and outcome.target is None


def test_a_non_zero_exit_is_an_exit_code_failure_with_both_streams() -> None:
    outcome = execute(shell(argv=["sh", "-c", "echo out; echo oops >&2; exit 3"]))
    assert outcome.failure is FailureClass.EXIT_CODE
    assert outcome.exit_code == 3 and outcome.error == "exited with code 3"
    assert outcome.output == "out\n" and outcome.stderr == "oops\n"
    assert outcome.result == {"exit_code": 3, "stdout": "out\n"}


def test_a_command_killed_by_a_signal_reports_the_signal() -> None:
    outcome = execute(shell(argv=["sh", "-c", "kill -KILL $$"]))
    assert outcome.failure is FailureClass.EXIT_CODE
    assert outcome.exit_code == -signal.SIGKILL
    assert outcome.error == "killed by signal SIGKILL"


def test_env_extends_the_worker_environment_and_cwd_is_honoured(tmp_path: Path) -> None:
    runner = ShellRunner(environ={"PATH": os.environ["PATH"], "BASE": "kept", "WHO": "worker"})
    action = shell(
        argv=["sh", "-c", 'printf "%s %s %s" "$BASE" "$WHO" "$(pwd -P)"'],
        env={"WHO": "document"},
        cwd=str(tmp_path),
    )
    outcome = execute(action, runner)
    assert outcome.ok
    assert outcome.output == f"kept document {tmp_path.resolve()}"


def test_a_command_runs_through_the_shell_when_asked() -> None:
    outcome = execute(shell(command="echo $((1 + 2)) | tr 3 x", shell=True))
    assert outcome.ok and outcome.output == "x\n"


def test_stdin_is_empty() -> None:
    outcome = execute(shell(argv=["cat"]))
    assert outcome.ok and outcome.output == ""


def test_large_output_is_capped_without_blocking_the_command() -> None:
    script = "import sys; sys.stdout.write('a' * 5_000_000); sys.stderr.write('é' * 100_000)"
    outcome = execute(shell(argv=[sys.executable, "-c", script]))
    assert outcome.ok and outcome.truncated
    assert outcome.output == "a" * OUTPUT_MAX_CHARS
    assert outcome.stderr == "é" * OUTPUT_MAX_CHARS


def test_a_timeout_kills_the_process_group_including_grandchildren(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    action = shell(argv=["sh", "-c", f"sleep 60 & echo $! > {pidfile}; wait"])
    started = time.monotonic()
    outcome = execute(action, timeout=SHORT)
    assert time.monotonic() - started < 5
    assert outcome.failure is FailureClass.TIMEOUT
    assert outcome.error == "timed out after 500ms; process group killed"
    assert wait_until_dead(read_pid(pidfile))


def test_a_command_ignoring_sigterm_is_killed_after_the_grace() -> None:
    runner = ShellRunner(kill_grace=FAST_GRACE)
    action = shell(command="trap '' TERM; echo ready; sleep 60 & wait; wait", shell=True)
    outcome = execute(action, runner, timeout=SHORT)
    assert outcome.failure is FailureClass.TIMEOUT
    assert outcome.exit_code == -signal.SIGKILL
    assert outcome.output == "ready\n"


def test_an_escaped_grandchild_holding_the_pipes_cannot_hang_the_runner(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    runner = ShellRunner(pipe_grace=FAST_GRACE)
    # setsid: the grandchild leaves the process group, so the group kill misses it.
    action = shell(command=f"setsid sleep 60 & echo $! > {pidfile}; echo started; wait", shell=True)
    try:
        started = time.monotonic()
        outcome = execute(action, runner, timeout=SHORT)
        assert time.monotonic() - started < 5
        assert outcome.failure is FailureClass.TIMEOUT
        assert outcome.output == "started\n"
        assert process_alive(read_pid(pidfile))  # the runner gave up on it, as documented
    finally:
        os.kill(read_pid(pidfile), signal.SIGKILL)


def test_leftovers_of_a_command_that_exited_do_not_hold_up_the_outcome(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    runner = ShellRunner(pipe_grace=FAST_GRACE)
    action = shell(command=f"sleep 60 & echo $! > {pidfile}; echo done", shell=True)
    try:
        started = time.monotonic()
        outcome = execute(action, runner, timeout=None)
        assert time.monotonic() - started < 5
        assert outcome.ok and outcome.output == "done\n"
    finally:
        os.kill(read_pid(pidfile), signal.SIGKILL)


def test_cancellation_kills_the_process_group_and_passes_through(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    action = shell(argv=["sh", "-c", f"sleep 60 & echo $! > {pidfile}; wait"])

    async def scenario() -> None:
        task = asyncio.create_task(ShellRunner().run(action, step_context(timeout=None)))
        while not pidfile.exists() or not pidfile.read_text().strip():
            await asyncio.sleep(0.01)  # a real process: poll for its file, briefly
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(scenario)
    assert wait_until_dead(read_pid(pidfile))


def test_a_cancellation_while_the_command_starts_still_stops_its_group() -> None:
    marker = f"59.{os.getpid()}{time.monotonic_ns() % 1_000_000}"  # findable; ends in a minute
    action = shell(argv=["sh", "-c", f"sleep {marker} & wait"])

    async def scenario() -> None:
        task = asyncio.create_task(ShellRunner().run(action, step_context(timeout=None)))
        await asyncio.sleep(0)  # the command is spawned; its start is being awaited
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(scenario)
    give_up = time.monotonic() + 5
    while sleepers := _running_with_argument(marker):
        assert time.monotonic() < give_up, f"still running: {sleepers}"
        time.sleep(0.01)


def _running_with_argument(argument: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            arguments = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argument.encode() in arguments and process_alive(int(entry.name)):
            found.append(int(entry.name))
    return found


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"argv": ["tickwork-no-such-command"]}, "cannot start: No such file or directory"),
        ({"argv": ["true"], "cwd": "/no/such/dir"}, "cannot start: No such file or directory"),
    ],
    ids=["missing-executable", "missing-cwd"],
)
def test_a_command_that_cannot_start_is_an_other_failure(
    fields: dict[str, Any], message: str
) -> None:
    outcome = execute(shell(**fields))
    assert outcome.failure is FailureClass.OTHER
    assert (outcome.error or "").startswith(message)
    assert outcome.exit_code is None


def test_a_file_that_is_not_executable_cannot_start(tmp_path: Path) -> None:
    script = tmp_path / "script.sh"
    script.write_text("echo never\n")
    outcome = execute(shell(argv=[str(script)]))
    assert outcome.failure is FailureClass.OTHER
    assert outcome.error == f"cannot start: Permission denied: {script}"
