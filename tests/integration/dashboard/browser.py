"""A signed-in visitor of the dashboard, as plain HTTP: forms posted as a browser posts
them, with the CSRF token read from the page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from tests.integration.api.rig import Server

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


def visitor(server: Server) -> httpx.Client:
    """Not signed in; redirects are not followed, so tests see them."""
    return httpx.Client(base_url=server.url, timeout=30, follow_redirects=False)


@contextmanager
def sign_in(server: Server, who: str) -> Iterator[httpx.Client]:
    """A visitor signed in with the token of ``who`` (a caller of the rig)."""
    with visitor(server) as client:
        form = client.get("/login")
        answer = client.post(
            "/login", data={"csrf": csrf_of(form.text), "token": server.tokens[who]}
        )
        assert answer.status_code == 303, answer.text
        yield client


def post_form(client: httpx.Client, page: str, action: str, **fields: Any) -> httpx.Response:
    """Open ``page``, then post ``fields`` to ``action`` with the page's CSRF token."""
    html = client.get(page).text
    return client.post(action, data={"csrf": csrf_of(html), **fields})


def http_schedule(server: Server, name: str = "ping", **extra: Any) -> dict[str, Any]:
    """A schedule document whose action calls the server's own echo endpoint."""
    return {
        "name": name,
        "trigger": {"cron": "0 3 * * *"},
        "action": {"kind": "http", "url": f"{server.url}/api/v1/echo"},
        **extra,
    }
