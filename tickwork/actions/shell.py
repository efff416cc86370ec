"""The ``shell`` action: a command in its own process group, with capped output.

The command runs as the leader of a new process group (``start_new_session``), so a
timeout or a cancellation kills everything it started, not only the direct child: SIGTERM
to the group, then SIGKILL after :data:`KILL_GRACE`. Its stdout and stderr go to pipes the
runner owns and reads from the event loop as data arrives, keeping the first
``OUTPUT_MAX_CHARS`` characters of each and dropping the rest, so a chatty command never
blocks on a full pipe.

A process that outlives the command (a background job, or one that left the group) may
still hold the pipes open; the runner waits at most :data:`PIPE_GRACE` for them to close
once the command has exited or been killed, then stops reading. Such leftovers of a
command that exited on its own are not killed: starting a daemon is a legitimate step.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from tickwork.actions.base import StepContext, StepOutcome
from tickwork.actions.capture import READ_CHUNK_BYTES, CappedText
from tickwork.durations import format_duration
from tickwork.schedule.retry import FailureClass
from tickwork.spec.actions import ShellActionDocument

__all__ = ["KILL_GRACE", "PIPE_GRACE", "ShellRunner"]

KILL_GRACE = timedelta(seconds=2)
"""Between SIGTERM and SIGKILL: time for the command to clean up after itself."""

PIPE_GRACE = timedelta(seconds=2)
"""How long output is still read after the command ended, while something holds its pipes."""


class ShellRunner:
    """Runs ``shell`` actions.

    The command's environment is ``environ`` (default: the worker's environment, read at
    each run) updated with the action's ``env``; stdin is ``/dev/null``. ``kill_grace``
    and ``pipe_grace`` override :data:`KILL_GRACE` and :data:`PIPE_GRACE`.
    """

    def __init__(
        self,
        *,
        environ: Mapping[str, str] | None = None,
        kill_grace: timedelta = KILL_GRACE,
        pipe_grace: timedelta = PIPE_GRACE,
    ) -> None:
        self._environ = environ
        self._kill_grace_s = kill_grace.total_seconds()
        self._pipe_grace_s = pipe_grace.total_seconds()

    async def run(self, action: ShellActionDocument, context: StepContext) -> StepOutcome:
        """Run the command once; see :class:`~tickwork.actions.base.ActionRunner`."""
        env = {**(os.environ if self._environ is None else self._environ), **action.env}
        out_read, out_write = os.pipe()
        err_read, err_write = os.pipe()
        try:
            process = await self._start(action, env, out_write, err_write)
        except (OSError, ValueError) as exc:
            _close(out_read, err_read)
            program = action.argv[0] if action.argv else None
            error = _spawn_error(exc, program)
            return StepOutcome(ok=False, failure=FailureClass.OTHER, error=error)
        except BaseException:
            _close(out_read, err_read)
            raise
        finally:
            _close(out_write, err_write)  # the child has its copies; EOF comes when it exits
        stdout, stderr = _PipeReader(out_read), _PipeReader(err_read)
        try:
            timed_out = await self._wait(process, context.timeout)
        except asyncio.CancelledError:
            await self._stop_group(process)
            raise
        finally:
            await self._finish_reading(stdout, stderr)
        return _outcome(process, stdout, stderr, timed_out, context.timeout)

    async def close(self) -> None:
        """Nothing to release: each run cleans up after itself."""

    async def _start(
        self, action: ShellActionDocument, env: Mapping[str, str], stdout: int, stderr: int
    ) -> asyncio.subprocess.Process:
        """The started command. A cancellation that comes while it starts (the command may
        already be running) waits for the start, then stops the process group like any
        cancelled run before passing on: a cancelled run never leaves its command behind."""
        starting = asyncio.ensure_future(_spawn(action, env, stdout, stderr))
        try:
            return await asyncio.shield(starting)
        except asyncio.CancelledError:
            with contextlib.suppress(OSError, ValueError):  # it did not start: nothing to stop
                await self._stop_group(await starting)
            raise

    async def _wait(self, process: asyncio.subprocess.Process, timeout: timedelta | None) -> bool:
        """Wait for the command to exit; True when it ran out of time and was killed."""
        try:
            async with asyncio.timeout(None if timeout is None else timeout.total_seconds()):
                await process.wait()
        except TimeoutError:
            await self._stop_group(process)
            return True
        return False

    async def _stop_group(self, process: asyncio.subprocess.Process) -> None:
        """SIGTERM the command's process group, SIGKILL it after the kill grace.

        SIGKILL goes to the group even when the leader obeyed SIGTERM, for members that did
        not; it is sent from ``finally`` so a second cancellation cannot skip it.
        """
        _signal_group(process.pid, signal.SIGTERM)
        try:
            async with asyncio.timeout(self._kill_grace_s):
                await process.wait()
        except TimeoutError:
            pass
        finally:
            _signal_group(process.pid, signal.SIGKILL)
        await process.wait()

    async def _finish_reading(self, *readers: _PipeReader) -> None:
        """Wait (a little) for the pipes to reach end of file, then close them regardless."""
        try:
            closed = [reader.closed for reader in readers]
            await asyncio.wait(closed, timeout=self._pipe_grace_s)
        finally:
            for reader in readers:
                reader.close()


async def _spawn(
    action: ShellActionDocument, env: Mapping[str, str], stdout: int, stderr: int
) -> asyncio.subprocess.Process:
    options: dict[str, Any] = {
        "stdin": asyncio.subprocess.DEVNULL,
        "stdout": stdout,
        "stderr": stderr,
        "cwd": action.cwd,
        "env": env,
        "start_new_session": True,
    }
    if action.argv is not None:
        return await asyncio.create_subprocess_exec(*action.argv, **options)
    assert action.command is not None  # the document requires argv or command
    return await asyncio.create_subprocess_shell(action.command, **options)


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone
        os.killpg(pgid, signum)


def _outcome(
    process: asyncio.subprocess.Process,
    stdout: _PipeReader,
    stderr: _PipeReader,
    timed_out: bool,
    timeout: timedelta | None,
) -> StepOutcome:
    code = process.returncode
    assert code is not None  # waited for above
    out, err = stdout.captured.text(), stderr.captured.text()
    recorded: dict[str, Any] = {
        "exit_code": code,
        "output": out,
        "stderr": err,
        "truncated": stdout.captured.truncated or stderr.captured.truncated,
        "detail": {"pid": process.pid},
    }
    if timed_out:
        limit = format_duration(timeout) if timeout is not None else "?"
        error = f"timed out after {limit}; process group killed"
        return StepOutcome(ok=False, failure=FailureClass.TIMEOUT, error=error, **recorded)
    result = {"exit_code": code, "stdout": out}
    if code == 0:
        return StepOutcome(ok=True, result=result, **recorded)
    return StepOutcome(
        ok=False, failure=FailureClass.EXIT_CODE, error=_exit_error(code), result=result, **recorded
    )


def _exit_error(code: int) -> str:
    if code >= 0:
        return f"exited with code {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = str(-code)
    return f"killed by signal {name}"


def _spawn_error(exc: OSError | ValueError, program: str | None) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        # uvloop's errors do not carry the file name that asyncio's do: name the program.
        filename = exc.filename or program
        where = f": {filename}" if filename else ""
        return f"cannot start: {exc.strerror}{where}"
    return f"cannot start: {exc}"


def _close(*fds: int) -> None:
    for fd in fds:
        os.close(fd)


class _PipeReader:
    """Reads one pipe from the event loop, as data arrives, into a :class:`CappedText`.

    Owns ``fd`` (the read end) from construction on: reading starts at once, and
    :meth:`close` (at end of file, or when the runner stops waiting) closes it.
    """

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._loop = asyncio.get_running_loop()
        self.captured = CappedText()
        self.closed: asyncio.Future[None] = self._loop.create_future()
        """Done once the pipe reached end of file (every writer closed it) or was closed."""
        os.set_blocking(fd, False)
        self._loop.add_reader(fd, self._read)

    def _read(self) -> None:
        try:
            data = os.read(self._fd, READ_CHUNK_BYTES)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data:
            self.captured.feed(data)
        else:
            self.close()

    def close(self) -> None:
        if not self.closed.done():
            self._loop.remove_reader(self._fd)
            os.close(self._fd)
            self.closed.set_result(None)
