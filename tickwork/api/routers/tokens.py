"""API tokens: admins create, list and revoke them; a token is shown once, when created."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from tickwork.api.deps import Admin
from tickwork.api.problems import COMMON_PROBLEMS, problem_responses
from tickwork.service.tokens import TokenService
from tickwork.spec.types import NAME_PATTERN
from tickwork.store.tokens import TokenRecord

router = APIRouter(prefix="/tokens", tags=["tokens"], responses=COMMON_PROBLEMS)

ScopeName = Literal["read", "write", "admin"]


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: StrictStr = Field(pattern=NAME_PATTERN)
    scopes: list[ScopeName] = Field(min_length=1)
    namespace: StrictStr | None = Field(default=None, pattern=NAME_PATTERN)


class TokenOut(BaseModel):
    id: uuid.UUID
    name: str
    scopes: list[str]
    namespace: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class CreatedToken(TokenOut):
    token: str = Field(description="Shown once: only its hash is stored.")


def _out(record: TokenRecord) -> TokenOut:
    return TokenOut(
        id=record.id,
        name=record.name,
        scopes=list(record.scopes),
        namespace=record.namespace,
        created_at=record.created_at,
        last_used_at=record.last_used_at,
        revoked_at=record.revoked_at,
    )


def _service(request: Request) -> TokenService:
    tokens: TokenService = request.app.state.tokens
    return tokens


@router.post("", status_code=status.HTTP_201_CREATED)
def create_token(body: TokenRequest, caller: Admin, request: Request) -> CreatedToken:
    created = _service(request).create(body.name, body.scopes, body.namespace, caller=caller)
    return CreatedToken(**_out(created.record).model_dump(), token=created.token)


@router.get("")
def list_tokens(_caller: Admin, request: Request) -> list[TokenOut]:
    return [_out(record) for record in _service(request).list_all()]


@router.delete(
    "/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(_404="No such token, or it was revoked already."),
)
def revoke_token(token_id: uuid.UUID, _caller: Admin, request: Request) -> None:
    _service(request).revoke(token_id)
