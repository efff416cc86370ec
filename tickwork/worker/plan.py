"""What a claimed run executes: its steps, retry policy and timeouts, read from its schedule.

A run executes under the documents as stored when it starts (an edit reaches queued runs
too), except for ``max_attempts``, which the run carries from when it was queued so that
an edit cannot retry a run more often than it was promised.

* A schedule with an inline ``action`` runs one step, named ``action``.
* A schedule naming a ``workflow`` runs the workflow's steps, one after another in an
  order that respects ``needs`` (each step sees the results of the steps before it).

Plans are cached by what they are built from (:class:`~tickwork.store.queue.PlanSource`,
the parts of the schedule's document the store reads out as JSON text, and the named
workflow's document): a burst of ten thousand runs of one schedule, or of ten thousand
schedules posting the same webhook, parses its action once.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import lru_cache

from pydantic import TypeAdapter, ValidationError

from tickwork.durations import parse_duration
from tickwork.errors import InvalidDocument, InvalidSpec
from tickwork.schedule.retry import RetryPolicy
from tickwork.spec.actions import (
    Action,
    HttpActionDocument,
    PythonActionDocument,
    ShellActionDocument,
)
from tickwork.spec.workflows import WorkflowDocument, steps_in_order
from tickwork.store.queue import PlanSource

__all__ = ["INLINE_STEP", "PlanError", "PlannedStep", "Plans", "RunPlan"]

AnyAction = HttpActionDocument | ShellActionDocument | PythonActionDocument
_ACTION: TypeAdapter[AnyAction] = TypeAdapter(Action)
_CACHE_SIZE = 16_384

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
    """Plans by what they are built from, least recently built dropped first."""

    def __init__(self, size: int = _CACHE_SIZE) -> None:
        self._size = size
        self._plans: OrderedDict[tuple[PlanSource, str | None], RunPlan] = OrderedDict()

    def get(
        self, source: PlanSource | None, max_attempts: int, *, workflow: str | None = None
    ) -> RunPlan:
        """The plan of a run whose schedule reads ``source`` now (None: the schedule is
        gone), starting the workflow stored as ``workflow`` (JSON text) if it names one;
        ``PlanError`` if there is none."""
        if source is None:
            raise PlanError("the run has no schedule (it was deleted)")
        key = (source, None if source.action is not None else workflow)
        plan = self._plans.get(key)
        if plan is None:
            plan = _build(source, workflow)
            self._plans[key] = plan
            while len(self._plans) > self._size:
                self._plans.popitem(last=False)
        if plan.retry.max_attempts != max_attempts:
            plan = replace(plan, retry=replace(plan.retry, max_attempts=max_attempts))
        return plan


def _build(source: PlanSource, workflow: str | None) -> RunPlan:
    timeout = _duration(source.timeout, "timeout")
    if source.action is not None:
        action = _action(source.action, "action")
        steps: tuple[PlannedStep, ...] = (
            PlannedStep(INLINE_STEP, action, action.timeout or timeout),
        )
    else:
        name = source.workflow
        if workflow is None:
            raise PlanError(f"workflow {name!r} is not defined in this namespace")
        try:
            parsed = WorkflowDocument.from_mapping(json.loads(workflow))
        except InvalidDocument as exc:  # stored documents were validated: a newer schema?
            raise PlanError(f"the stored workflow {name!r} is not valid: {exc}") from None
        steps = tuple(
            PlannedStep(step.name, step.action, step.action.timeout or timeout)
            for step in steps_in_order(parsed)
        )
    retry = (json.loads(source.retry) if source.retry is not None else None) or {}
    return RunPlan(
        steps=steps,
        retry=_retry_policy(
            int(retry.get("max_attempts", 3)),
            retry.get("initial_interval"),
            float(retry.get("multiplier", 2.0)),
            retry.get("max_interval"),
            bool(retry.get("jitter", True)),
            tuple(retry.get("retry_on", ("connection", "timeout", "5xx", "429"))),
            tuple(int(c) for c in retry.get("exit_codes", ())),
        ),
        pause_after_failures=source.pause_after_failures,
    )


@lru_cache(maxsize=1024)
def _retry_policy(
    max_attempts: int,
    initial_interval: str | None,
    multiplier: float,
    max_interval: str | None,
    jitter: bool,
    retry_on: tuple[str, ...],
    exit_codes: tuple[int, ...],
) -> RetryPolicy:
    """Schedules share a handful of retry policies: each is built once (a burst of
    distinct schedules would otherwise build one per run)."""
    return RetryPolicy(
        max_attempts=max_attempts,
        initial_interval=_duration(initial_interval, "retry.initial_interval")
        or timedelta(seconds=1),
        multiplier=multiplier,
        max_interval=_duration(max_interval, "retry.max_interval") or timedelta(minutes=5),
        jitter=jitter,
        retry_on=frozenset(retry_on),
        exit_codes=frozenset(exit_codes),
    )


def _action(text: str, where: str) -> AnyAction:
    """The validated action; validated once per distinct action (by its JSON text)."""
    try:
        return _action_from_json(text)
    except ValidationError as exc:  # stored documents were validated: a newer schema?
        raise PlanError(f"the stored {where} is not valid: {exc.errors()[0]['msg']}") from None


@lru_cache(maxsize=4096)
def _action_from_json(text: str) -> AnyAction:
    return _ACTION.validate_json(text)


def _duration(value: object, name: str) -> timedelta | None:
    if value is None:
        return None
    try:
        return parse_duration(str(value), field=name)
    except InvalidSpec as exc:
        raise PlanError(f"the stored {exc}") from None
