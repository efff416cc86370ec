"""Workflows over HTTP: the workflow document, flattened, with its id and version.

Bodies are validated by :meth:`WorkflowDocument.from_mapping` (not by FastAPI), so every
problem names its field the way the document is written (``steps[2].needs``); the
OpenAPI schema still describes the document. Read-only fields in a body (``id``,
``version``…) are ignored, so what a GET returned can be edited and sent back with PUT.
The ETag is ``"v<version>"``; ``If-Match`` with an older one is refused with 412.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Query, Request, Response
from pydantic import Field, JsonValue

from tickwork.api.deps import NodeDep, Reader, Writer
from tickwork.api.problems import COMMON_PROBLEMS, PreconditionFailed, problem_responses
from tickwork.api.representations import Page, decode_cursor, encode_cursor
from tickwork.api.schedule_views import override_view
from tickwork.errors import Conflict, InvalidSpec
from tickwork.service.workflows import MAX_PAGE, WorkflowService
from tickwork.spec.json_schema import inlined
from tickwork.spec.types import NAME_PATTERN
from tickwork.spec.workflows import WorkflowDocument
from tickwork.store.workflows import WorkflowRecord

router = APIRouter(
    prefix="/workflows",
    tags=["workflows"],
    responses=COMMON_PROBLEMS,
)
_HIDDEN = problem_responses(_404="No such workflow, or not in the token's namespace.")
_UNREADABLE = problem_responses(
    _400="The body could not be read as JSON text (not UTF-8, for one)."
)

READ_ONLY = (
    "id",
    "version",
    "created_at",
    "updated_at",
    "managed_by",
    "managed_file",
    "override",
)


class Workflow(WorkflowDocument):
    """A stored workflow: its document and what Tickwork keeps about it."""

    id: uuid.UUID
    version: int
    created_at: datetime
    updated_at: datetime
    managed_by: str | None
    managed_file: str | None
    override: dict[str, JsonValue] | None = Field(
        default=None,
        description=(
            "Fields of a YAML-managed workflow changed through the API since its file was "
            'applied, each as {"file": ..., "current": ...}; None when no file manages it.'
        ),
    )


_DOCUMENT_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": inlined(WorkflowDocument.model_json_schema())}},
    }
}
DocumentBody = Annotated[Any, Body()]


def _service(node: NodeDep) -> WorkflowService:
    return node.workflows


Workflows = Annotated[WorkflowService, Depends(_service)]


@router.post(
    "",
    status_code=201,
    openapi_extra=_DOCUMENT_BODY,
    responses={
        **_UNREADABLE,
        **problem_responses(_409="A workflow of that name is in the namespace already."),
    },
)
def create_workflow(
    body: DocumentBody, service: Workflows, caller: Writer, request: Request, response: Response
) -> Workflow:
    """Create a workflow (version 1)."""
    record = service.create(_document(body), caller=caller)
    response.headers["Location"] = str(request.url_for("get_workflow", workflow_id=record.id))
    return _render(record, response)


@router.get("")
def list_workflows(
    service: Workflows,
    caller: Reader,
    namespace: Annotated[str | None, Query(pattern=NAME_PATTERN)] = None,
    name_prefix: Annotated[str | None, Query(max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the page before.")] = None,
) -> Page[Workflow]:
    """Workflows by namespace, then name."""
    after = None
    if cursor is not None:
        last_namespace, last_name = decode_cursor(cursor, 2)
        if not isinstance(last_namespace, str) or not isinstance(last_name, str):
            raise InvalidSpec("cursor", "", "is not a cursor this list returned")
        after = (last_namespace, last_name)
    page = service.list_page(
        caller=caller, namespace=namespace, name_prefix=name_prefix, after=after, limit=limit
    )
    last = page.items[-1] if page.more else None
    return Page(
        items=[_representation(record) for record in page.items],
        next_cursor=None if last is None else encode_cursor(last.namespace, last.name),
    )


@router.get("/{workflow_id}", responses=_HIDDEN)
def get_workflow(
    workflow_id: uuid.UUID, service: Workflows, caller: Reader, response: Response
) -> Workflow:
    return _render(service.get(workflow_id, caller=caller), response)


@router.put(
    "/{workflow_id}",
    openapi_extra=_DOCUMENT_BODY,
    responses={
        **_UNREADABLE,
        **_HIDDEN,
        **problem_responses(_412="`If-Match` names an older version."),
    },
)
def update_workflow(
    workflow_id: uuid.UUID,
    body: DocumentBody,
    service: Workflows,
    caller: Writer,
    response: Response,
    if_match: Annotated[str | None, Header(description='`"v<version>"` from the ETag.')] = None,
) -> Workflow:
    """Replace the document; the version goes up by one."""
    expected = _expected_version(if_match)
    try:
        record = service.update(
            workflow_id, _document(body), caller=caller, expected_version=expected
        )
    except Conflict as exc:
        if exc.constraint == "version":
            raise PreconditionFailed(str(exc)) from None
        raise
    return _render(record, response)


@router.delete(
    "/{workflow_id}",
    status_code=204,
    responses={**_HIDDEN, **problem_responses(_409="A schedule still starts this workflow.")},
)
def delete_workflow(workflow_id: uuid.UUID, service: Workflows, caller: Writer) -> None:
    service.delete(workflow_id, caller=caller)


def _document(body: object) -> object:
    """The body without the read-only fields a representation carries."""
    if isinstance(body, Mapping):
        return {key: value for key, value in body.items() if key not in READ_ONLY}
    return body  # from_mapping names what is wrong with it


def _representation(record: WorkflowRecord) -> Workflow:
    return Workflow.model_validate(
        {
            **record.document,
            "id": record.id,
            "version": record.version,
            "created_at": record.created_at,
            "updated_at": record.updated_at,
            "managed_by": record.managed_by,
            "managed_file": record.managed_file,
            "override": override_view(record.document, record.managed_document),
        }
    )


def _render(record: WorkflowRecord, response: Response) -> Workflow:
    response.headers["ETag"] = f'"v{record.version}"'
    return _representation(record)


def _expected_version(if_match: str | None) -> int | None:
    if if_match is None or if_match.strip() == "*":
        return None
    text = if_match.strip().removeprefix("W/").strip('"')
    if not text.startswith("v") or not text[1:].isdigit():
        raise InvalidSpec("If-Match", repr(if_match), 'must be an ETag this API sent, like "v3"')
    return int(text[1:])
