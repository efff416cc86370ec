"""A real HTTP server on loopback that webhooks are sent to, scripted per test."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    status: int = 200
    body: str = '{"ok": true}'
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


class Sink:
    """Answers each request with the next scripted reply (200 when none is left) and
    records what it received."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.replies: deque[Reply] = deque()
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def script(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    async def _handle(self, request: web.Request) -> web.Response:
        self.received.append(Received(request.path, dict(request.headers), await request.read()))
        reply = self.replies.popleft() if self.replies else Reply()
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)
        return web.Response(
            status=reply.status,
            text=reply.body,
            content_type="application/json",
            headers=reply.headers,
        )


@asynccontextmanager
async def serving() -> AsyncIterator[Sink]:
    sink = Sink()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", sink._handle)
    runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert server is not None
    sink.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
    try:
        yield sink
    finally:
        await runner.cleanup()
