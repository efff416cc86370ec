"""Dependency aliases for routes: who calls (by scope) and the node's services."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from tickwork.api.auth import requires
from tickwork.node import Node
from tickwork.service.access import Caller, Scope

__all__ = ["Admin", "NodeDep", "Reader", "Writer"]


async def _node(request: Request) -> Node:  # async: no thread-pool hop for a lookup
    node: Node = request.app.state.node
    return node


NodeDep = Annotated[Node, Depends(_node)]
Reader = Annotated[Caller, Depends(requires(Scope.READ))]
Writer = Annotated[Caller, Depends(requires(Scope.WRITE))]
Admin = Annotated[Caller, Depends(requires(Scope.ADMIN))]
