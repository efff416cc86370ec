"""Python actions the worker tests run (referenced as ``tests.integration.worker.targets:…``)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

calls: list[dict[str, Any]] = []


def record(data: dict[str, Any]) -> dict[str, Any]:
    calls.append(data)
    return {"seen": data.get("n"), "calls": len(calls)}


async def record_async(data: dict[str, Any]) -> list[Any]:
    await asyncio.sleep(0)
    return ["async", data.get("n")]


def explode(data: dict[str, Any]) -> None:
    raise ValueError(f"cannot handle {data.get('n')}")


GATE = threading.Event()
"""Set by a test to let :func:`wait_for_gate` return."""


def wait_for_gate(data: dict[str, Any]) -> str:
    if not GATE.wait(timeout=20):
        raise TimeoutError("the test never opened the gate")
    return "through"


RELEASES: dict[int, asyncio.Event] = {}
"""Set by a test to let the run of :func:`held` with input ``{"n": n}`` return."""


async def held(data: dict[str, Any]) -> int:
    number = int(data["n"])
    await RELEASES.setdefault(number, asyncio.Event()).wait()
    return number
