"""The schedule document: one shape for YAML (``tickwork apply``), the REST API and the UI.

Every model forbids unknown keys (a typo is an error, never silently dropped) and is
frozen. Durations and instants are strings in the document and ``timedelta`` / aware
``datetime`` inside; ``model_dump(mode="json")`` writes the document back, so
``from_mapping(doc.model_dump(mode="json")) == doc``. :meth:`ScheduleDocument.from_mapping`
is the entry point for untrusted input: its only error is ``InvalidDocument``, listing
every problem with its dotted field path.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Discriminator,
    Field,
    JsonValue,
    StrictBool,
    StrictFloat,
    StrictInt,
    Tag,
    ValidationError,
)
from pydantic import model_validator as _model_validator

from tickwork.cron import CronExpr, CronSyntaxError, resolve_zone
from tickwork.errors import InvalidDocument, InvalidSpec
from tickwork.schedule.policies import MisfirePolicy, OverlapPolicy
from tickwork.spec.actions import (
    ACTION_KINDS,
    Action,
    HttpActionDocument,
    PythonActionDocument,
    ShellActionDocument,
)
from tickwork.spec.errors import invalid_document
from tickwork.spec.types import (
    DocumentModel,
    Duration,
    FieldProblem,
    Instant,
    IntervalDuration,
    Name,
    PositiveDuration,
)

__all__ = [
    "VALIDATION_HASH_KEY",
    "AtTriggerDocument",
    "CronTriggerDocument",
    "IntervalTriggerDocument",
    "RetryDocument",
    "ScheduleDocument",
    "Trigger",
]

VALIDATION_HASH_KEY = "tickwork:validate"
"""Stands in for the schedule id when a document's cron expression is checked, so ``H``
expressions validate; the expression that fires is parsed with the schedule's real id."""


def _check_cron(text: str) -> str:
    try:
        CronExpr.parse(text, hash_key=VALIDATION_HASH_KEY)
    except CronSyntaxError as exc:
        raise InvalidSpec("cron", "", str(exc)) from None
    return text


class CronTriggerDocument(DocumentModel):
    """Fire on a cron expression, read on the wall clock of the schedule's time zone."""

    cron: Annotated[str, AfterValidator(_check_cron)] = Field(examples=["30 2 * * 1-5"])


class IntervalTriggerDocument(DocumentModel):
    """Fire every ``interval`` of elapsed time, on a grid through ``anchor``."""

    interval: IntervalDuration
    anchor: Instant | None = None


class AtTriggerDocument(DocumentModel):
    """Fire once, at an instant."""

    at: Instant


TRIGGER_KINDS = ("cron", "interval", "at")
_TRIGGER_TYPES: dict[type[DocumentModel], str] = {
    CronTriggerDocument: "cron",
    IntervalTriggerDocument: "interval",
    AtTriggerDocument: "at",
}


def _trigger_kind(value: object) -> str | None:
    if isinstance(value, DocumentModel):
        return _TRIGGER_TYPES.get(type(value))
    if isinstance(value, Mapping):
        kinds = [kind for kind in TRIGGER_KINDS if kind in value]
        return kinds[0] if len(kinds) == 1 else None
    return None


def _exactly_one_trigger(value: object) -> object:
    if isinstance(value, DocumentModel):
        return value
    if not isinstance(value, Mapping):
        raise InvalidSpec("trigger", "", "must be a mapping with one of cron, interval or at")
    kinds = [kind for kind in TRIGGER_KINDS if kind in value]
    if not kinds:
        raise InvalidSpec("trigger", "", "needs one of cron, interval or at")
    if len(kinds) > 1:
        raise InvalidSpec("trigger", "", f"has {' and '.join(kinds)}; give exactly one")
    if "anchor" in value and kinds != ["interval"]:
        raise FieldProblem("anchor", "", "applies only to an interval trigger")
    return value


Trigger = Annotated[
    Annotated[CronTriggerDocument, Tag("cron")]
    | Annotated[IntervalTriggerDocument, Tag("interval")]
    | Annotated[AtTriggerDocument, Tag("at")],
    Discriminator(_trigger_kind),
    BeforeValidator(_exactly_one_trigger),
]
"""Exactly one of ``{cron}``, ``{interval, anchor}`` or ``{at}``."""

FailureClassName = Literal["connection", "timeout", "5xx", "429"]
"""Failures that ``retry_on`` can name (exit codes are listed in ``exit_codes``)."""


