"""API tokens in SQL: only SHA-256 hashes are stored; the token itself is shown once."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from tickwork.errors import NotFound
from tickwork.store.errors import translated_errors
from tickwork.store.tables import api_tokens

__all__ = ["SqlTokenStore", "TokenRecord"]

_c = api_tokens.c


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenRecord:
    id: uuid.UUID
    name: str
    token_hash: str
    scopes: tuple[str, ...]
    namespace: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def _record(row: RowMapping) -> TokenRecord:
    values = dict(row)
    values["scopes"] = tuple(values["scopes"])
    return TokenRecord(**values)


class SqlTokenStore:
    """Stateless; the caller owns the transaction."""

    def insert(self, conn: Connection, token: TokenRecord) -> None:
        values = {
            "id": token.id,
            "name": token.name,
            "token_hash": token.token_hash,
            "scopes": list(token.scopes),
            "namespace": token.namespace,
            "created_at": token.created_at,
            "last_used_at": None,
            "revoked_at": None,
        }
        with translated_errors():
            conn.execute(sa.insert(api_tokens).values(values))

    def by_hash(self, conn: Connection, token_hash: str) -> TokenRecord | None:
        with translated_errors():
            row = (
                conn.execute(sa.select(api_tokens).where(_c.token_hash == token_hash))
                .mappings()
                .one_or_none()
            )
        return None if row is None else _record(row)

    def list_all(self, conn: Connection) -> list[TokenRecord]:
        with translated_errors():
            rows = conn.execute(sa.select(api_tokens).order_by(_c.created_at)).mappings()
            return [_record(row) for row in rows]

    def count(self, conn: Connection) -> int:
        with translated_errors():
            return int(
                conn.execute(sa.select(sa.func.count()).select_from(api_tokens)).scalar_one()
            )

    def revoke(self, conn: Connection, token_id: uuid.UUID, now: datetime) -> None:
        with translated_errors():
            done = conn.execute(
                sa.update(api_tokens)
                .where(_c.id == token_id, _c.revoked_at.is_(None))
                .values(revoked_at=now)
            ).rowcount
        if not done:
            raise NotFound("token", str(token_id))

    def touch(self, conn: Connection, token_ids: Sequence[uuid.UUID], now: datetime) -> None:
        """Note when tokens were last used (batched by the caller)."""
        if not token_ids:
            return
        with translated_errors():
            conn.execute(
                sa.update(api_tokens).where(_c.id.in_(list(token_ids))).values(last_used_at=now)
            )
