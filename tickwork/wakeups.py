"""Waking an asyncio loop from any thread: store listeners and services run in threads."""

from __future__ import annotations

import asyncio

__all__ = ["set_from_any_thread"]


def set_from_any_thread(loop: asyncio.AbstractEventLoop | None, event: asyncio.Event) -> None:
    """Set ``event``, which belongs to ``loop``; a no-op before the loop runs or after it
    closed. From another thread the set is scheduled on the loop (asyncio is not
    thread-safe); from the loop's own thread it happens at once."""
    if loop is None or loop.is_closed():
        return
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        event.set()
    else:
        loop.call_soon_threadsafe(event.set)
