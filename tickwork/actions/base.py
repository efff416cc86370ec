"""The contract between the worker and the action runners.

A runner returns a :class:`StepOutcome` for every attempt: success, or a failure with its
:class:`~tickwork.schedule.retry.FailureClass` (what the retry policy looks at) and a message
a person can act on. Runners raise nothing for a failing step; only
``asyncio.CancelledError`` (the run was cancelled, or the worker is shutting down) passes
through, after the runner has cleaned up (killed the process group, closed the request).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from tickwork.schedule.retry import FailureClass

__all__ = ["OUTPUT_MAX_CHARS", "ActionRunner", "StepContext", "StepOutcome", "cap_text"]

OUTPUT_MAX_CHARS = 64 * 1024
"""Cap on each recorded stream (response body, stdout, stderr, return value as JSON)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StepContext:
    """What a step may know about the run it belongs to (also the template variables)."""

    execution_id: uuid.UUID
    scheduled_for: datetime
    attempt: int
    schedule_id: uuid.UUID | None
    schedule_name: str | None
    namespace: str
    input: Mapping[str, Any]
    timeout: timedelta | None
    """The step's own timeout, else the schedule's; None: no limit."""
    steps: Mapping[str, Any] = field(default_factory=dict)
    """Earlier steps of this attempt, by name: ``{"ok": bool, "result": <JSON>}``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StepOutcome:
    """How one attempt of one step ended."""

    ok: bool
    failure: FailureClass | None = None
    """Set exactly when ``ok`` is False."""
    error: str | None = None
    """One line for people: what failed and why ("connection refused: 127.0.0.1:9")."""
    status_code: int | None = None  # http
    exit_code: int | None = None  # shell (negative: killed by that signal)
    output: str | None = None
    """Response body, stdout, or the return value as JSON; at most OUTPUT_MAX_CHARS."""
    stderr: str | None = None  # shell; at most OUTPUT_MAX_CHARS
    truncated: bool = False
    """True when ``output`` or ``stderr`` was cut to the cap."""
    detail: Mapping[str, Any] = field(default_factory=dict)
    """Kind-specific facts worth keeping, JSON-serialisable (http: response headers; python:
    the return value; signature used, resolved address...)."""
    result: Any = None
    """What the step hands to later steps and the execution's ``result`` (JSON value)."""
    retry_after: timedelta | None = None
    """The target asked us to wait this long before trying again (``Retry-After``)."""
    target: str | None = None
    """The circuit breaker's key: ``host:port`` of an http step; None for other kinds."""

    def __post_init__(self) -> None:
        if self.ok != (self.failure is None):
            raise ValueError("a StepOutcome has a failure class exactly when it is not ok")


class ActionRunner(Protocol):
    """Runs one kind of action."""

    async def run(self, action: Any, context: StepContext) -> StepOutcome:
        """Run ``action`` (the validated action document) once and say how it ended.

        Enforces ``context.timeout`` itself (a timeout is ``FailureClass.TIMEOUT``).
        On cancellation, cleans up and re-raises ``asyncio.CancelledError``.
        """
        ...


def cap_text(text: str, limit: int = OUTPUT_MAX_CHARS) -> tuple[str, bool]:
    """``text`` cut to ``limit`` characters, and whether it was cut."""
    if len(text) <= limit:
        return text, False
    return text[:limit], True
