"""Who is calling: ``Authorization: Bearer <token>`` to a :class:`Caller`, scopes checked.

Routes declare what they need with the dependency aliases of :mod:`tickwork.api.deps`
(``Reader``, ``Writer``, ``Admin``); nothing else in a route deals with tokens.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request

from tickwork.api.problems import RateLimited, Unauthorized
from tickwork.errors import Forbidden
from tickwork.service.access import Caller, Scope

__all__ = ["requires"]


def _authenticated(request: Request) -> Caller:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send Authorization: Bearer <token> (tickwork token create)")
    state = request.app.state
    caller: Caller | None = state.tokens.caller_for(token.strip())
    if caller is None:
        raise Unauthorized("the token is unknown or revoked")
    wait_s = state.rate_limits.take(caller.name + ":" + token[-8:])
    if wait_s > 0:
        raise RateLimited(wait_s)
    return caller


def requires(scope: Scope) -> Callable[[Request], Caller]:
    """A dependency: the authenticated caller, who must have ``scope``."""

    def dependency(request: Request) -> Caller:
        caller = _authenticated(request)
        if not caller.can(scope):
            raise Forbidden(f"this needs the {scope} scope", scope=scope.value)
        return caller

    dependency.__name__ = f"requires_{scope}"
    return dependency
