"""The loop a node runs on: uvloop where it is installed, asyncio's own otherwise."""

from __future__ import annotations

import asyncio
import importlib.util

import pytest

from tickwork import eventloop


def test_run_returns_what_the_coroutine_returns_and_closes_its_loop() -> None:
    loops: list[asyncio.AbstractEventLoop] = []

    async def main() -> int:
        loops.append(asyncio.get_running_loop())
        await asyncio.sleep(0)
        return 42

    assert eventloop.run(main()) == 42
    assert loops[0].is_closed()


@pytest.mark.skipif(importlib.util.find_spec("uvloop") is None, reason="uvloop not installed")
def test_the_loop_is_uvloop_where_it_is_installed() -> None:
    import uvloop

    async def loop_type() -> type[asyncio.AbstractEventLoop]:
        return type(asyncio.get_running_loop())

    assert eventloop.run(loop_type()) is uvloop.Loop
