"""Policy vocabularies: the values are the user's words, the same in YAML, API, UI and code."""

from __future__ import annotations

from enum import StrEnum


class OverlapPolicy(StrEnum):
    """What a fire does when the schedule still has a run queued or running."""

    SKIP = "skip"
    """Record the fire as ``skipped`` and start nothing (the default)."""
    ALLOW = "allow"
    """Start it anyway; runs go side by side."""
    BUFFER_ONE = "buffer_one"
    """Hold at most one fire (``buffered``) until the running one ends; skip the rest."""
    BUFFER_ALL = "buffer_all"
    """Hold every fire (``buffered``) and run them one after another, in order."""
    CANCEL_OTHER = "cancel_other"
    """Cancel the running one and start this one."""


class MisfirePolicy(StrEnum):
    """What happens to fires whose instant passed while Tickwork was down or stalled."""

    RUN_ONCE = "run_once"
    """Run the latest missed instant inside the catch-up window; record the rest ``missed``."""
    RUN_ALL = "run_all"
    """Run every missed instant inside the catch-up window, oldest first."""
    SKIP = "skip"
    """Run none; record them all ``missed``."""


class ScheduleState(StrEnum):
    """Read-only state of a schedule; ``paused`` in the document sets ``PAUSED``."""

    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"


class ExecutionStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    RETRYING = "retrying"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"
    MISSED = "missed"
    DEAD = "dead"
    WAITING = "waiting"
    """Held by a circuit breaker or a concurrency limit."""
    BUFFERED = "buffered"
    """Held by the ``buffer_one`` / ``buffer_all`` overlap policies."""


class ExecutionTrigger(StrEnum):
    SCHEDULE = "schedule"
    MANUAL = "manual"
    WEBHOOK = "webhook"
    EVENT = "event"
    RETRY = "retry"
    BACKFILL = "backfill"
