"""Shared set-up for the runner tests: a step context, and a real HTTP server on 127.0.0.1.

Each test drives its coroutine with :func:`run` (a fresh loop, as ``tickwork serve`` runs); the
server runs in that same loop. Handlers that must outlast a client's timeout wait on an
event the server sets when it stops, so nothing sleeps on a timer.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from aiohttp import web

from tickwork import eventloop
from tickwork.actions.base import StepContext

HANG_GUARD_S = 20
EXECUTION_ID = uuid.UUID("01890a5d-ac96-774b-bcce-b302099a8057")
SCHEDULE_ID = uuid.UUID("01890a5d-ac96-774b-bcce-b302099a8000")
SCHEDULED_FOR = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
BIG_BODY_BYTES = 1024 * 1024

T = TypeVar("T")


def run(scenario: Callable[[], Awaitable[T]]) -> T:
    """Run an async test body to completion on a fresh event loop."""

    async def guarded() -> T:
        return await asyncio.wait_for(scenario(), HANG_GUARD_S)

    return eventloop.run(guarded())


def step_context(**changes: Any) -> StepContext:
    """A context for attempt 1 of a nightly run, with a 5 s timeout unless changed."""
    base = StepContext(
        execution_id=EXECUTION_ID,
        scheduled_for=SCHEDULED_FOR,
        attempt=1,
        schedule_id=SCHEDULE_ID,
        schedule_name="nightly-report",
        namespace="default",
        input={"day": "monday", "items": [1, 2]},
        timeout=timedelta(seconds=5),
    )
    return replace(base, **changes)


def refused_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, read, and closed again)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@dataclass
class Received:
    """One request as the server saw it."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes


@dataclass
class Sink:
    """The test server: what it received, and its base URL."""

    base_url: str = ""
    received: list[Received] = field(default_factory=list)
    hits: dict[str, int] = field(default_factory=dict)
    released: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when the server stops: what slow handlers wait for."""
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once a request has been received."""

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    async def record(self, request: web.Request) -> int:
        """Keep the request; returns how many times its path was hit, this one included."""
        body = await request.read()
        self.received.append(Received(request.method, request.path, dict(request.headers), body))
        self.hits[request.path] = self.hits.get(request.path, 0) + 1
        self.arrived.set()
        return self.hits[request.path]


def _app(sink: Sink) -> web.Application:
    async def echo(request: web.Request) -> web.Response:
        await sink.record(request)
        return web.json_response({"ok": True, "path": request.path})

    async def flaky(request: web.Request) -> web.Response:
        if await sink.record(request) == 1:
            return web.Response(status=500, text="try again")
        return web.json_response({"ok": True})

    async def busy(request: web.Request) -> web.Response:
        await sink.record(request)
        retry_after = request.query.get("retry_after", "7")
        return web.Response(status=429, headers={"Retry-After": retry_after}, text="slow down")

    async def slow(request: web.Request) -> web.Response:
        await sink.record(request)
        await sink.released.wait()
        return web.Response(text="too late")

    async def redirect(request: web.Request) -> web.Response:
        await sink.record(request)
        return web.Response(status=302, headers={"Location": "/elsewhere"})

    async def big(request: web.Request) -> web.Response:
        await sink.record(request)
        return web.Response(body=b"x" * BIG_BODY_BYTES, content_type="application/json")

    async def text(request: web.Request) -> web.Response:
        await sink.record(request)
        return web.Response(text="plain words", headers={"X-Extra": "1"})

    async def status(request: web.Request) -> web.Response:
        await sink.record(request)
        code = int(request.match_info["code"])
        return web.Response(status=code, body=json.dumps({"code": code}).encode())

    app = web.Application()
    app.router.add_route("*", "/echo", echo)
    app.router.add_route("*", "/elsewhere", echo)
    app.router.add_route("*", "/flaky", flaky)
    app.router.add_route("*", "/busy", busy)
    app.router.add_route("*", "/slow", slow)
    app.router.add_route("*", "/redirect", redirect)
    app.router.add_route("*", "/big", big)
    app.router.add_route("*", "/text", text)
    app.router.add_route("*", "/status/{code}", status)
    return app


@asynccontextmanager
async def serving() -> AsyncIterator[Sink]:
    """The test server on 127.0.0.1, on a free port, for the duration of the block."""
    sink = Sink()
    runner = web.AppRunner(_app(sink), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    sink.base_url = f"http://{host}:{port}"
    try:
        yield sink
    finally:
        sink.released.set()
        await runner.cleanup()


def process_alive(pid: int) -> bool:
    """True while ``pid`` is a live process (a zombie waiting to be reaped counts as dead)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def wait_until_dead(pid: int, deadline_s: float = 5.0) -> bool:
    """Poll a real process until it is gone; False if it outlived ``deadline_s``."""
    give_up = time.monotonic() + deadline_s
    while process_alive(pid):
        if time.monotonic() > give_up:
            return False
        time.sleep(0.01)
    return True
