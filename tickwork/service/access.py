"""Who is asking: the scopes and namespace a change is made with, and what they allow.

Tokens carry scopes (``read``, ``write``, ``admin``) and a namespace (or all). The rules
that depend on them live here, once, for the API, CLI and dashboard alike. Code running
inside Tickwork itself (``tickwork serve --examples``, ``apply`` on the server's own
config, tests) acts as :data:`SYSTEM`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tickwork.errors import Forbidden

__all__ = ["SYSTEM", "Caller", "Scope", "require_action_allowed"]


class Scope(StrEnum):
    READ = "read"
    """See schedules, runs and their output."""
    WRITE = "write"
    """Create and change schedules with http actions; pause, trigger, retry, cancel."""
    ADMIN = "admin"
    """Everything, including actions that run code on the Tickwork host (shell, python)."""


ADMIN_ONLY_ACTIONS = frozenset({"shell", "python"})
"""Action kinds that run code on the Tickwork host: only admins may create them."""


@dataclass(frozen=True, slots=True)
class Caller:
    scopes: frozenset[Scope]
    namespace: str | None = None
    """The only namespace the caller sees; None: every namespace."""
    name: str = "system"
    """Who it is, for logs (the token's name)."""

    def can(self, scope: Scope) -> bool:
        """Admin implies write, write implies read."""
        if Scope.ADMIN in self.scopes:
            return True
        if scope is Scope.READ:
            return bool(self.scopes & {Scope.READ, Scope.WRITE})
        return scope in self.scopes

    def sees(self, namespace: str) -> bool:
        return self.namespace is None or self.namespace == namespace


SYSTEM = Caller(frozenset(Scope))


def require_action_allowed(caller: Caller, stored_document: Mapping[str, Any]) -> None:
    """``Forbidden`` when the document's action runs code on the host and ``caller`` is
    not an admin."""
    action = stored_document.get("action") or {}
    kind = action.get("kind")
    if kind in ADMIN_ONLY_ACTIONS and not caller.can(Scope.ADMIN):
        raise Forbidden(
            f"a {kind} action runs code on the Tickwork host: it needs the admin scope",
            scope=Scope.ADMIN.value,
        )
