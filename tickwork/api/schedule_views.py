"""How schedules look in the REST API, and how request bodies about them are read.

A schedule is its stored document (the canonical form of :class:`ScheduleDocument`) with
read-only fields added (:class:`ReadOnlyFields`); a client may send those fields back
unchanged in a PUT or PATCH (GET, edit, PUT) and they are dropped before validation.

Request bodies are taken as raw JSON (:class:`RawJson`) and validated here or by the
service layer, so every error names its field in our words, the same as for a YAML
file; the OpenAPI schema still shows the model each body must match.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from cron_descriptor import FormatException, MissingFieldException, WrongArgumentException
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, GetCoreSchemaHandler, JsonValue, TypeAdapter
from pydantic import ValidationError as PydanticValidationError
from pydantic.config import JsonDict
from pydantic_core import core_schema

from tickwork.api.representations import Execution, decode_cursor
from tickwork.cron import CronExpr, CronSyntaxError
from tickwork.cron.explain import describe
from tickwork.errors import InvalidDocument, InvalidSpec
from tickwork.service.managed import overrides
from tickwork.spec.documents import ScheduleDocument
from tickwork.spec.errors import invalid_document
from tickwork.spec.types import Instant
from tickwork.store.protocols import ExecutionRecord, ScheduleRecord

__all__ = [
    "READ_ONLY_FIELDS",
    "BackfillRequest",
    "Backfilled",
    "Deleted",
    "Durations",
    "LastExecution",
    "Lateness",
    "Metrics",
    "Missed",
    "MissedItem",
    "NextFire",
    "NextFires",
    "PauseRequest",
    "RawJson",
    "ReadOnlyFields",
    "Schedule",
    "TriggerRequest",
    "describe_trigger",
    "document_of",
    "etag",
    "execution_cursor",
    "instant_of",
    "parse_body",
    "render",
    "revision_of",
    "schedule_cursor",
    "schedule_response",
]

M = TypeVar("M", bound=BaseModel)

_READ_ONLY: JsonDict = {"readOnly": True}


class LastExecution(BaseModel):
    """The schedule's newest run (``skipped`` and ``missed`` records do not count)."""

    id: uuid.UUID
    status: str
    trigger: str
    scheduled_for: datetime
    finished_at: datetime | None


class ReadOnlyFields(BaseModel):
    """What the API adds to a schedule's document; ignored when sent back."""

    id: uuid.UUID = Field(json_schema_extra=_READ_ONLY)
    revision: int = Field(
        json_schema_extra=_READ_ONLY, description='Also the ETag, as "r<revision>".'
    )
    state: str = Field(json_schema_extra=_READ_ONLY, description="active | paused | completed")
    created_at: datetime = Field(json_schema_extra=_READ_ONLY)
    updated_at: datetime = Field(json_schema_extra=_READ_ONLY)
    next_fire_at: datetime | None = Field(json_schema_extra=_READ_ONLY)
    runs_count: int = Field(json_schema_extra=_READ_ONLY)
    consecutive_failures: int = Field(json_schema_extra=_READ_ONLY)
    last_execution: LastExecution | None = Field(json_schema_extra=_READ_ONLY)
    trigger_description: str = Field(
        json_schema_extra=_READ_ONLY, examples=["Every 15 minutes", "every 15m"]
    )
    managed_by: str | None = Field(
        json_schema_extra=_READ_ONLY, description="The YAML set that manages it, if any."
    )
    managed_file: str | None = Field(json_schema_extra=_READ_ONLY)
    override: dict[str, JsonValue] | None = Field(
        default=None,
        json_schema_extra=_READ_ONLY,
        description=(
            "Fields of a YAML-managed schedule changed through the API or the dashboard "
            'since its file was applied, each as {"file": ..., "current": ...}; the next '
            "apply restores the file's values. None when no file manages it."
        ),
    )


READ_ONLY_FIELDS = frozenset(ReadOnlyFields.model_fields)


class Schedule(ScheduleDocument, ReadOnlyFields):
    """A schedule: its document with the read-only fields added (for the OpenAPI schema;
    responses are built by :func:`render`)."""


class PauseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=1000)


class TriggerRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input: dict[str, JsonValue] | None = Field(
        default=None, description="Replaces the schedule's input for this run."
    )


class BackfillRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: Instant
    end: Instant = Field(description="Inclusive; not in the future.")
    input: dict[str, JsonValue] | None = None


