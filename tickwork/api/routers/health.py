"""Liveness, readiness, Prometheus metrics and the built-in echo endpoint (no token needed)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from tickwork.api.deps import NodeDep
from tickwork.metrics import CONTENT_TYPE
from tickwork.node import Node

router = APIRouter(tags=["health"])

ECHO_MAX_BYTES = 64 * 1024
"""The echo endpoint answers with at most this much of the body it received."""


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    responses={503: {"description": "Not ready: a check failed (see `checks`)."}},
)
async def readyz(node: NodeDep) -> JSONResponse:
    """Ready when the store answers at the current schema and the loops are running."""
    store, schema = await asyncio.to_thread(_store_checks, node)
    checks = {
        "store": store,
        "schema": schema,
        "scheduler": node.scheduler.running,
        "worker": node.worker.started,
    }
    ready = all(checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
    )


@router.get("/metrics", response_class=Response)
def metrics(node: NodeDep) -> Response:
    """Prometheus metrics of this node."""
    return Response(node.metrics.render(), media_type=CONTENT_TYPE)


@router.api_route(
    "/api/v1/echo",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
    include_in_schema=False,  # a test target, not part of the API (one route, many methods)
)
async def echo(request: Request) -> dict[str, Any]:
    """Answers with what it received: a webhook target for examples and smoke tests."""
    raw = await request.body()
    body: Any = raw[:ECHO_MAX_BYTES].decode("utf-8", errors="replace")
    if request.headers.get("content-type", "").startswith("application/json"):
        with contextlib.suppress(ValueError):
            body = json.loads(raw)
    headers = {
        name: value
        for name, value in request.headers.items()
        if name.lower().startswith(("x-tickwork-", "idempotency-key", "content-type"))
    }
    return {"method": request.method, "headers": headers, "body": body}


def _store_checks(node: Node) -> tuple[bool, bool]:
    try:
        with node.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception:
        return False, False
    return True, node.schema_current()
