"""What a claimed run executes: its action, retry policy and timeout, read from its schedule.

A run executes under the schedule's document as stored when it starts (an edit reaches
queued runs too), except for ``max_attempts``, which the run carries from when it was
queued so that an edit cannot retry a run more often than it was promised. Plans are
cached by (schedule, revision): a burst of ten thousand runs of one schedule parses its
document once.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from pydantic import TypeAdapter, ValidationError

from tickwork.durations import parse_duration
from tickwork.schedule.retry import RetryPolicy
from tickwork.spec.actions import (
    Action,
    HttpActionDocument,
    PythonActionDocument,
    ShellActionDocument,
)

__all__ = ["PlanError", "Plans", "RunPlan"]

AnyAction = HttpActionDocument | ShellActionDocument | PythonActionDocument
_ACTION: TypeAdapter[AnyAction] = TypeAdapter(Action)
_CACHE_SIZE = 4096


class PlanError(Exception):
    """The run cannot start: its schedule is gone, or names a workflow that is not there."""


@dataclass(frozen=True, slots=True)
class RunPlan:
    action: AnyAction
    retry: RetryPolicy
    timeout: timedelta | None
    """The action's own timeout, else the schedule's."""
    pause_after_failures: int | None


class Plans:
    """Plans by (schedule, revision), the least recently built dropped first."""

    def __init__(self, size: int = _CACHE_SIZE) -> None:
        self._size = size
        self._plans: OrderedDict[tuple[uuid.UUID, int], RunPlan] = OrderedDict()

    def get(
        self,
        schedule_id: uuid.UUID | None,
        revision: int | None,
        document: Mapping[str, Any] | None,
        max_attempts: int,
    ) -> RunPlan:
        """The plan of a run of ``schedule_id`` at ``revision``; ``PlanError`` if none."""
        if schedule_id is None or revision is None or document is None:
            raise PlanError("the run has no schedule (it was deleted)")
        key = (schedule_id, revision)
        plan = self._plans.get(key)
        if plan is None:
            plan = _build(document)
            self._plans[key] = plan
            while len(self._plans) > self._size:
                self._plans.popitem(last=False)
        if plan.retry.max_attempts != max_attempts:
            plan = replace(plan, retry=replace(plan.retry, max_attempts=max_attempts))
        return plan


def _build(document: Mapping[str, Any]) -> RunPlan:
    if document.get("action") is None:
        workflow = document.get("workflow")
        raise PlanError(f"workflow {workflow!r} is not defined (workflows come with the API)")
    try:
        action = _ACTION.validate_python(document["action"])
    except ValidationError as exc:  # stored documents were validated: a newer schema?
        raise PlanError(f"the stored action is not valid: {exc.errors()[0]['msg']}") from None
    retry = document.get("retry") or {}
    timeout = action.timeout or _duration(document.get("timeout"), "timeout")
    return RunPlan(
        action=action,
        retry=RetryPolicy(
            max_attempts=int(retry.get("max_attempts", 3)),
            initial_interval=_duration(retry.get("initial_interval"), "retry.initial_interval")
            or timedelta(seconds=1),
            multiplier=float(retry.get("multiplier", 2.0)),
            max_interval=_duration(retry.get("max_interval"), "retry.max_interval")
            or timedelta(minutes=5),
            jitter=bool(retry.get("jitter", True)),
            retry_on=frozenset(retry.get("retry_on", ("connection", "timeout", "5xx", "429"))),
            exit_codes=frozenset(int(c) for c in retry.get("exit_codes", ())),
        ),
        timeout=timeout,
        pause_after_failures=document.get("pause_after_failures"),
    )


def _duration(value: object, name: str) -> timedelta | None:
    return None if value is None else parse_duration(str(value), field=name)
