"""The ``python`` action: call ``package.module:function`` with the run's input.

The target is imported once and kept. It is called with one argument, a copy of the input
(a dict the function may change freely). Coroutine functions are awaited on the loop;
anything else runs in the runner's own bounded thread pool, so a blocking function never
stalls the worker's loop, and an awaitable it returns is then awaited on the loop.

What it returns must be JSON: it becomes the step's ``result`` (as JSON would carry it:
tuples become lists) and its JSON text the recorded ``output``.
"""

from __future__ import annotations

import asyncio
import copy
import importlib
import inspect
import json
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

from tickwork.actions.base import StepContext, StepOutcome, cap_text
from tickwork.durations import format_duration
from tickwork.schedule.retry import FailureClass
from tickwork.spec.actions import PythonActionDocument

__all__ = ["DEFAULT_THREADS", "PythonRunner"]

DEFAULT_THREADS = 16
"""Sync functions running at once; more wait for a free thread (within their timeout)."""

Target = Callable[[dict[str, Any]], Any]


class _TargetError(Exception):
    """The target cannot be imported or is not a callable."""

    def __init__(self, message: str, details: str | None = None) -> None:
        self.details = details
        super().__init__(message)


class PythonRunner:
    """Runs ``python`` actions.

    A timed-out async function is cancelled. A timed-out sync function cannot be: Python
    has no way to kill a thread, so it runs on to its end in the background, holding one
    of the ``max_threads`` threads, and what it returns is dropped. Long sync work that
    must be stoppable belongs in a ``shell`` step.
    """

    def __init__(self, *, max_threads: int = DEFAULT_THREADS) -> None:
        self._pool = ThreadPoolExecutor(max_threads, thread_name_prefix="tickwork-python")
        self._targets: dict[str, Target] = {}

    async def run(self, action: PythonActionDocument, context: StepContext) -> StepOutcome:
        """Call the target once; see :class:`~tickwork.actions.base.ActionRunner`."""
        timeout = context.timeout
        deadline = asyncio.timeout(None if timeout is None else timeout.total_seconds())
        try:
            async with deadline:
                value = await self._call(action.target, copy.deepcopy(dict(context.input)))
        except TimeoutError as exc:
            if timeout is None or not deadline.expired():  # raised by the function itself
                return _failed(FailureClass.OTHER, _one_line(exc), _traceback(exc))
            return _failed(FailureClass.TIMEOUT, f"timed out after {format_duration(timeout)}")
        except _TargetError as exc:
            return _failed(FailureClass.OTHER, str(exc), exc.details)
        except (Exception, SystemExit) as exc:  # the function's failure is the step's
            return _failed(FailureClass.OTHER, _one_line(exc), _traceback(exc))
        return _returned(value)

    async def close(self) -> None:
        """Stop the thread pool without waiting for functions still running in it."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def _call(self, target: str, argument: dict[str, Any]) -> Any:
        function = self._targets.get(target)
        if function is None:
            loop = asyncio.get_running_loop()
            # Importing runs module code: keep it off the loop too.
            function = await loop.run_in_executor(self._pool, _import, target)
            self._targets[target] = function
        if inspect.iscoroutinefunction(function):
            return await function(argument)
        value = await asyncio.get_running_loop().run_in_executor(self._pool, function, argument)
        if inspect.isawaitable(value):
            value = await value
        return value


def _import(target: str) -> Target:
    module_name, _, path = target.partition(":")
    try:
        found: Any = importlib.import_module(module_name)
    except Exception as exc:
        raise _TargetError(
            f"cannot import {module_name!r}: {_one_line(exc)}", _traceback(exc)
        ) from None
    for depth, attribute in enumerate(path.split(".")):
        try:
            found = getattr(found, attribute)
        except AttributeError:
            owner = ".".join([module_name, *path.split(".")[:depth]])
            raise _TargetError(f"{owner!r} has no attribute {attribute!r}") from None
    if not callable(found):
        raise _TargetError(f"{target!r} is not callable (found {type(found).__name__})")
    return cast(Target, found)


def _returned(value: Any) -> StepOutcome:
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        error = f"returned a {type(value).__name__}, which is not JSON ({exc})"
        return _failed(FailureClass.OTHER, error)
    output, truncated = cap_text(text)
    return StepOutcome(ok=True, output=output, truncated=truncated, result=json.loads(text))


def _failed(failure: FailureClass, error: str, stderr: str | None = None) -> StepOutcome:
    truncated = False
    if stderr is not None:
        stderr, truncated = cap_text(stderr)
    return StepOutcome(ok=False, failure=failure, error=error, stderr=stderr, truncated=truncated)


def _one_line(exc: BaseException) -> str:
    """``ValueError: message`` (first line of the message only)."""
    message = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {message[0]}" if message else type(exc).__name__


def _traceback(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))
