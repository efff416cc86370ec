"""Serving a node over HTTP: uvicorn in the node's own event loop, stopped after the node.

Signals are not uvicorn's business here: ``tickwork serve`` stops the node on SIGTERM, and
the HTTP server goes last, so webhooks to the built-in echo endpoint still land while
running actions finish.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator

import anyio.to_thread
import uvicorn
from fastapi import FastAPI

from tickwork.node import Node

__all__ = ["ROUTE_THREADS", "serve_node"]

ROUTE_THREADS = 4
"""Threads for synchronous routes (anyio's default is 40)."""


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the caller owns signals


async def serve_node(
    node: Node,
    app: FastAPI,
    host: str,
    port: int,
    *,
    on_listening: Callable[[int], None] | None = None,
) -> None:
    """Run the node and its HTTP server until :meth:`Node.stop`; ``on_listening`` gets
    the port once the server accepts connections (useful with ``port=0``)."""
    # Synchronous routes run in anyio's thread pool. Its default of 40 threads only
    # fights over the GIL: the routes are short store reads, and a few threads keep the
    # cores busy with far less switching.
    anyio.to_thread.current_default_thread_limiter().total_tokens = ROUTE_THREADS
    # No access log: at warning level each line was built for nothing and dropped.
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", access_log=False, lifespan="off"
    )
    server = _Server(config)
    http = asyncio.create_task(server.serve())
    running = asyncio.create_task(node.run())
    try:
        while not server.started:
            if http.done():
                await http  # it failed to start (port taken…): raise its error
                raise OSError(f"the HTTP server on {host}:{port} stopped before it started")
            await asyncio.sleep(0.01)
        if on_listening is not None:
            socket = server.servers[0].sockets[0]
            on_listening(int(socket.getsockname()[1]))
        await running
    finally:
        if not running.done():
            node.stop()
            await running
        server.should_exit = True
        await http
