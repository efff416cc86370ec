"""API tokens: created with scopes and an optional namespace, checked on every request.

A token is ``tw_`` + 43 URL-safe characters (32 random bytes). Only its SHA-256 is stored,
so a leaked database does not leak tokens; a presented token is hashed and looked up,
and the hashes compared in constant time. Checks are cached for a few seconds (a
revoked token stops working within ``CACHE_TTL``), so reading a schedule costs no extra
query per request.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy.engine import Engine

from tickwork.clock import Clock
from tickwork.errors import Forbidden, InvalidSpec
from tickwork.ids import IdGenerator
from tickwork.service.access import Caller, Scope
from tickwork.spec.types import NAME_PATTERN, NAME_RULE
from tickwork.store.tokens import SqlTokenStore, TokenRecord

__all__ = ["CACHE_TTL", "NewToken", "TokenService", "hash_token"]

TOKEN_PREFIX = "tw_"
CACHE_TTL = timedelta(seconds=5)
_TOUCH_EVERY = timedelta(minutes=1)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class NewToken:
    """A token just created: ``token`` is shown once and never stored."""

    record: TokenRecord
    token: str


class TokenService:
    def __init__(self, engine: Engine, clock: Clock, *, ids: IdGenerator | None = None) -> None:
        self._engine = engine
        self._clock = clock
        self._ids = ids or IdGenerator(clock)
        self._store = SqlTokenStore()
        self._cache: dict[str, tuple[datetime, TokenRecord | None]] = {}
        self._touched: dict[uuid.UUID, datetime] = {}
        self._lock = threading.Lock()

    def create(
        self,
        name: str,
        scopes: Iterable[str],
        namespace: str | None = None,
        *,
        caller: Caller | None = None,
    ) -> NewToken:
        """A new token; ``caller`` (None: the local command line) must be an admin."""
        if caller is not None and not caller.can(Scope.ADMIN):
            raise Forbidden("creating tokens needs the admin scope", scope=Scope.ADMIN.value)
        wanted = _scopes(scopes)
        _check_name("name", name)
        if namespace is not None:
            _check_name("namespace", namespace)
        if caller is not None and caller.namespace is not None and namespace != caller.namespace:
            raise Forbidden(
                f"a token of namespace {caller.namespace!r} can only create tokens of it"
            )
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        record = TokenRecord(
            id=self._ids.new(),
            name=name,
            token_hash=hash_token(token),
            scopes=wanted,
            namespace=namespace,
            created_at=self._clock.now(),
            last_used_at=None,
            revoked_at=None,
        )
        with self._engine.begin() as conn:
            self._store.insert(conn, record)
        return NewToken(record, token)

    def ensure_initial_admin(self) -> NewToken | None:
        """On an empty store, an admin token for the first user (shown once); else None."""
        with self._engine.connect() as conn:
            if self._store.count(conn):
                return None
        return self.create("initial-admin", [Scope.ADMIN.value])

    def caller_for(self, token: str) -> Caller | None:
        """The caller a presented token stands for; None when it is unknown or revoked.
        May read the store: see :meth:`cached_caller` for the answer without I/O."""
        digest = hash_token(token)
        now = self._clock.now()
        with self._engine.connect() as conn:
            record = self._store.by_hash(conn, digest)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = (now, record)
        return self._caller(record, digest, now, note_use=True)

    def cached_caller(self, token: str) -> Caller | Literal["unknown"] | None:
        """The answer of :meth:`caller_for` if it was looked up less than ``CACHE_TTL``
        ago, without touching the store; ``"unknown"`` when it must be looked up."""
        digest = hash_token(token)
        now = self._clock.now()
        with self._lock:
            cached = self._cache.get(digest)
        if cached is None or now - cached[0] >= CACHE_TTL:
            return "unknown"
        return self._caller(cached[1], digest, now, note_use=False)

    def _caller(
        self, record: TokenRecord | None, digest: str, now: datetime, *, note_use: bool
    ) -> Caller | None:
        if record is None or record.revoked_at is not None:
            return None
        if not hmac.compare_digest(record.token_hash, digest):
            return None
        if note_use:
            self._note_use(record.id, now)
        return Caller(frozenset(Scope(s) for s in record.scopes), record.namespace, record.name)

    def list_all(self) -> list[TokenRecord]:
        with self._engine.connect() as conn:
            return self._store.list_all(conn)

    def revoke(self, token_id: uuid.UUID) -> None:
        with self._engine.begin() as conn:
            self._store.revoke(conn, token_id, self._clock.now())
        with self._lock:
            self._cache.clear()

    def _note_use(self, token_id: uuid.UUID, now: datetime) -> None:
        with self._lock:
            last = self._touched.get(token_id)
            if last is not None and now - last < _TOUCH_EVERY:
                return
            self._touched[token_id] = now
        with self._engine.begin() as conn:
            self._store.touch(conn, [token_id], now)


def _scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    wanted = tuple(dict.fromkeys(scopes))
    if not wanted:
        raise InvalidSpec("scope", "", "give at least one of read, write, admin")
    unknown = [s for s in wanted if s not in set(Scope)]
    if unknown:
        raise InvalidSpec("scope", ", ".join(unknown), "is not one of read, write, admin")
    return wanted


def _check_name(field: str, value: str) -> None:
    if not re.fullmatch(NAME_PATTERN, value):
        raise InvalidSpec(field, repr(value), NAME_RULE)
