"""The REST API under an open-loop load: latency of reads and triggers at a fixed rate.

For each store (SQLite in a temp file; PostgreSQL in a fresh database on 127.0.0.1:5432,
dropped at the end) the parent migrates the store, creates N schedules through the
service layer (a yearly cron, so none fires by itself; an ``http`` action to
127.0.0.1:9, where nothing listens, so a run fails at once: connection refused, one
attempt), M ended runs of theirs (a history for the runs list) and an admin token. A
child process then serves the store the way
``tickwork serve`` does: a ``Node`` (scheduler and worker) and
``create_app(node, ApiSettings(rate_per_token=0))`` under ``serve_node``.

The parent loads one endpoint at a time with an open-loop generator (asyncio and
aiohttp): a request is launched every 1/rate seconds whatever the answers, and each
latency is measured from the instant the request was due, so time spent queueing (in the
client's connection pool, the server's backlog or its thread pool) counts. Phases:

* ``read``: ``GET /api/v1/schedules/{id}``, a random schedule each time;
* ``runs``: ``GET /api/v1/executions?limit=50``, the newest page of runs;
* ``trigger``: ``POST /api/v1/schedules/{id}/trigger``, a random schedule each time
  (each makes a run that the child's worker then executes: last, so that work does not
  weigh on the other phases). After five failures in a row the worker's circuit breaker
  for 127.0.0.1:9 opens and the remaining runs wait (``waiting``) instead of running.

Reported per phase: requests sent, answered as expected, errors (other statuses,
timeouts, connection errors), the rate achieved, p50/p90/p99/max latency, how late the
generator itself launched requests (p99; if this is high the client, not the server, is
the bottleneck), and the CPU the server process used (in cores). A route the server does
not have is reported as skipped. The target: p99 under 20 ms for the read.

    .venv/bin/python benchmarks/api_bench.py [--rate 500] [--seconds 20] [--schedules 1000]
        [--runs 5000] [--stores sqlite,postgresql] [--phases read,runs,trigger]
        [--connections 100]

Smoke run: ``--rate 100 --seconds 3 --schedules 100 --runs 500 --stores sqlite``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import subprocess
import sys
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import IO, Any

import aiohttp
import sqlalchemy as sa
from stores import DEFAULT_POSTGRES_URL, database

from tickwork.clock import SystemClock
from tickwork.ids import IdGenerator
from tickwork.schedule.policies import ExecutionStatus, ExecutionTrigger
from tickwork.service.schedules import ScheduleService
from tickwork.service.tokens import TokenService
from tickwork.store.engine import create_store_engine
from tickwork.store.executions import SqlExecutionStore
from tickwork.store.migrate import upgrade
from tickwork.store.protocols import NewExecution
from tickwork.store.tables import executions

STORES = ("sqlite", "postgresql")
NAMESPACES = ("billing", "reports", "ops")
UNREACHABLE = "http://127.0.0.1:9/hook"
"""The discard port: nothing listens, so a run fails at once (and loopback is allowed)."""
TARGET_READ_P99_MS = 20.0
WARMUP_S = 2.0
"""Seconds of reads at the full rate before the first phase, not counted."""
REQUEST_TIMEOUT_S = 10.0
DRAIN_TIMEOUT_S = 30.0
"""How long the requests still in flight after a phase may take before they are cut."""
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 60.0


@dataclass(frozen=True, slots=True)
class Phase:
    """One endpoint under load."""

    name: str
    method: str
    route: str
    """The route as the app declares it, to tell whether the server has it."""
    expect: frozenset[int]
    path: Callable[[random.Random], str]


@dataclass
class Outcome:
    """What one phase measured; latencies in seconds from each request's due instant."""

    sent: int = 0
    latencies: list[float] = field(default_factory=list)
    launch_lag: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    elapsed_s: float = 0.0
    server_cpu_s: float = 0.0
    skipped: str | None = None

    def quantile_ms(self, values: list[float], q: float) -> float:
        """Nearest rank, in ms."""
        if not values:
            return float("nan")
        ordered = sorted(values)
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)] * 1000


# --------------------------------------------------------------------------------------
# The server: a child process serving the store the way `tickwork serve` does


def emit(**values: Any) -> None:
    """One JSON line to the parent."""
    sys.stdout.write(json.dumps(values) + "\n")
    sys.stdout.flush()


