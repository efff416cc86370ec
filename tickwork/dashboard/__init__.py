"""The web dashboard, served by ``tickwork serve`` at ``/``: server-rendered pages over
the service layer (never SQL, never the REST API over HTTP), signed in with an API token.

* :mod:`~tickwork.dashboard.sessions` and :mod:`~tickwork.dashboard.web`: sessions, CSRF,
  rendering, errors as pages;
* :mod:`~tickwork.dashboard.pages`: one router per area (overview, schedules, editor,
  runs, queue, sign-in);
* :mod:`~tickwork.dashboard.schedule_form`: the editor's form ⇄ the schedule document;
* :mod:`~tickwork.dashboard.charts`: small inline SVG charts;
* ``templates/`` and ``static/`` (our own CSS and a little JavaScript; nothing copied in).

The pages poll for changes (``static/live.js``): every few seconds the page's live parts
are fetched again and swapped in, unless the viewer is typing in them.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from tickwork.dashboard.pages import auth, editor, overview, queue, runs, schedules
from tickwork.dashboard.sessions import SessionStore
from tickwork.dashboard.templating import create_environment
from tickwork.dashboard.web import Dashboard
from tickwork.node import Node
from tickwork.service.overview import OverviewService
from tickwork.service.tokens import TokenService

__all__ = ["mount_dashboard"]

STATIC = Path(__file__).parent / "static"


def mount_dashboard(app: FastAPI, node: Node, tokens: TokenService) -> None:
    """Serve the dashboard's pages at ``/`` and its assets at ``/static``."""
    app.state.dashboard = Dashboard(
        node=node,
        tokens=tokens,
        sessions=SessionStore(node.clock),
        overview=OverviewService(node.engine, node.clock, lease=node.worker.settings.lease),
        templates=create_environment(),
    )
    # The editor first: its /schedules/new must win over /schedules/{schedule_id}.
    for module in (auth, overview, editor, schedules, runs, queue):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
