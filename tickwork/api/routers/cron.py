"""Cron tools over HTTP (what ``tickwork cron`` does offline): validate, describe, preview.

A valid expression answers 200 with ``valid: true``; an invalid one answers 200 with
``valid: false`` and the reason, so an editor can validate as the user types without
treating every keystroke as an error. An unknown zone or a bad count is a 422 problem.
"""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import islice
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from tickwork.api.deps import Reader
from tickwork.api.problems import COMMON_PROBLEMS
from tickwork.cron import CronExpr, CronSyntaxError, resolve_zone
from tickwork.cron.explain import describe
from tickwork.spec.documents import VALIDATION_HASH_KEY

router = APIRouter(prefix="/cron", tags=["cron"], responses=COMMON_PROBLEMS)

MAX_PREVIEW = 100


class CronRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expression: StrictStr = Field(max_length=500, examples=["30 2 * * 1-5"])
    timezone: StrictStr = Field(default="UTC", max_length=64, examples=["Europe/Berlin"])
    count: StrictInt = Field(default=5, ge=0, le=MAX_PREVIEW)
    after: datetime | None = Field(default=None, description="RFC 3339; default: now.")


class FireInstant(BaseModel):
    local: datetime
    utc: datetime


class CronAnswer(BaseModel):
    expression: str
    timezone: str
    valid: bool
    error: str | None = None
    description: str | None = None
    next: list[FireInstant] = Field(default_factory=list)


def _answer(expression: str, timezone: str, count: int, after: datetime | None) -> CronAnswer:
    zone = resolve_zone(timezone)  # an unknown zone is the caller's error: 422
    try:
        parsed = CronExpr.parse(expression, hash_key=VALIDATION_HASH_KEY)
    except CronSyntaxError as exc:
        return CronAnswer(expression=expression, timezone=timezone, valid=False, error=str(exc))
    start = after if after is not None and after.tzinfo is not None else datetime.now(UTC)
    fires = islice(parsed.iter_after(start, zone), count)
    return CronAnswer(
        expression=expression,
        timezone=timezone,
        valid=True,
        description=describe(parsed),
        next=[FireInstant(local=fire, utc=fire.astimezone(UTC)) for fire in fires],
    )


@router.post("/validate")
def validate(body: CronRequest, _caller: Reader) -> CronAnswer:
    """Is the expression valid; what it means; its next fires in the zone."""
    return _answer(body.expression, body.timezone, body.count, body.after)


@router.get("/describe")
def describe_expression(
    _caller: Reader,
    expression: Annotated[str, Query(max_length=500, examples=["0 9 * * 5#3"])],
    timezone: Annotated[str, Query(max_length=64)] = "UTC",
    count: Annotated[int, Query(ge=0, le=MAX_PREVIEW)] = 5,
) -> CronAnswer:
    """The same as ``POST /cron/validate``, as a GET for links and quick checks."""
    return _answer(expression, timezone, count, None)