class Deleted(BaseModel):
    id: uuid.UUID
    cancelled_runs: int = Field(description="Unfinished runs of it that were cancelled.")


class Backfilled(BaseModel):
    items: list[Execution] = Field(description="The runs started, oldest instant first.")


class NextFire(BaseModel):
    local: datetime = Field(description="In the schedule's time zone, with its offset.")
    utc: datetime


class NextFires(BaseModel):
    timezone: str
    next: list[NextFire]


class MissedItem(BaseModel):
    scheduled_for: datetime
    status: str = Field(description="missed | skipped")
    reason: str | None


class Missed(BaseModel):
    items: list[MissedItem]


class Durations(BaseModel):
    p50: int | None
    p95: int | None


class Lateness(BaseModel):
    p50: int | None
    p95: int | None
    max: int | None


class Metrics(BaseModel):
    window: str
    since: datetime
    counts: dict[str, int] = Field(description="Runs created in the window, by status.")
    success_rate: float | None = Field(
        description="succeeded / (succeeded + failed + dead + timed_out); null without those."
    )
    duration_ms: Durations
    lateness_ms: Lateness = Field(description="How late fires were queued after their instant.")


# --------------------------------------------------------------------------------------
# Request bodies


@dataclass(frozen=True, slots=True)
class RawJson:
    """Annotates a body parameter so FastAPI hands over the JSON as it came (a route
    validates it, in our words) while OpenAPI shows ``model``'s schema."""

    model: type[BaseModel]

    def __get_pydantic_core_schema__(
        self, _source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        shown = handler(self.model)
        return core_schema.any_schema(
            metadata={"pydantic_js_annotation_functions": [lambda _c, h: h(shown)]},
            # Never used to serialize; it keeps the model's nested definitions reachable,
            # so they land in the OpenAPI components instead of being dropped.
            serialization=core_schema.plain_serializer_function_ser_schema(
                lambda value: value, return_schema=shown
            ),
        )


def _json_object(body: object, what: str) -> Mapping[str, Any]:
    if body is None:
        return {}
    if not isinstance(body, Mapping):
        raise InvalidDocument(
            [("", f"the body must be {what} (a JSON object sent as application/json)")]
        )
    problems = list(_unstorable(body))
    if problems:
        raise InvalidDocument(problems)
    return body


MAX_DEPTH = 64
"""Deepest nesting a request body may have."""


def _unstorable(body: object) -> Iterator[tuple[str, str]]:
    """What no store can keep, wherever it is in the body: NUL characters (PostgreSQL text
    cannot hold them), NaN and infinities (not JSON; Python's parser lets them in) and
    nesting deep enough to exhaust a recursive reader."""
    stack: list[tuple[object, str, int]] = [(body, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str) and "\x00" in value:
            yield path, "must not contain a NUL character (\\u0000)"
        elif isinstance(value, float) and not math.isfinite(value):
            yield path, "must be a finite number"
        elif depth >= MAX_DEPTH and isinstance(value, Mapping | list):
            yield path, f"nests deeper than {MAX_DEPTH} levels"
        elif isinstance(value, Mapping):
            for key, item in reversed(list(value.items())):
                where = f"{path}.{key}" if path else str(key)
                if "\x00" in key:
                    yield where, "is a key with a NUL character (\\u0000)"
                stack.append((item, where, depth + 1))
        elif isinstance(value, list):
            stack.extend(
                (item, f"{path}[{i}]", depth + 1) for i, item in reversed(list(enumerate(value)))
            )


_INSTANT: TypeAdapter[datetime] = TypeAdapter(Instant)


def instant_of(text: str | None, field: str) -> datetime | None:
    """An RFC 3339 instant with an offset from a query parameter (None: not given)."""
    if text is None:
        return None
    try:
        return _INSTANT.validate_python(text)
    except PydanticValidationError:
        raise InvalidSpec(
            field,
            repr(text),
            "is not an RFC 3339 instant with an offset, e.g. 2026-03-07T00:00:00Z",
        ) from None


def parse_body(model: type[M], body: object) -> M:
    """``body`` (raw JSON; None: no body) as ``model``; ``InvalidDocument`` naming each
    wrong field otherwise."""
    try:
        return model.model_validate(_json_object(body, "a JSON object"))
    except PydanticValidationError as exc:
        known = {"": tuple(model.model_fields)}
        raise invalid_document(exc, known_fields=known, tags={}) from None


def document_of(body: object, what: str = "a schedule document") -> dict[str, Any]:
    """A schedule document (or a patch of one) from a request body, without the read-only
    fields a client may have sent back."""
    if body is None:
        raise InvalidDocument([("", f"the body must be {what}; it is empty")])
    document = _json_object(body, what)
    return {key: value for key, value in document.items() if key not in READ_ONLY_FIELDS}


# --------------------------------------------------------------------------------------
# Revisions


def etag(record: ScheduleRecord) -> str:
    return f'"r{record.revision}"'


_ETAG = re.compile(r'\s*"r(\d{1,9})"\s*')


def revision_of(if_match: str | None) -> int | None:
    """The revision an ``If-Match`` header asks for: None without one (or with ``*``), 0
    (no revision has it, so it never matches) when it is not an ETag of ours."""
    if if_match is None or if_match.strip() == "*":
        return None
    found = _ETAG.fullmatch(if_match)
    return 0 if found is None else int(found.group(1))


# --------------------------------------------------------------------------------------
# Responses


def describe_trigger(record: ScheduleRecord) -> str:
    """'Every 15 minutes' (cron), 'every 15m' (interval), 'once at …' (at)."""
    trigger: Mapping[str, Any] = record.document["trigger"]
    if "cron" in trigger:
        expression = str(trigger["cron"])
        try:
            return describe(CronExpr.parse(expression, hash_key=str(record.id)))
        except (CronSyntaxError, FormatException, MissingFieldException, WrongArgumentException):
            return expression  # some valid expressions are beyond cron-descriptor
    if "interval" in trigger:
        anchor = trigger.get("anchor")
        suffix = f", aligned to {anchor}" if anchor else ""
        return f"every {trigger['interval']}{suffix}"
    return f"once at {trigger['at']}"


def override_view(
    document: Mapping[str, Any], managed_document: Mapping[str, Any] | None
) -> dict[str, JsonValue] | None:
    """What differs from the file, field by field; None when no file manages the row."""
    if managed_document is None:
        return None
    return {
        key: {"file": change.before, "current": change.after}
        for key, change in overrides(document, managed_document).items()
    }


def render(record: ScheduleRecord, last: ExecutionRecord | None) -> dict[str, Any]:
    """The schedule as the API shows it: document, then read-only fields."""
    fields = ReadOnlyFields(
        id=record.id,
        revision=record.revision,
        state=str(record.state),
        created_at=record.created_at,
        updated_at=record.updated_at,
        next_fire_at=record.next_fire_at,
        runs_count=record.runs_count,
        consecutive_failures=record.consecutive_failures,
        last_execution=None
        if last is None
        else LastExecution(
            id=last.id,
            status=str(last.status),
            trigger=str(last.trigger),
            scheduled_for=last.scheduled_for,
            finished_at=last.finished_at,
        ),
        trigger_description=describe_trigger(record),
        managed_by=record.managed_by,
        managed_file=record.managed_file,
        override=override_view(record.document, record.managed_document),
    )
    return {**record.document, **fields.model_dump(mode="json")}


def schedule_response(
    record: ScheduleRecord,
    last: ExecutionRecord | None,
    *,
    status_code: int = 200,
    location: str | None = None,
) -> JSONResponse:
    headers = {"ETag": etag(record)}
    if location is not None:
        headers["Location"] = location
    return JSONResponse(render(record, last), status_code=status_code, headers=headers)


# --------------------------------------------------------------------------------------
# Cursors


def schedule_cursor(cursor: str | None) -> tuple[str, str] | None:
    """The (namespace, name) a schedules cursor resumes after."""
    if cursor is None:
        return None
    namespace, name = decode_cursor(cursor, 2)
    if not isinstance(namespace, str) or not isinstance(name, str) or "\x00" in namespace + name:
        raise _bad_cursor()
    return namespace, name


def execution_cursor(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    """The (scheduled_for, id) an executions cursor resumes after."""
    if cursor is None:
        return None
    instant, run_id = decode_cursor(cursor, 2)
    try:
        after = datetime.fromisoformat(instant), uuid.UUID(run_id)
    except (TypeError, ValueError):
        raise _bad_cursor() from None
    if after[0].tzinfo is None:
        raise _bad_cursor()
    return after


def _bad_cursor() -> InvalidSpec:
    return InvalidSpec("cursor", "", "is not a cursor this list returned")
