"""``POST /apply``: a whole set of declared files made true in one transaction.

The CLI (``tickwork apply -f``) reads the files, keeps the line of every field, and sends
the documents here; the service validates them all, compares them with the store and
writes the difference, or nothing (see :mod:`tickwork.service.apply`). Problems come back
as problem+json whose ``errors`` name the file, line and field of each.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from tickwork.api.deps import NodeDep, Writer
from tickwork.api.problems import COMMON_PROBLEMS, problem_responses
from tickwork.manifests.documents import KINDS, MAX_SET_NAME, Declared
from tickwork.service.apply import ACTIONS, MAX_DOCUMENTS, ApplyResult, Change
from tickwork.service.managed import FieldChange

router = APIRouter(tags=["apply"], responses=COMMON_PROBLEMS)


class DeclaredDocument(BaseModel):
    """One document of a file, with where it is written (for error messages)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["Schedule", "Workflow"]
    file: str = Field(min_length=1, max_length=1024, description="Relative to the set's root.")
    line: int = Field(default=1, ge=1, description="Where the document starts.")
    lines: dict[str, int] = Field(
        default_factory=dict,
        description='The line of each dotted field path, e.g. {"trigger.cron": 4}.',
    )
    document: dict[str, JsonValue] = Field(description="The document, without `kind`.")


class ApplyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    set: str = Field(min_length=1, max_length=MAX_SET_NAME, description="The managed set.")
    documents: list[DeclaredDocument] = Field(max_length=MAX_DOCUMENTS)
    prune: bool = Field(default=False, description="Delete what the set no longer declares.")
    dry_run: bool = Field(default=False, description="Report the changes; make none.")
    adopt: bool = Field(
        default=False, description="Take over schedules and workflows made by hand."
    )


class FieldDiff(BaseModel):
    before: Any = None
    after: Any = None


class AppliedChange(BaseModel):
    kind: str = Field(description=" | ".join(KINDS))
    namespace: str
    name: str
    action: str = Field(description=" | ".join(ACTIONS))
    file: str | None
    line: int | None
    fields: dict[str, FieldDiff] = Field(description="Updates: stored -> declared.")
    reverted: dict[str, FieldDiff] = Field(
        description="Overrides made through the API that this apply undoes: override -> file."
    )
    adopted: bool
    previous_file: str | None


class ApplyResponse(BaseModel):
    set: str
    dry_run: bool
    changes: list[AppliedChange]
    summary: dict[str, int] = Field(description="How many rows each action touched.")


@router.post(
    "/apply",
    response_model=ApplyResponse,
    responses=problem_responses(
        _409="A change clashes with the store (a workflow still started by a schedule).",
        _422="A document is invalid, or belongs to another set: `errors` name file and line.",
    ),
    summary="Apply a set of declared schedules and workflows",
)
def apply(body: ApplyRequest, node: NodeDep, caller: Writer) -> ApplyResponse:
    declared = [
        Declared(item.kind, item.document, item.file, item.line, item.lines)
        for item in body.documents
    ]
    result = node.apply.apply(
        body.set,
        declared,
        prune=body.prune,
        dry_run=body.dry_run,
        adopt=body.adopt,
        caller=caller,
    )
    return apply_response(result)


def _diff(changes: dict[str, FieldChange]) -> dict[str, FieldDiff]:
    return {key: FieldDiff(before=c.before, after=c.after) for key, c in changes.items()}


def _change(change: Change) -> AppliedChange:
    return AppliedChange(
        kind=change.kind,
        namespace=change.namespace,
        name=change.name,
        action=change.action,
        file=change.file,
        line=change.line,
        fields=_diff(change.fields),
        reverted=_diff(change.reverted),
        adopted=change.adopted,
        previous_file=change.previous_file,
    )


def apply_response(result: ApplyResult) -> ApplyResponse:
    """The answer of ``POST /apply`` for ``result``."""
    return ApplyResponse(
        set=result.set_name,
        dry_run=result.dry_run,
        changes=[_change(change) for change in result.changes],
        summary=result.counts(),
    )
