"""A schedule's firing rules: what the loop needs from a document, built once per revision.

The loop never re-validates a stored document with pydantic: documents are validated
when they are written (``ScheduleDocument``) and stored in their canonical JSON form
(``model_dump(mode="json")``), so :func:`rules_from_stored` reads the few fields firing
needs straight from that form. A burst of ten thousand due schedules then costs a cron
parse each, not a full document validation.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from tickwork.durations import parse_duration
from tickwork.schedule.fires import Window, iter_nominal_fires
from tickwork.schedule.policies import MisfirePolicy, OverlapPolicy
from tickwork.schedule.triggers import (
    AnyTrigger,
    AtTrigger,
    CronTrigger,
    IntervalTrigger,
    as_utc,
    instants_key,
)

__all__ = ["ScheduleRules", "rules_from_stored"]

_DEFAULT_CATCHUP_WINDOW = timedelta(hours=1)
_DEFAULT_MAX_ATTEMPTS = 3
_NO_INPUT: Mapping[str, Any] = MappingProxyType({})
"""The input of every schedule that declares none: one object, so writing a burst of their
executions encodes it once."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduleRules:
    """When a schedule fires and what each fire's execution starts with."""

    trigger: AnyTrigger
    window: Window
    jitter: timedelta = timedelta(0)
    overlap: OverlapPolicy = OverlapPolicy.SKIP
    misfire: MisfirePolicy = MisfirePolicy.RUN_ONCE
    catchup_window: timedelta = _DEFAULT_CATCHUP_WINDOW
    priority: int = 0
    concurrency_key: str | None = None
    concurrency_limit: int | None = None
    max_attempts: int = _DEFAULT_MAX_ATTEMPTS
    workflow: str | None = None
    input: Mapping[str, Any] = field(default_factory=dict)
    timing_key: tuple[object, ...] = field(init=False, repr=False, compare=False)
    """Equal for two schedules whose nominal instants are the same (see :meth:`timing`),
    quick to hash: what the loop groups a burst by."""

    def __post_init__(self) -> None:
        window = self.window
        key = (*instants_key(self.trigger), window.start_at, window.end_at, window.max_runs)
        object.__setattr__(self, "timing_key", key)

    def next_fire(self, after: datetime, runs_so_far: int) -> datetime | None:
        """The first nominal instant strictly after ``after``; None when the schedule is done."""
        fires = iter_nominal_fires(self.trigger, after, window=self.window, runs_so_far=runs_so_far)
        return next(fires, None)

    def timing(self) -> tuple[object, ...]:
        """What decides the nominal instants: when it changes, the schedule's future changes."""
        return (self.trigger, self.window)


def _trigger(
    trigger: Mapping[str, Any], timezone: str, schedule_id: uuid.UUID, created_at: datetime
) -> AnyTrigger:
    if "cron" in trigger:
        return CronTrigger(trigger["cron"], timezone, hash_key=str(schedule_id))
    if "interval" in trigger:
        every = _parse_duration(trigger["interval"], "trigger.interval")
        anchor = trigger.get("anchor")
        # No anchor: the grid goes through the creation instant, so the first fire comes
        # one interval after the schedule was created.
        return IntervalTrigger(every, _instant(anchor) or created_at)
    return AtTrigger(as_utc(datetime.fromisoformat(trigger["at"]), "trigger.at"))


def rules_from_stored(
    document: Mapping[str, Any], *, schedule_id: uuid.UUID, created_at: datetime
) -> ScheduleRules:
    """The rules of a stored (already validated, canonical JSON) document."""
    get = document.get
    timezone = get("timezone") or "UTC"
    retry = get("retry") or {}
    catchup = get("catchup_window")
    return ScheduleRules(
        trigger=_trigger(document["trigger"], timezone, schedule_id, created_at),
        window=Window(
            start_at=_instant(get("start_at")),
            end_at=_instant(get("end_at")),
            max_runs=get("max_runs"),
        ),
        jitter=_duration(get("jitter"), "jitter") or timedelta(0),
        overlap=OverlapPolicy(get("overlap") or OverlapPolicy.SKIP),
        misfire=MisfirePolicy(get("misfire") or MisfirePolicy.RUN_ONCE),
        catchup_window=(
            _DEFAULT_CATCHUP_WINDOW
            if catchup is None
            else _parse_duration(catchup, "catchup_window")
        ),
        priority=int(get("priority") or 0),
        concurrency_key=get("concurrency_key"),
        concurrency_limit=get("concurrency_limit"),
        max_attempts=int(retry.get("max_attempts", _DEFAULT_MAX_ATTEMPTS)),
        workflow=get("workflow"),
        input=get("input") or _NO_INPUT,
    )


def _instant(value: str | None) -> datetime | None:
    if value is None:
        return None
    return as_utc(datetime.fromisoformat(value), "instant")


def _duration(value: str | None, name: str) -> timedelta | None:
    return None if value is None else _parse_duration(value, name)


def _parse_duration(text: str, name: str) -> timedelta:
    """Stored documents repeat a handful of durations (``0s``, ``1h``…): parse each once."""
    if isinstance(text, str):
        return _parse_duration_once(text, name)
    return parse_duration(text, field=name)  # not a string: let it say what is wrong


@lru_cache(maxsize=1024)
def _parse_duration_once(text: str, name: str) -> timedelta:
    return parse_duration(text, field=name)
