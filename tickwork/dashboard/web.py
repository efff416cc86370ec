"""What every dashboard page shares: the signed-in viewer, posted forms checked against
CSRF, rendering a template, and errors shown as pages (never problem+json).

Routes declare what they need with :data:`ViewerDep` (a GET page) or :data:`PostedDep`
(a form post); both send a visitor without a session to the sign-in page.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment

from tickwork.dashboard.forms import Form, read_form, safe_back
from tickwork.dashboard.sessions import SESSION_COOKIE, Session, SessionStore
from tickwork.errors import Conflict, Forbidden, InvalidSpec, NotFound, TickworkError
from tickwork.node import Node
from tickwork.service.access import Caller, Scope
from tickwork.service.overview import OverviewService
from tickwork.service.tokens import TokenService

__all__ = [
    "Dashboard",
    "DashboardDep",
    "PageRoute",
    "Posted",
    "PostedDep",
    "SignedPostDep",
    "Viewer",
    "ViewerDep",
    "parse_id",
    "redirect",
]


@dataclass(frozen=True, slots=True)
class Dashboard:
    """The dashboard's share of a node: its services, sessions and templates."""

    node: Node
    tokens: TokenService
    sessions: SessionStore
    overview: OverviewService
    templates: Environment


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is looking: the session and the caller its token stands for now."""

    session: Session
    caller: Caller

    @property
    def can_write(self) -> bool:
        return self.caller.can(Scope.WRITE)


@dataclass(frozen=True, slots=True)
class Posted:
    viewer: Viewer
    form: Form

    @property
    def caller(self) -> Caller:
        return self.viewer.caller

    def back(self, default: str = "/") -> str:
        return safe_back(self.form.get("back"), default)


LIVE_HEADER = "X-Tickwork-Live"
"""Sent by ``static/live.js`` when it fetches a page again to refresh its live parts."""


class SignInRequired(Exception):
    """No session, or its token was revoked: the visitor is sent to sign in."""


class CsrfRejected(Exception):
    """A form posted without this session's CSRF token."""


async def _dashboard(request: Request) -> Dashboard:
    dashboard: Dashboard = request.app.state.dashboard
    return dashboard


async def _viewer(request: Request) -> Viewer:
    dashboard: Dashboard = request.app.state.dashboard
    cookie = request.cookies.get(SESSION_COOKIE)
    session = dashboard.sessions.get(cookie)
    if session is None:
        raise SignInRequired
    caller = dashboard.tokens.cached_caller(session.token)
    if caller == "unknown":
        caller = await asyncio.to_thread(dashboard.tokens.caller_for, session.token)
    if not isinstance(caller, Caller):
        dashboard.sessions.close(cookie)
        raise SignInRequired
    session.caller = caller
    return Viewer(session, caller)


async def _signed_post(request: Request, viewer: Annotated[Viewer, Depends(_viewer)]) -> Posted:
    form = await read_form(request)
    if not viewer.session.csrf_matches(form.get("csrf")):
        raise CsrfRejected
    return Posted(viewer, form)


async def _change(posted: Annotated[Posted, Depends(_signed_post)]) -> Posted:
    """Every form that changes something needs the write scope, as the API's routes do
    (the service layer checks namespaces and admin-only actions itself)."""
    if not posted.caller.can(Scope.WRITE):
        raise Forbidden(f"this needs the {Scope.WRITE} scope", scope=Scope.WRITE.value)
    return posted


DashboardDep = Annotated[Dashboard, Depends(_dashboard)]
ViewerDep = Annotated[Viewer, Depends(_viewer)]
PostedDep = Annotated[Posted, Depends(_change)]
"""A form that changes something: CSRF checked, write scope required."""
SignedPostDep = Annotated[Posted, Depends(_signed_post)]
"""A form of any signed-in viewer (signing out): CSRF checked."""


def parse_id(text: str, kind: str) -> uuid.UUID:
    """An id from a path; anything else is simply not found."""
    try:
        return uuid.UUID(text)
    except ValueError:
        raise NotFound(kind, text[:64]) from None


def redirect(path: str) -> RedirectResponse:
    """After a form post: see the result with a GET (303)."""
    return RedirectResponse(path, status_code=303)


def render(
    request: Request,
    template: str,
    viewer: Viewer | None,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    dashboard: Dashboard = request.app.state.dashboard
    page = dashboard.templates.get_template(template)
    live = request.headers.get(LIVE_HEADER) is not None
    html = page.render(
        request=request,
        path=request.url.path,
        full_path=_full_path(request),
        viewer=viewer,
        csrf=viewer.session.csrf if viewer else "",
        # A live refresh must not eat a message meant for the next page the viewer opens.
        flashes=viewer.session.take_flashes() if viewer and not live else [],
        now=dashboard.node.clock.now(),
        **context,
    )
    return HTMLResponse(
        html,
        status_code=status_code,
        headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"},
    )


def _full_path(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


_MESSAGES: Mapping[type[TickworkError], tuple[int, str]] = {
    NotFound: (404, "Not found"),
    Forbidden: (403, "Not allowed"),
    Conflict: (409, "Conflict"),
    InvalidSpec: (400, "Not valid"),
}


class PageRoute(APIRoute):
    """A dashboard route: errors become a page, or (after a form post) a message on the
    page the form came from."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired:
                target = quote(_full_path(request)) if request.method == "GET" else "/"
                return redirect(f"/login?next={target}")
            except CsrfRejected:
                return _error_page(
                    request,
                    403,
                    "Form expired",
                    "The form was not sent by this session (its security token is missing "
                    "or stale). Reload the page and try again.",
                )
            except TickworkError as exc:
                return await _tickwork_error(request, exc)

        return guarded


async def _tickwork_error(request: Request, exc: TickworkError) -> Response:
    status_code, title = next(
        ((code, title) for kind, (code, title) in _MESSAGES.items() if isinstance(exc, kind)),
        (500, "Something went wrong"),
    )
    if request.method == "POST" and not isinstance(exc, NotFound):
        dashboard: Dashboard = request.app.state.dashboard
        session = dashboard.sessions.get(request.cookies.get(SESSION_COOKIE))
        if session is not None:
            form = await read_form(request)  # starlette caches the body: read again freely
            session.flash("error", _plain(exc))
            return redirect(safe_back(form.get("back")))
    return _error_page(request, status_code, title, _plain(exc))


def _plain(exc: TickworkError) -> str:
    if isinstance(exc, Forbidden) and exc.scope:
        return f"Your token cannot do this: {exc}."
    if isinstance(exc, NotFound):
        return f"There is no {exc.kind} {exc.key} (or your token cannot see it)."
    return str(exc)


def _error_page(request: Request, status_code: int, title: str, detail: str) -> HTMLResponse:
    dashboard: Dashboard = request.app.state.dashboard
    session = dashboard.sessions.get(request.cookies.get(SESSION_COOKIE))
    viewer = Viewer(session, session.caller) if session is not None else None
    return render(
        request, "error.html", viewer, status_code=status_code, title=title, detail=detail
    )