async def child_main(url: str) -> None:
    """Serve ``url`` until a line (or EOF) arrives on stdin."""
    from tickwork.api.app import ApiSettings, create_app
    from tickwork.api.server import serve_node
    from tickwork.node import Node

    node = Node(url)
    app = create_app(node, ApiSettings(rate_per_token=0))
    with warnings.catch_warnings():  # FastAPI's note on the echo route's operation ids
        warnings.simplefilter("ignore", UserWarning)
        paths = app.openapi()["paths"]
    routes = sorted(f"{method.upper()} {path}" for path, ops in paths.items() for method in ops)

    def wait_for_stop() -> None:
        sys.stdin.readline()
        node.stop()

    threading.Thread(target=wait_for_stop, name="stop-on-stdin", daemon=True).start()
    try:
        await serve_node(
            node, app, "127.0.0.1", 0, on_listening=lambda port: emit(port=port, routes=routes)
        )
    finally:
        node.close()


class Server:
    """This script, re-run with ``--child URL``: the server, spoken to in JSON lines."""

    def __init__(self, url: str) -> None:
        command = [sys.executable, __file__, "--child", url]
        self._process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        hello = self._read()
        self.port = int(hello["port"])
        self.routes = frozenset(str(route) for route in hello["routes"])

    def _read(self) -> dict[str, Any]:
        stdout = _pipe(self._process.stdout)
        line = stdout.readline()
        if not line:
            code = self._process.wait(timeout=START_TIMEOUT_S)
            raise RuntimeError(f"the server process exited ({code}) before it listened")
        message: dict[str, Any] = json.loads(line)
        return message

    def cpu_s(self) -> float:
        """User + system CPU time of the server process so far (Linux; else NaN)."""
        try:
            fields = _proc_stat(self._process.pid)
        except OSError:
            return float("nan")
        return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self._process.poll() is not None:
            return
        try:
            stdin = _pipe(self._process.stdin)
            stdin.write("stop\n")
            stdin.flush()
            self._process.wait(timeout=STOP_TIMEOUT_S)
        except (OSError, subprocess.TimeoutExpired):
            self._process.kill()
            self._process.wait()


