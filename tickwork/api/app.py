"""The FastAPI application of a node: the REST API under ``/api/v1``, health and metrics,
and the web dashboard at ``/`` (:mod:`tickwork.dashboard`).

Routes only parse, call the service layer and render (one router per resource under
``routers/``); errors become problem+json in :mod:`tickwork.api.problems`; who may call
what is declared with the dependency aliases of :mod:`tickwork.api.deps`.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI

from tickwork import __version__
from tickwork.api.limits import BodySizeLimit, TokenBuckets
from tickwork.api.problems import install_problem_handlers
from tickwork.api.routers import (
    apply,
    cron,
    executions,
    health,
    schedules,
    stats,
    tokens,
    workflows,
)
from tickwork.dashboard import mount_dashboard
from tickwork.node import Node
from tickwork.service.tokens import TokenService

__all__ = ["ApiSettings", "create_app"]

API_PREFIX = "/api/v1"


@dataclass(frozen=True, slots=True)
class ApiSettings:
    max_body_bytes: int = 256 * 1024
    """Request bodies over this are refused (413) before anything parses them."""
    rate_per_token: float = 100.0
    """Requests a second each token may make on average; 0 turns rate limiting off."""
    burst_per_token: int = 200
    max_apply_bytes: int = 16 * 1024 * 1024
    """``POST /api/v1/apply`` carries a whole set of files: its own, larger cap."""


def create_app(node: Node, settings: ApiSettings | None = None) -> FastAPI:
    settings = settings or ApiSettings()
    app = FastAPI(
        title="Tickwork",
        version=__version__,
        description="Schedules that fire exactly once, on time, in any time zone.",
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    app.state.node = node
    app.state.tokens = TokenService(node.engine, node.clock)
    app.state.rate_limits = TokenBuckets(settings.rate_per_token, settings.burst_per_token)
    install_problem_handlers(app)
    app.include_router(health.router)
    for module in (schedules, executions, workflows, cron, stats, tokens, apply):
        app.include_router(module.router, prefix=API_PREFIX)
    mount_dashboard(app, node, app.state.tokens)
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        larger={f"{API_PREFIX}/apply": settings.max_apply_bytes},
    )
    return app
