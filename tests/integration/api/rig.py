"""A real Tickwork server for API tests: a node on a fresh store, served over HTTP on a
free loopback port in a thread of its own, with a token for each kind of caller."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from tickwork.api.app import ApiSettings, create_app
from tickwork.api.server import serve_node
from tickwork.node import Node
from tickwork.service.tokens import TokenService

CALLERS: dict[str, tuple[list[str], str | None]] = {
    "admin": (["admin"], None),
    "writer": (["write"], None),
    "reader": (["read"], None),
    "team_a": (["write"], "team-a"),
    "team_b": (["write"], "team-b"),
    "admin_a": (["admin"], "team-a"),
}
"""Who the tests call as: scopes and namespace of each token."""


@dataclass
class Server:
    node: Node
    url: str
    tokens: dict[str, str] = field(default_factory=dict)

    def client(self, who: str | None = "admin", **headers: str) -> httpx.Client:
        """A client for ``/api/v1`` calling as ``who`` (None: no token)."""
        if who is not None:
            headers["Authorization"] = f"Bearer {self.tokens[who]}"
        return httpx.Client(base_url=f"{self.url}/api/v1", headers=headers, timeout=30)

    def raw(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)


@contextmanager
def serving(
    store_url: str, settings: ApiSettings | None = None, **node_options: Any
) -> Iterator[Server]:
    node = Node(store_url, **node_options)
    app = create_app(node, settings or ApiSettings(rate_per_token=0))
    service = TokenService(node.engine, node.clock)
    tokens = {
        who: service.create(who.replace("_", "-"), scopes, namespace).token
        for who, (scopes, namespace) in CALLERS.items()
    }
    listening = threading.Event()
    port: list[int] = []
    failure: list[BaseException] = []

    def on_listening(bound: int) -> None:
        port.append(bound)
        listening.set()

    def run() -> None:
        try:
            asyncio.run(serve_node(node, app, "127.0.0.1", 0, on_listening=on_listening))
        except BaseException as exc:  # surfaced below, in the test's thread
            failure.append(exc)
            listening.set()

    thread = threading.Thread(target=run, name="tickwork-test-server", daemon=True)
    thread.start()
    try:
        if not listening.wait(30) or failure:
            raise RuntimeError(f"the test server did not start: {failure}")
        yield Server(node, f"http://127.0.0.1:{port[0]}", tokens)
    finally:
        node.stop()
        thread.join(30)
        node.close()
        if failure:
            raise failure[0]
