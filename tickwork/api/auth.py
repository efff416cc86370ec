"""Who is calling: ``Authorization: Bearer <token>`` to a :class:`Caller`, scopes checked.

Routes declare what they need with the dependency aliases of :mod:`tickwork.api.deps`
(``Reader``, ``Writer``, ``Admin``); nothing else in a route deals with tokens.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from fastapi import Request

from tickwork.api.problems import RateLimited, Unauthorized
from tickwork.errors import Forbidden
from tickwork.service.access import Caller, Scope
from tickwork.service.tokens import TokenService

__all__ = ["requires"]


async def _authenticated(request: Request) -> Caller:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("send Authorization: Bearer <token> (tickwork token create)")
    state = request.app.state
    tokens: TokenService = state.tokens
    # A token checked in the last few seconds is answered from memory, on the event loop;
    # only a lookup in the store goes to a thread.
    caller = tokens.cached_caller(token)
    if caller == "unknown":
        caller = await asyncio.to_thread(tokens.caller_for, token)
    if not isinstance(caller, Caller):
        raise Unauthorized("the token is unknown or revoked")
    wait_s = state.rate_limits.take(caller.name + ":" + token[-8:])
    if wait_s > 0:
        raise RateLimited(wait_s)
    return caller


def requires(scope: Scope) -> Callable[[Request], Awaitable[Caller]]:
    """A dependency: the authenticated caller, who must have ``scope``. Asynchronous, so
    FastAPI does not spend a thread-pool hop on it."""

    async def dependency(request: Request) -> Caller:
        caller = await _authenticated(request)
        if not caller.can(scope):
            raise Forbidden(f"this needs the {scope} scope", scope=scope.value)
        return caller

    dependency.__name__ = f"requires_{scope}"
    return dependency