def _proc_stat(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat, 0-based (the command name, which may hold spaces,
    left empty): utime is [13], stime [14]."""
    with open(f"/proc/{pid}/stat") as stat:
        text = stat.read()
    return ["", "", *text.rpartition(")")[2].split()]


def _pipe(stream: IO[str] | None) -> IO[str]:
    if stream is None:
        raise RuntimeError("the server process has no pipe")
    return stream


# --------------------------------------------------------------------------------------
# The load: open loop, one request every 1/rate seconds whatever the answers


async def open_loop(
    session: aiohttp.ClientSession, base: str, phase: Phase, rate: float, seconds: float
) -> Outcome:
    """Launch ``rate * seconds`` requests on a fixed timetable; wait (bounded) for them."""
    outcome = Outcome()
    picks = random.Random(f"{phase.name}:{rate}")
    period = 1.0 / rate
    total = max(1, round(rate * seconds))

    async def one(path: str, due: float) -> None:
        try:
            async with session.request(phase.method, base + path) as answer:
                await answer.read()
                status = answer.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            outcome.errors[type(exc).__name__] += 1
            return
        outcome.latencies.append(time.perf_counter() - due)
        if status not in phase.expect:
            outcome.errors[f"HTTP {status}"] += 1

    tasks: list[asyncio.Task[None]] = []
    start = time.perf_counter() + 0.01
    for number in range(total):
        due = start + number * period
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        outcome.launch_lag.append(time.perf_counter() - due)
        tasks.append(asyncio.create_task(one(phase.path(picks), due)))
    outcome.sent = len(tasks)
    _done, pending = await asyncio.wait(tasks, timeout=DRAIN_TIMEOUT_S)
    for task in pending:
        task.cancel()
    if pending:
        outcome.errors["unfinished"] += len(pending)
        await asyncio.gather(*pending, return_exceptions=True)
    outcome.elapsed_s = time.perf_counter() - start
    return outcome


async def run_phases(
    port: int, token: str, phases: list[Phase], server: Server, args: argparse.Namespace
) -> dict[str, Outcome]:
    base = f"http://127.0.0.1:{port}"
    connector = aiohttp.TCPConnector(limit=args.connections)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    headers = {"Authorization": f"Bearer {token}"}
    results: dict[str, Outcome] = {}
    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, headers=headers
    ) as session:
        if phases:
            await open_loop(session, base, phases[0], args.rate, WARMUP_S)
        for phase in phases:
            if f"{phase.method} {phase.route}" not in server.routes:
                results[phase.name] = Outcome(skipped="the server has no such route yet")
                continue
            cpu_before = server.cpu_s()
            outcome = await open_loop(session, base, phase, args.rate, args.seconds)
            outcome.server_cpu_s = server.cpu_s() - cpu_before
            results[phase.name] = outcome
    return results


def make_phases(schedule_ids: list[str], wanted: list[str]) -> list[Phase]:
    every = {
        "read": Phase(
            "read",
            "GET",
            "/api/v1/schedules/{schedule_id}",
            frozenset({200}),
            lambda r: f"/api/v1/schedules/{r.choice(schedule_ids)}",
        ),
        "trigger": Phase(
            "trigger",
            "POST",
            "/api/v1/schedules/{schedule_id}/trigger",
            frozenset({201}),
            lambda r: f"/api/v1/schedules/{r.choice(schedule_ids)}/trigger",
        ),
        "runs": Phase(
            "runs",
            "GET",
            "/api/v1/executions",
            frozenset({200}),
            lambda _r: "/api/v1/executions?limit=50",
        ),
    }
    return [every[name] for name in wanted]


# --------------------------------------------------------------------------------------
# One store


def prepare(url: str, count: int, runs: int) -> tuple[list[str], str, float]:
    """Migrate, create ``count`` schedules, ``runs`` ended runs of theirs (history for the
    runs list) and an admin token; (schedule ids, token, seconds the schedules took)."""
    upgrade(url)
    engine = create_store_engine(url)
    try:
        clock = SystemClock()
        service = ScheduleService(engine, clock)
        began = time.perf_counter()
        created = [
            service.create(
                {
                    "name": f"bench-{number:05d}",
                    "namespace": NAMESPACES[number % len(NAMESPACES)],
                    "trigger": {"cron": "0 0 1 1 *"},
                    "action": {"kind": "http", "url": UNREACHABLE},
                    "retry": {"max_attempts": 1},
                }
            )
            for number in range(count)
        ]
        seconds = time.perf_counter() - began
        ids = IdGenerator(clock)
        now = clock.now()
        history = [
            NewExecution(
                id=ids.new(),
                namespace=schedule.namespace,
                trigger=ExecutionTrigger.SCHEDULE,
                scheduled_for=now - timedelta(minutes=number + 1),
                status=ExecutionStatus.SUCCEEDED if number % 4 else ExecutionStatus.FAILED,
                created_at=now,
                schedule_id=schedule.id,
                schedule_name=schedule.name,
            )
            for number in range(runs)
            for schedule in [created[number % len(created)]]
        ]
        with engine.begin() as conn:
            SqlExecutionStore().record_fires(conn, history)
        token = TokenService(engine, clock).create("api-bench", ["admin"]).token
    finally:
        engine.dispose()
    return [str(schedule.id) for schedule in created], token, seconds


def runs_by_status(url: str) -> dict[str, int]:
    engine = create_store_engine(url)
    query = sa.select(executions.c.status, sa.func.count()).group_by(executions.c.status)
    try:
        with engine.connect() as conn:
            return {str(status): int(count) for status, count in conn.execute(query)}
    finally:
        engine.dispose()


def bench_store(store: str, url: str, args: argparse.Namespace) -> None:
    ids, token, create_s = prepare(url, args.schedules, args.runs)
    server = Server(url)
    try:
        phases = make_phases(ids, args.phases.split(","))
        results = asyncio.run(run_phases(server.port, token, phases, server, args))
        time.sleep(1.0)  # let the worker finish the last runs the triggers made
    finally:
        server.stop()
    print_store(store, args, create_s, results, runs_by_status(url))


# --------------------------------------------------------------------------------------
# Printing


def print_store(
    store: str,
    args: argparse.Namespace,
    create_s: float,
    results: dict[str, Outcome],
    statuses: dict[str, int],
) -> None:
    print(
        f"tickwork on {store}: {args.schedules:,} schedules created in {create_s:.1f} s "
        f"through the service layer"
    )
    header = (
        f"  {'endpoint':<42} {'sent':>6} {'ok':>6} {'errors':>6} {'req/s':>6} "
        f"{'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7} {'max ms':>8} {'lag p99':>8} {'server':>10}"
    )
    print(header)
    for name, outcome in results.items():
        label = _LABELS[name]
        if outcome.skipped is not None:
            print(f"  {label:<42} skipped: {outcome.skipped}")
            continue
        errors = sum(outcome.errors.values())
        ok = outcome.sent - errors
        achieved = len(outcome.latencies) / outcome.elapsed_s if outcome.elapsed_s else 0.0
        q = outcome.quantile_ms
        lat = outcome.latencies
        cores = outcome.server_cpu_s / outcome.elapsed_s if outcome.elapsed_s else float("nan")
        print(
            f"  {label:<42} {outcome.sent:>6,} {ok:>6,} {errors:>6,} {achieved:>6.0f} "
            f"{q(lat, 0.50):>7.1f} {q(lat, 0.90):>7.1f} {q(lat, 0.99):>7.1f} "
            f"{q(lat, 1.0):>8.1f} {q(outcome.launch_lag, 0.99):>8.1f} {cores:>5.2f} cores"
        )
        if outcome.errors:
            kinds = ", ".join(f"{kind}: {count:,}" for kind, count in outcome.errors.most_common())
            print(f"  {'':<42} errors by kind: {kinds}")
    read = results.get("read")
    if read is not None and read.skipped is None and read.latencies:
        p99 = read.quantile_ms(read.latencies, 0.99)
        verdict = "ok" if p99 < TARGET_READ_P99_MS and not read.errors else "OVER"
        print(f"  target: read p99 < {TARGET_READ_P99_MS:.0f} ms: {verdict} ({p99:.1f} ms)")
    if statuses:
        shown = ", ".join(f"{status} {count:,}" for status, count in sorted(statuses.items()))
        print(f"  runs in the store afterwards (the history included): {shown}")
    print()


_LABELS = {
    "read": "GET /api/v1/schedules/{id}",
    "runs": "GET /api/v1/executions?limit=50",
    "trigger": "POST /api/v1/schedules/{id}/trigger",
}
"""The phases, in the order they run: triggers last, since the runs they make keep the
server's worker busy for a while."""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rate", type=float, default=500.0, help="requests a second")
    parser.add_argument("--seconds", type=float, default=20.0, help="per phase")
    parser.add_argument("--schedules", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=5_000, help="ended runs stored beforehand")
    parser.add_argument("--stores", default=",".join(STORES), help="comma-separated")
    parser.add_argument("--phases", default=",".join(_LABELS), help="comma-separated")
    parser.add_argument("--connections", type=int, default=100, help="client pool size")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL, help="for CREATE DATABASE")
    parser.add_argument("--child", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if unknown := set(args.stores.split(",")) - set(STORES):
        parser.error(f"unknown store(s): {', '.join(sorted(unknown))}")
    if unknown := set(args.phases.split(",")) - set(_LABELS):
        parser.error(f"unknown phase(s): {', '.join(sorted(unknown))}")
    if not 0 < args.rate <= 10_000 or not 0 < args.seconds <= 600:
        parser.error("--rate must be in (0, 10000] and --seconds in (0, 600]")
    if args.schedules < 1 or not 0 <= args.runs <= 1_000_000:
        parser.error("--schedules must be >= 1 and --runs in [0, 1000000]")
    return args


def main() -> None:
    args = parse_args()
    if args.child:
        asyncio.run(child_main(args.child))
        return
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(
        f"open loop at {args.rate:g} requests/s for {args.seconds:g} s per endpoint "
        f"(latency from each request's due instant; {args.connections} client connections); "
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load} at the start"
    )
    print()
    for store in args.stores.split(","):
        try:
            with database(store, args.postgres_url, "api_bench") as url:
                bench_store(store, url, args)
        except sa.exc.OperationalError as exc:
            first_line = str(exc.orig or exc).strip().splitlines()[0]
            print(f"tickwork on {store}: not reachable ({first_line})\n")


if __name__ == "__main__":
    main()