class RetryDocument(DocumentModel):
    """Retries of a failed attempt: exponential backoff, capped, by failure class."""

    max_attempts: StrictInt = Field(
        default=3, ge=1, le=100, description="All attempts, the first too."
    )
    initial_interval: Duration = timedelta(seconds=1)
    multiplier: StrictFloat = Field(default=2.0, ge=1.0, allow_inf_nan=False)
    max_interval: Duration = timedelta(minutes=5)
    jitter: StrictBool = True
    retry_on: tuple[FailureClassName, ...] = ("connection", "timeout", "5xx", "429")
    exit_codes: tuple[StrictInt, ...] = Field(
        default=(), description="Exit codes of a shell step that are worth retrying."
    )

    @_model_validator(mode="after")
    def _cap_not_below_start(self) -> Self:
        if self.max_interval < self.initial_interval:
            raise FieldProblem("max_interval", "", "must be at least initial_interval")
        return self


def _check_zone(name: str) -> str:
    resolve_zone(name)
    return name


Count = Annotated[StrictInt, Field(ge=1, le=1_000_000_000)]
TagText = Annotated[str, Field(pattern=r"^\S{1,64}$")]


class ScheduleDocument(DocumentModel):
    """When a workflow starts, with what input: the document of DESIGN.md, field by field."""

    name: Name
    namespace: Name = "default"
    description: str | None = Field(default=None, max_length=1000)
    trigger: Trigger
    timezone: Annotated[str, AfterValidator(_check_zone)] = Field(
        default="UTC", examples=["Europe/Berlin"]
    )
    start_at: Instant | None = None
    end_at: Instant | None = None
    max_runs: Count | None = None
    jitter: Duration = timedelta(0)
    overlap: OverlapPolicy = OverlapPolicy.SKIP
    misfire: MisfirePolicy = MisfirePolicy.RUN_ONCE
    catchup_window: Duration = timedelta(hours=1)
    timeout: PositiveDuration | None = None
    priority: StrictInt = Field(default=0, ge=-100, le=100)
    concurrency_key: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Runs sharing a key are limited together (to concurrency_limit, or 1).",
    )
    concurrency_limit: Count | None = None
    retry: RetryDocument = RetryDocument()
    paused: StrictBool = False
    pause_note: str | None = Field(default=None, max_length=1000)
    pause_after_failures: Count | None = None
    input: dict[str, JsonValue] = Field(default_factory=dict)
    action: Action | None = None
    workflow: Name | None = None
    tags: tuple[TagText, ...] = ()

    @_model_validator(mode="after")
    def _cross_field_rules(self) -> Self:
        if self.action is not None and self.workflow is not None:
            raise FieldProblem("workflow", "", "cannot be set together with action; pick one")
        if self.action is None and self.workflow is None:
            raise FieldProblem("action", "", "is required (or workflow: <name>)")
        if self.start_at and self.end_at and self.end_at <= self.start_at:
            raise FieldProblem("end_at", "", "must be after start_at")
        if self.concurrency_limit is not None and self.concurrency_key is None:
            raise FieldProblem("concurrency_limit", "", "needs a concurrency_key")
        return self

    @classmethod
    def from_mapping(cls, data: object) -> ScheduleDocument:
        """Validate a loaded YAML/JSON document; ``InvalidDocument`` lists what is wrong."""
        if not isinstance(data, Mapping):
            raise InvalidDocument([("", f"must be a mapping, not {type(data).__name__}")])
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise invalid_document(exc, known_fields=KNOWN_FIELDS, tags=TAGS) from None


KNOWN_FIELDS: dict[str, tuple[str, ...]] = {
    "": tuple(ScheduleDocument.model_fields),
    "retry": tuple(RetryDocument.model_fields),
    "trigger": ("cron", "interval", "anchor", "at"),
    "action": tuple(
        dict.fromkeys(
            name
            for model in (HttpActionDocument, ShellActionDocument, PythonActionDocument)
            for name in model.model_fields
        )
    ),
}
"""Field names by parent path, to suggest the closest one for a misspelt key."""

TAGS: dict[str, tuple[str, ...]] = {"trigger": TRIGGER_KINDS, "action": ACTION_KINDS}
"""The tagged unions: pydantic puts the tag in error locations; documents do not have it."""
