"""Signing in with a token, and signing out.

The sign-in form is posted before there is a session, so it is protected against
cross-site posts by a double-submit cookie: a random value in a SameSite cookie that the
form must repeat.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from tickwork.dashboard.forms import read_form, safe_back
from tickwork.dashboard.sessions import (
    IDLE_TIMEOUT,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
)
from tickwork.dashboard.web import DashboardDep, PageRoute, SignedPostDep, redirect, render
from tickwork.service.access import Caller

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/login")
def login_page(
    request: Request, next: Annotated[str | None, Query(max_length=2000)] = None
) -> HTMLResponse:
    return _login_form(request, safe_back(next), error=None)


@router.post("/login")
async def sign_in(request: Request, dashboard: DashboardDep) -> Response:
    form = await read_form(request)
    target = safe_back(form.get("next"))
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    presented = form.get("csrf", "")
    if not expected or not hmac.compare_digest(expected, presented):
        return _login_form(
            request, target, error="The form expired. Please try again.", status_code=403
        )
    token = form.text("token")
    caller = await asyncio.to_thread(dashboard.tokens.caller_for, token) if token else None
    if not isinstance(caller, Caller):
        return _login_form(
            request, target, error="This token is unknown or revoked.", status_code=401
        )
    cookie, session = dashboard.sessions.open(token, caller)
    session.flash("ok", f"Signed in as {caller.name}.")
    response = redirect(target)
    _set_cookie(response, request, SESSION_COOKIE, cookie)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def sign_out(request: Request, _posted: SignedPostDep, dashboard: DashboardDep) -> Response:
    dashboard.sessions.close(request.cookies.get(SESSION_COOKIE))
    response = redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _login_form(
    request: Request, target: str, *, error: str | None, status_code: int = 200
) -> HTMLResponse:
    csrf = secrets.token_urlsafe(32)
    response = render(
        request,
        "login.html",
        None,
        status_code=status_code,
        login_csrf=csrf,
        next_path=target,
        error=error,
    )
    _set_cookie(response, request, LOGIN_CSRF_COOKIE, csrf, path="/login", max_age=3600)
    return response


def _set_cookie(
    response: Response,
    request: Request,
    name: str,
    value: str,
    *,
    path: str = "/",
    max_age: int = int(IDLE_TIMEOUT.total_seconds()),
) -> None:
    response.set_cookie(
        name,
        value,
        path=path,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
