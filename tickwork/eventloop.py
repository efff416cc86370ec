"""The event loop a node runs on: uvloop where it is installed, else asyncio's own.

In a burst of webhooks a node's loop spends most of its time in the HTTP client and the
socket transports under it; uvloop's, written in C on libuv, take less CPU per request
(``benchmarks/burst_bench.py`` runs its node through :func:`run`, like ``tickwork serve``).
uvloop is a dependency wherever it is supported; elsewhere (Windows) asyncio's loop runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["loop_factory", "run"]

T = TypeVar("T")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop factory, or None (asyncio's default loop) when it is not installed."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - installed on every platform it supports
        return None
    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` to completion on a new loop from :func:`loop_factory`, like
    ``asyncio.run`` (which always uses asyncio's own loop)."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)
