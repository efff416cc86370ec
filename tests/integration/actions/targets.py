"""Functions the python-runner tests call by name (``tests.integration.actions.targets:…``)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable
from typing import Any

RELEASE = threading.Event()
"""What :func:`blocking` waits for: set by the test once it has seen the timeout."""


def greet(payload: dict[str, Any]) -> dict[str, Any]:
    """Sync: runs in the runner's thread pool; mutating the input is harmless."""
    payload["day"] = "changed"
    return {"hello": payload.get("name", "world"), "thread": threading.current_thread().name}


async def greet_async(payload: dict[str, Any]) -> list[Any]:
    await asyncio.sleep(0)
    return [payload["day"], threading.current_thread().name]


def returns_awaitable(payload: dict[str, Any]) -> Awaitable[str]:
    async def later() -> str:
        return "awaited"

    return later()


def returns_tuple(payload: dict[str, Any]) -> tuple[int, int]:
    return (1, 2)


def returns_set(payload: dict[str, Any]) -> set[int]:
    return {1, 2}


def fails(payload: dict[str, Any]) -> None:
    raise ValueError("bad day: " + str(payload.get("day")))


def exits(payload: dict[str, Any]) -> None:
    raise SystemExit(2)


def blocking(payload: dict[str, Any]) -> str:
    RELEASE.wait(10)
    return "finished late"


async def hangs(payload: dict[str, Any]) -> None:
    await asyncio.Event().wait()


class Namespace:
    """A dotted attribute path after the colon: ``targets:Namespace.method``."""

    @staticmethod
    def method(payload: dict[str, Any]) -> str:
        return "nested"


NOT_CALLABLE = 42
