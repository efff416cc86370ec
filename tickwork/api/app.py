"""The FastAPI application of a node: health, readiness and the built-in echo endpoint.

The REST API under ``/api/v1`` grows here, one router per resource; routes only parse,
call the service layer and render.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tickwork import __version__
from tickwork.node import Node

__all__ = ["create_app"]

ECHO_MAX_BYTES = 64 * 1024
"""The echo endpoint answers with at most this much of the body it received."""


def create_app(node: Node) -> FastAPI:
    app = FastAPI(title="Tickwork", version=__version__, docs_url="/docs")

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        """The process is alive."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    async def readyz() -> JSONResponse:
        """Ready when the store answers and the scheduler and worker loops are running."""
        checks = {
            "store": await asyncio.to_thread(_store_reachable, node),
            "scheduler": node.scheduler.running,
            "worker": node.worker.started,
        }
        ready = all(checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    @app.api_route(
        "/api/v1/echo", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], tags=["health"]
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

    return app


def _store_reachable(node: Node) -> bool:
    try:
        with node.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception:
        return False
    return True
