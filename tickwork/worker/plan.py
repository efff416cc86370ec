"""What a claimed run executes: its steps, retry policy and timeouts, read from its schedule.

A run executes under the documents as stored when it starts (an edit reaches queued runs
too), except for ``max_attempts``, which the run carries from when it was queued so that
an edit cannot retry a run more often than it was promised.

* A schedule with an inline ``action`` runs one step, named ``action``.
* A schedule naming a ``workflow`` runs the workflow's steps, one after another in an
  order that respects ``needs`` (each step sees the results of the steps before it).

Plans are cached by (schedule, revision, workflow version): a burst of ten thousand runs
of one schedule parses its documents once.
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
from tickwork.errors import InvalidSpec
from tickwork.schedule.retry import RetryPolicy
from tickwork.spec.actions import (
    Action,
    HttpActionDocument,
    PythonActionDocument,
    ShellActionDocument,
)

__all__ = ["INLINE_STEP", "PlanError", "PlannedStep", "Plans", "RunPlan"]

AnyAction = HttpActionDocument | ShellActionDocument | PythonActionDocument
_ACTION: TypeAdapter[AnyAction] = TypeAdapter(Action)
_CACHE_SIZE = 4096

INLINE_STEP = "action"
"""The step name of a schedule's inline action."""


class PlanError(Exception):
    """The run cannot start: its schedule is gone, or names a workflow that is not there."""


@dataclass(frozen=True, slots=True)
class PlannedStep:
    name: str
    action: AnyAction
    timeout: timedelta | None
    """The action's own timeout, else the schedule's."""


@dataclass(frozen=True, slots=True)
class RunPlan:
    steps: tuple[PlannedStep, ...]
    retry: RetryPolicy
    pause_after_failures: int | None

    @property
    def single(self) -> bool:
        """One inline action: its result is the run's result as it is."""
        return len(self.steps) == 1 and self.steps[0].name == INLINE_STEP


class Plans:
    """Plans by (schedule, revision, workflow version), least recently built dropped first."""

    def __init__(self, size: int = _CACHE_SIZE) -> None:
        self._size = size
        self._plans: OrderedDict[tuple[uuid.UUID, int, int | None], RunPlan] = OrderedDict()

    def get(
        self,
        schedule_id: uuid.UUID | None,
        revision: int | None,
        document: Mapping[str, Any] | None,
        max_attempts: int,
        *,
        workflow: Mapping[str, Any] | None = None,
        workflow_version: int | None = None,
    ) -> RunPlan:
        """The plan of a run of ``schedule_id`` at ``revision``; ``PlanError`` if none."""
        if schedule_id is None or revision is None or document is None:
            raise PlanError("the run has no schedule (it was deleted)")
        key = (schedule_id, revision, workflow_version)
        plan = self._plans.get(key)
        if plan is None:
            plan = _build(document, workflow)
            self._plans[key] = plan
            while len(self._plans) > self._size:
                self._plans.popitem(last=False)
        if plan.retry.max_attempts != max_attempts:
            plan = replace(plan, retry=replace(plan.retry, max_attempts=max_attempts))
        return plan


def _build(document: Mapping[str, Any], workflow: Mapping[str, Any] | None) -> RunPlan:
    timeout = _duration(document.get("timeout"), "timeout")
    if document.get("action") is not None:
        action = _action(document["action"], "action")
        steps: tuple[PlannedStep, ...] = (
            PlannedStep(INLINE_STEP, action, action.timeout or timeout),
        )
    else:
        name = document.get("workflow")
        if workflow is None:
            raise PlanError(f"workflow {name!r} is not defined in this namespace")
        steps = tuple(
            PlannedStep(str(step["name"]), action, action.timeout or timeout)
            for step in _in_order(workflow.get("steps") or [])
            for action in [_action(step["action"], f"steps.{step['name']}.action")]
        )
        if not steps:
            raise PlanError(f"workflow {name!r} has no steps")
    retry = document.get("retry") or {}
    return RunPlan(
        steps=steps,
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
        pause_after_failures=document.get("pause_after_failures"),
    )


def _in_order(steps: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Steps in an order where each comes after everything it ``needs`` (stable: among the
    steps that are ready, the one written first goes first). Stored workflows were checked
    for unknown needs and cycles; a step left over means the stored document is broken."""
    done: set[str] = set()
    ordered: list[Mapping[str, Any]] = []
    waiting = list(steps)
    while waiting:
        ready = next((s for s in waiting if set(s.get("needs") or ()) <= done), None)
        if ready is None:
            raise PlanError("the workflow's steps need each other in a cycle")
        waiting.remove(ready)
        ordered.append(ready)
        done.add(str(ready["name"]))
    return ordered


def _action(data: object, where: str) -> AnyAction:
    try:
        return _ACTION.validate_python(data)
    except ValidationError as exc:  # stored documents were validated: a newer schema?
        raise PlanError(f"the stored {where} is not valid: {exc.errors()[0]['msg']}") from None


def _duration(value: object, name: str) -> timedelta | None:
    if value is None:
        return None
    try:
        return parse_duration(str(value), field=name)
    except InvalidSpec as exc:
        raise PlanError(f"the stored {exc}") from None
