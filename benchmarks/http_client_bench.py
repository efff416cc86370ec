"""Webhook throughput of aiohttp's client against httpx.AsyncClient, side by side.

Why the http action uses aiohttp: a worker firing webhooks spends its time in the HTTP
client. A local aiohttp sink (in its own process, so the clients do not share its CPU)
answers small JSON POSTs on 127.0.0.1; each client keeps ``--concurrency`` requests in
flight for ``--seconds`` on one pooled session, and the script prints requests per second
and the ratio. Tickwork's own ``HttpRunner`` (aiohttp plus templating, headers, guard and
outcome) runs too, to show what the runner adds. httpx is optional: without it, that row
is skipped with a message.

    .venv/bin/python benchmarks/http_client_bench.py [--seconds 3] [--concurrency 200]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import multiprocessing
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from typing import Any

import aiohttp
from aiohttp import web
from pydantic import JsonValue

from tickwork.actions.base import StepContext
from tickwork.actions.http import HttpRunner
from tickwork.clock import SystemClock
from tickwork.spec.actions import HttpActionDocument

BODY: dict[str, JsonValue] = {
    "schedule": "nightly-report",
    "scheduled_for": "2026-12-01T09:00:00Z",
    "attempt": 1,
}

Send = Callable[[], Awaitable[None]]


def serve(port_out: Connection) -> None:
    """The sink: answers every POST with a small JSON body, until terminated."""

    async def hook(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"ok": True})

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/hook", hook)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        port_out.send(runner.addresses[0][1])
        await asyncio.Event().wait()

    asyncio.run(main())


async def measure(send: Send, seconds: float, concurrency: int) -> float:
    """Requests per second with ``concurrency`` senders looping until the time is up."""
    await asyncio.gather(*(send() for _ in range(concurrency)))  # warm the pool
    done = 0
    stop_at = time.perf_counter() + seconds

    async def sender() -> None:
        nonlocal done
        while time.perf_counter() < stop_at:
            await send()
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(sender() for _ in range(concurrency)))
    return done / (time.perf_counter() - started)


async def bench_aiohttp(url: str, seconds: float, concurrency: int) -> float:
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def send() -> None:
            async with session.post(url, json=BODY) as response:
                await response.read()
                assert response.status == 200

        return await measure(send, seconds, concurrency)


async def bench_httpx(httpx: Any, url: str, seconds: float, concurrency: int) -> float:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits) as client:

        async def send() -> None:
            response = await client.post(url, json=BODY)
            assert response.status_code == 200

        rate: float = await measure(send, seconds, concurrency)
        return rate


async def bench_runner(url: str, seconds: float, concurrency: int) -> float:
    runner = HttpRunner(SystemClock())
    action = HttpActionDocument(kind="http", url=url, body={**BODY, "attempt": "{{ attempt }}"})
    context = StepContext(
        execution_id=uuid.uuid4(),
        scheduled_for=datetime(2026, 12, 1, 9, tzinfo=UTC),
        attempt=1,
        schedule_id=None,
        schedule_name="nightly-report",
        namespace="default",
        input={},
        timeout=timedelta(seconds=30),
    )

    async def send() -> None:
        outcome = await runner.run(action, context)
        assert outcome.ok, outcome.error

    try:
        return await measure(send, seconds, concurrency)
    finally:
        await runner.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=200)
    args = parser.parse_args()

    receive, send_port = multiprocessing.Pipe(duplex=False)
    sink = multiprocessing.get_context("spawn").Process(target=serve, args=(send_port,))
    sink.start()
    try:
        if not receive.poll(30):
            raise SystemExit("the sink did not start within 30s")
        url = f"http://127.0.0.1:{receive.recv()}/hook"
        print(f"{args.concurrency} requests in flight, {args.seconds:g}s per client, {url}")
        rates = {
            f"aiohttp {aiohttp.__version__}": asyncio.run(
                bench_aiohttp(url, args.seconds, args.concurrency)
            )
        }
        try:
            httpx = importlib.import_module("httpx")
        except ImportError:
            print("httpx is not installed: skipped (pip install httpx to compare)")
        else:
            version = httpx.__version__
            rates[f"httpx {version}"] = asyncio.run(
                bench_httpx(httpx, url, args.seconds, args.concurrency)
            )
        rates["tickwork HttpRunner"] = asyncio.run(
            bench_runner(url, args.seconds, args.concurrency)
        )
    finally:
        sink.terminate()
        sink.join()
    for name, rate in rates.items():
        print(f"{name:<24} {rate:>10,.0f} req/s")
    httpx_rows = [rate for name, rate in rates.items() if name.startswith("httpx")]
    if httpx_rows:
        aiohttp_rate = next(iter(rates.values()))
        print(f"aiohttp / httpx: {aiohttp_rate / httpx_rows[0]:.2f}x")


if __name__ == "__main__":
    main()
