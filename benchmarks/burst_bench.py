"""Burst delivery end to end: N webhook schedules due at one instant, and APScheduler beside it.

For each size N and each store (SQLite in a temp file; PostgreSQL in a fresh database on
127.0.0.1:5432, dropped at the end), a child process migrates the store, bulk-inserts N
schedules whose ``at`` trigger is one instant T a few seconds ahead (``overlap: allow``,
``retry: {max_attempts: 1}``, an ``http`` action POSTing a small templated JSON body),
then runs a ``tickwork.node.Node`` on the real clock and on the event loop ``tickwork serve``
uses (``tickwork.eventloop``): the scheduler fires at T, the worker claims the runs and its
``HttpRunner`` posts them. A sink in its own process (an aiohttp server on 127.0.0.1)
notes ``time.time()`` and the ``Idempotency-Key`` of every request. Reported per run:

* lateness = (time the sink received the request) - T, p50 / p99 / max (a request that
  never arrived counts as infinitely late);
* when the last request arrived, and when the last run was recorded ``succeeded``;
* throughput: delivered / (last receive - first receive), and delivered / (last - T);
* delivered (distinct keys) and duplicates (keys received more than once);
* for Tickwork: when the last execution was created, claimed and finished (from the
  store's own columns), the store's status counts, and the child's CPU time and memory.

Peers, on the same sink with the same N: APScheduler 3 (``AsyncIOScheduler``) with N
``date`` jobs at T whose coroutine POSTs the same body on one shared ``aiohttp``
session, with its in-memory job store and with ``SQLAlchemyJobStore`` on a SQLite file.
Its ``AsyncIOExecutor`` runs coroutine jobs as tasks on the loop (no thread pool, so no
cap), each job id is distinct (``max_instances`` never applies), ``misfire_grace_time``
is None (no job is dropped for being late) and the session's pool allows
``PEER_POOL_LIMIT`` connections, the size of Tickwork's. A peer that has not delivered
everything ``--peer-timeout`` seconds after T is reported with what arrived by then.

    .venv/bin/pip install -e '.[bench]'          # APScheduler, for the peers
    .venv/bin/python benchmarks/burst_bench.py [--sizes 1000,10000] [--stores sqlite,postgresql]
        [--slots 200] [--timeout 120] [--peer-timeout 120] [--no-peers]

Smoke run: ``--sizes 1000 --stores sqlite``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import multiprocessing
import os
import queue
import resource
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection as PipeEnd
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from stores import DEFAULT_POSTGRES_URL, database

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from tickwork.node import Node
    from tickwork.store.protocols import NewExecution
    from tickwork.store.queue import FinishedRun

DEFAULT_SLOTS = 200
"""``WorkerSettings().slots`` (read from it when Tickwork is importable)."""
STORES = ("sqlite", "postgresql")
SIZES = (1_000, 10_000)
NAMESPACE = "burst"
INSERT_CHUNK = 10_000
"""Rows per transaction when bulk-inserting schedules."""
BURST_LEAD_S = 3.0
"""Seconds between the end of setting up and T, at least."""
LEAD_S_PER_SCHEDULE = 0.0005
"""Set-up time allowed per schedule (inserting it, starting the node) before T."""
MIN_AHEAD_S = 0.5
"""A run whose set-up ended closer to T than this is set up again with a longer lead."""
SETUP_ATTEMPTS = 3
SETUP_TIMEOUT_S = 600.0
"""How long a child may take to report that it is ready (APScheduler's SQLite store adds
jobs one transaction each)."""
STOP_SLACK_S = 60.0
"""After its deadline, how long a child may take to stop and report before it is killed."""
CLOSE_GRACE_S = 30.0
"""How long a child that reported may take to exit by itself before it is terminated."""
PEER_POOL_LIMIT = 1000
"""Connections the peers' aiohttp session may open: ``tickwork.actions.http.POOL_LIMIT``."""
TARGET_RUNS_PER_S = 2_000
TARGET_P99_S = 5.0
TARGET_SIZE = 10_000

log = logging.getLogger("burst_bench")


def body_for(name: str) -> dict[str, str]:
    """The JSON every request carries (Tickwork renders it from ``BODY_TEMPLATE``)."""
    return {"schedule": name, "event": "burst"}


BODY_TEMPLATE = {"schedule": "{{ schedule.name }}", "event": "burst"}


# --------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True, slots=True)
class Delivery:
    """What the sink saw of one configuration's burst, and what its process reported."""

    name: str
    count: int
    delivered: int
    """Distinct idempotency keys received by the deadline."""
    duplicates: int
    """Requests whose key had been received before."""
    p50_ms: float
    p99_ms: float
    max_ms: float
    first_s: float
    last_s: float
    done_s: float
    """Tickwork: the last run recorded ``succeeded``; peers: the last job's POST answered."""
    timed_out: bool
    cpu_s: float
    rss_mb: float
    peak_rss_mb: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def sustained(self) -> float:
        """Delivered per second from the first receive to the last."""
        span = self.last_s - self.first_s
        return self.delivered / span if span > 0 else float("nan")

    @property
    def overall(self) -> float:
        """Delivered per second from T to the last receive."""
        return self.delivered / self.last_s if self.last_s > 0 else float("nan")


def delivery_of(
    name: str,
    count: int,
    due: float,
    deadline: float,
    records: Sequence[tuple[float, str]],
    report: dict[str, Any],
) -> Delivery:
    """Lateness and throughput of ``records`` (receive time, key) received by ``deadline``."""
    seen: set[str] = set()
    firsts: list[float] = []
    duplicates = 0
    for at, key in sorted(records):
        if at > deadline:
            break
        if key in seen:
            duplicates += 1
            continue
        seen.add(key)
        firsts.append(at - due)
    lateness = firsts + [math.inf] * max(0, count - len(firsts))

    def rank(q: float) -> float:
        if not lateness:
            return math.nan
        return lateness[max(0, math.ceil(q * len(lateness)) - 1)] * 1000

    return Delivery(
        name=name,
        count=count,
        delivered=len(firsts),
        duplicates=duplicates,
        p50_ms=rank(0.50),
        p99_ms=rank(0.99),
        max_ms=rank(1.0),
        first_s=firsts[0] if firsts else math.nan,
        last_s=firsts[-1] if firsts else math.nan,
        done_s=float(report.get("done_at", math.nan)) - due,
        timed_out=len(firsts) < count,
        cpu_s=float(report.get("cpu_s", math.nan)),
        rss_mb=float(report.get("rss_mb", math.nan)),
        peak_rss_mb=float(report.get("peak_rss_mb", math.nan)),
        extra={k: v for k, v in report.items() if k not in ("cpu_s", "rss_mb", "peak_rss_mb")},
    )


def rss_mb() -> float:
    """This process's resident set size now (Linux); elsewhere, its peak so far."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return peak_rss_mb()


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)


def emit(**values: Any) -> None:
    """One JSON line to the parent."""
    sys.stdout.write(json.dumps(values) + "\n")
    sys.stdout.flush()


# --------------------------------------------------------------------------------------
# The sink: its own process, so it shares no interpreter lock with what it measures


def sink_main(port_out: PipeEnd) -> None:
    """Answer every POST /hook/{label} with 200 at once, noting when it came and its key;
    GET /stats/{label} returns ``[[time, key], ...]``. Runs until terminated."""
    from aiohttp import web

    records: dict[str, list[tuple[float, str]]] = {}

    async def hook(request: web.Request) -> web.Response:
        at = time.time()
        key = request.headers.get("Idempotency-Key", "")
        records.setdefault(request.match_info["label"], []).append((at, key))
        await request.read()
        return web.Response(text='{"ok":true}', content_type="application/json")

    async def stats(request: web.Request) -> web.Response:
        return web.json_response(records.get(request.match_info["label"], []))

    async def cpu(_request: web.Request) -> web.Response:
        return web.json_response(time.process_time())

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/hook/{label}", hook)
        app.router.add_get("/stats/{label}", stats)
        app.router.add_get("/cpu", cpu)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=4096)
        await site.start()
        port_out.send(runner.addresses[0][1])
        await asyncio.Event().wait()

    asyncio.run(main())


class Sink:
    """The sink process, started at once; :meth:`close` ends it."""

    def __init__(self) -> None:
        receive, send = multiprocessing.Pipe(duplex=False)
        self._process = multiprocessing.get_context("spawn").Process(
            target=sink_main, args=(send,), name="burst-sink", daemon=True
        )
        self._process.start()
        if not receive.poll(30):
            self.close()
            raise RuntimeError("the sink did not start within 30 s")
        self.port = int(receive.recv())

    def url(self, label: str) -> str:
        return f"http://127.0.0.1:{self.port}/hook/{label}"

    def records(self, label: str) -> list[tuple[float, str]]:
        rows = self._get(f"/stats/{label}")
        return [(float(at), str(key)) for at, key in rows]

    def cpu_s(self) -> float:
        """CPU time the sink has used so far."""
        return float(self._get("/cpu"))

    def _get(self, path: str) -> Any:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=60) as answer:
            return json.loads(answer.read())

    def close(self) -> None:
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(10)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(10)


# --------------------------------------------------------------------------------------
# Child processes, spoken to in JSON lines


class Child:
    """This script re-run with ``--child CONFIG``: one system under test in its own process."""

    def __init__(self, config: dict[str, Any]) -> None:
        command = [sys.executable, __file__, "--child", json.dumps(config)]
        self._process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(
            target=self._read_all, args=(_pipe(self._process.stdout),), daemon=True
        )
        self._reader.start()

    def _read_all(self, stream: IO[str]) -> None:
        for line in stream:
            self._lines.put(line)
        self._lines.put(None)

    def read(self, timeout_s: float) -> dict[str, Any]:
        """The child's next message; RuntimeError when it exits or is silent too long."""
        try:
            line = self._lines.get(timeout=max(0.0, timeout_s))
        except queue.Empty:
            raise RuntimeError(f"the child said nothing for {timeout_s:.0f} s") from None
        if line is None:
            code = self._process.wait()
            raise RuntimeError(f"the child exited ({code}) before reporting")
        message: dict[str, Any] = json.loads(line)
        return message

    def close(self, grace_s: float = 0.0) -> None:
        """Stop the child: after ``grace_s`` for it to exit by itself (and clean up)."""
        if self._process.poll() is None and grace_s > 0:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(timeout=grace_s)
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._reader.join(5)


def _pipe(stream: IO[str] | None) -> IO[str]:
    if stream is None:
        raise RuntimeError("the child process has no pipe")
    return stream


def run_child(config: dict[str, Any], timeout_s: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """Start a child, wait for its ``ready`` then its ``done`` message (bounded); both.

    A child that overran T reports ``overran`` instead of ``ready``: returned as is (with
    an empty second message). A child that fails or hangs after ``ready`` is stopped and
    its second message is ``{"error": ...}``: what the sink received still counts."""
    child = Child(config)
    grace_s = 0.0  # a child that reported everything exits by itself: let it clean up
    try:
        ready = child.read(SETUP_TIMEOUT_S)
        if ready["event"] != "ready":
            grace_s = CLOSE_GRACE_S
            return ready, {}
        wait_s = float(ready["due"]) + timeout_s + STOP_SLACK_S - time.time()
        try:
            done = child.read(wait_s)
        except RuntimeError as exc:
            return ready, {"error": f"its process was stopped: {exc}"}
        grace_s = CLOSE_GRACE_S
        return ready, done
    finally:
        child.close(grace_s)


# --------------------------------------------------------------------------------------
# Tickwork: the child


@dataclass(slots=True)
class RunLog:
    """What the node's callbacks saw: fires (scheduler thread) and recorded runs."""

    fired: list[tuple[float, int]] = field(default_factory=list)
    succeeded: int = 0
    ended: int = 0
    last_recorded: float = math.nan

    def on_fired(self, rows: Sequence[NewExecution]) -> None:
        self.fired.append((time.time(), len(rows)))

    def on_finished(self, runs: Sequence[FinishedRun]) -> None:
        from tickwork.schedule.policies import ExecutionStatus

        for run in runs:
            if run.status is ExecutionStatus.SUCCEEDED:
                self.succeeded += 1
            if run.status is not ExecutionStatus.RETRYING:
                self.ended += 1
        self.last_recorded = time.time()


def tickwork_child(config: dict[str, Any]) -> None:
    """Migrate, insert the burst, run a node until every run ended (or the deadline)."""
    from tickwork import eventloop
    from tickwork.node import Node, prepare_store
    from tickwork.store.engine import create_store_engine
    from tickwork.store.migrate import upgrade
    from tickwork.worker.loop import WorkerSettings

    url, count = str(config["url"]), int(config["count"])
    upgrade(url)
    prepare_store(url)
    engine = create_store_engine(url)
    try:
        due = datetime.now(UTC) + timedelta(seconds=float(config["lead_s"]))
        due = due.replace(microsecond=0) + timedelta(seconds=1)
        insert_s = insert_burst(engine, count, due, str(config["hook"]))
    finally:
        engine.dispose()
    runs = RunLog()
    node = Node(
        url,
        worker=WorkerSettings(slots=int(config["slots"])),
        on_fired=runs.on_fired,
        on_finished=runs.on_finished,
    )
    try:
        # On the loop `tickwork serve` runs (uvloop where it is installed).
        eventloop.run(drive_node(node, runs, count, due, insert_s, float(config["timeout_s"])))
    finally:
        node.close()


async def drive_node(
    node: Node, runs: RunLog, count: int, due: datetime, insert_s: float, timeout_s: float
) -> None:
    """Start the node, report ``ready`` (or ``overran``), wait for the burst, report ``done``.

    A node that stops with an error is still reported (``error``), with what the store
    shows: the figures of a run that broke are part of the result."""
    task = asyncio.create_task(node.run(), name="node")
    try:
        await asyncio.wait_for(node.scheduler.until_idle(), 60)
        for _ in range(6000):
            if node.worker.started or task.done():
                break
            await asyncio.sleep(0.01)
        ahead_s = due.timestamp() - time.time()
        if ahead_s < MIN_AHEAD_S:
            emit(event="overran", ahead_s=ahead_s, insert_s=insert_s)
            return
        emit(event="ready", due=due.timestamp(), ahead_s=ahead_s, insert_s=insert_s)
        rss_ready, cpu_before = rss_mb(), time.process_time()
        deadline = due.timestamp() + timeout_s
        while runs.ended < count and time.time() < deadline and not task.done():
            await asyncio.sleep(0.02)
        measured: dict[str, Any] = {
            "cpu_s": time.process_time() - cpu_before,
            "rss_ready_mb": rss_ready,
            "rss_mb": rss_mb(),
            "peak_rss_mb": peak_rss_mb(),
        }
    finally:
        node.stop()
        error = await _stopped(task)
    if error is not None:
        measured["error"] = error
    emit(
        event="done",
        done_at=runs.last_recorded if runs.succeeded >= count else math.nan,
        succeeded_seen=runs.succeeded,
        ended_seen=runs.ended,
        fired_at=max((at for at, _ in runs.fired), default=math.nan),
        fired=sum(n for _, n in runs.fired),
        **measured,
        **store_summary(node.engine),
    )


async def _stopped(task: asyncio.Task[None]) -> str | None:
    """Wait (bounded) for the node's task to end; what it failed with, if it did."""
    try:
        await asyncio.wait_for(task, STOP_SLACK_S / 2)
    except Exception as exc:
        log.error("the node stopped with an error", exc_info=exc)
        first_line = (str(exc).strip().splitlines() or [""])[0]
        return f"the node stopped with {type(exc).__name__}: {first_line}"
    return None


def insert_burst(engine: Engine, count: int, due: datetime, hook: str) -> float:
    """Insert ``count`` schedules firing once at ``due``; seconds it took.

    The columns ``SqlScheduleStore.insert`` writes, from one document validated as the
    service validates it, sent as one executemany per ``INSERT_CHUNK`` rows.
    """
    import sqlalchemy as sa

    from tickwork.ids import IdGenerator
    from tickwork.schedule.rules import rules_from_stored
    from tickwork.spec.documents import ScheduleDocument
    from tickwork.store.tables import schedules

    began = time.perf_counter()
    now = datetime.now(UTC)
    data = {
        "name": "template",
        "namespace": NAMESPACE,
        "trigger": {"at": due.isoformat()},
        "overlap": "allow",
        "retry": {"max_attempts": 1},
        "action": {"kind": "http", "method": "POST", "url": hook, "body": BODY_TEMPLATE},
    }
    document = ScheduleDocument.from_mapping(data).model_dump(mode="json")
    ids = IdGenerator()
    rules = rules_from_stored(document, schedule_id=ids.new(), created_at=now)
    if rules.next_fire(now, 0) != due:
        raise AssertionError(f"the burst document fires at {rules.next_fire(now, 0)}, not {due}")
    for first in range(0, count, INSERT_CHUNK):
        rows = []
        for number in range(first, min(count, first + INSERT_CHUNK)):
            name = f"burst-{number:07d}"
            rows.append(
                {
                    "id": ids.new(),
                    "namespace": NAMESPACE,
                    "name": name,
                    "document": {**document, "name": name},
                    "trigger_kind": "at",
                    "timezone": document["timezone"],
                    "state": "active",
                    "pause_note": None,
                    "next_fire_at": due,
                    "last_fired_at": None,
                    "runs_count": 0,
                    "consecutive_failures": 0,
                    "revision": 1,
                    "managed_by": None,
                    "managed_file": None,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        with engine.begin() as conn:
            conn.execute(sa.insert(schedules), rows)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE schedules")
    return time.perf_counter() - began


def store_summary(engine: Engine) -> dict[str, Any]:
    """Status counts and the last created / claimed / finished instants of the burst."""
    import sqlalchemy as sa

    from tickwork.store.tables import executions, step_results

    c = executions.c
    where = c.namespace == NAMESPACE
    with engine.connect() as conn:
        counted = conn.execute(sa.select(c.status, sa.func.count()).where(where).group_by(c.status))
        statuses = {str(status): int(n) for status, n in counted}
        first_started, last_created, last_started, last_finished = conn.execute(
            sa.select(
                sa.func.min(c.started_at),
                sa.func.max(c.created_at),
                sa.func.max(c.started_at),
                sa.func.max(c.finished_at),
            ).where(where)
        ).one()
        lateness = sorted(
            int(ms)
            for ms in conn.execute(sa.select(c.lateness_ms).where(where)).scalars()
            if ms is not None
        )
        steps = conn.execute(sa.select(sa.func.count()).select_from(step_results)).scalar_one()

    def stamp(value: datetime | None) -> float:
        return math.nan if value is None else value.timestamp()

    return {
        "statuses": statuses,
        "first_started_at": stamp(first_started),
        "last_created_at": stamp(last_created),
        "last_started_at": stamp(last_started),
        "last_finished_at": stamp(last_finished),
        "fire_lateness_max_ms": lateness[-1] if lateness else math.nan,
        "steps": int(steps),
    }


# --------------------------------------------------------------------------------------
# Tickwork: the parent side


def bench_tickwork(store: str, count: int, sink: Sink, args: argparse.Namespace) -> Delivery:
    lead_s = BURST_LEAD_S + count * LEAD_S_PER_SCHEDULE
    for attempt in range(SETUP_ATTEMPTS):
        label = f"tickwork-{store}-{count}-{attempt}"
        sink_cpu = sink.cpu_s()
        with database(store, args.postgres_url, f"burst_{count}_{attempt}") as url:
            config = {
                "kind": "tickwork",
                "url": url,
                "count": count,
                "hook": sink.url(label),
                "slots": args.slots,
                "lead_s": lead_s,
                "timeout_s": args.timeout,
            }
            ready, done = run_child(config, args.timeout)
        if ready["event"] == "overran":
            log.warning("tickwork set-up overran T by %.2f s; again", -float(ready["ahead_s"]))
            lead_s *= 2
            continue
        due = float(ready["due"])
        report = {**done, "due": due, "insert_s": ready["insert_s"], "ahead_s": ready["ahead_s"]}
        report["sink_cpu_s"] = sink.cpu_s() - sink_cpu
        return delivery_of(
            f"tickwork {store}", count, due, due + args.timeout, sink.records(label), report
        )
    raise RuntimeError(f"tickwork on {store} could not be set up ahead of T")


def run_tickwork(store: str, count: int, sink: Sink, args: argparse.Namespace) -> Delivery | None:
    """Tickwork on one store; None (and a line saying why) when the store is unreachable."""
    import sqlalchemy as sa

    try:
        return bench_tickwork(store, count, sink, args)
    except sa.exc.OperationalError as exc:
        first_line = str(exc.orig or exc).strip().splitlines()[0]
        print(f"  tickwork on {store}: not reachable ({first_line})")
    except RuntimeError as exc:
        print(f"  tickwork on {store}: failed ({exc})")
    return None


# --------------------------------------------------------------------------------------
# APScheduler: the child


@dataclass(slots=True)
class PeerState:
    """Shared by the peer's jobs: one session, and what they did."""

    session: Any = None
    done: int = 0
    failed: int = 0
    last_done: float = math.nan
    errors: Counter[str] = field(default_factory=Counter)


PEER = PeerState()


async def aps_post(url: str, key: str, name: str) -> None:
    """The job every APScheduler date trigger runs: one POST, like Tickwork's."""
    try:
        async with PEER.session.post(
            url, json=body_for(name), headers={"Idempotency-Key": key}
        ) as response:
            await response.read()
            ok = 200 <= response.status <= 299
    except Exception as exc:
        PEER.errors[type(exc).__name__] += 1
        ok = False
    if ok:
        PEER.done += 1
        PEER.last_done = time.time()
    else:
        PEER.failed += 1


def _aps_scheduler(store: str, path: Path) -> Any:
    from apscheduler.executors.asyncio import AsyncIOExecutor
    from apscheduler.jobstores.memory import MemoryJobStore
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    jobstore = MemoryJobStore() if store == "memory" else SQLAlchemyJobStore(f"sqlite:///{path}")
    return AsyncIOScheduler(
        jobstores={"default": jobstore},
        executors={"default": AsyncIOExecutor()},
        job_defaults={"misfire_grace_time": None, "coalesce": False, "max_instances": 1},
        timezone=UTC,
    )


def _aps_add(scheduler: Any, count: int, due: datetime, url: str) -> None:
    """Add the jobs, then start paused (APScheduler writes pending jobs to the store then)."""
    for number in range(count):
        key = f"aps-{number:07d}"
        scheduler.add_job(
            aps_post, "date", run_date=due, id=key, args=(url, key, f"burst-{number:07d}")
        )
    scheduler.start(paused=True)


async def peer_main(config: dict[str, Any]) -> None:
    """Time a small set-up, pick T from it, add the jobs and wait for the burst (bounded).

    The SQLite job stores go in ``config["directory"]``, which the parent owns (and
    removes even when it has to kill this process)."""
    import aiohttp

    store, count, hook = str(config["store"]), int(config["count"]), str(config["hook"])
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    connector = aiohttp.TCPConnector(limit=PEER_POOL_LIMIT)
    PEER.session = aiohttp.ClientSession(connector=connector)
    directory = Path(config["directory"])
    trial = min(count, 500)
    began = time.perf_counter()
    scratch = _aps_scheduler(store, directory / "trial.db")
    _aps_add(scratch, trial, datetime.now(UTC) + timedelta(days=1), hook)
    scratch.shutdown(wait=False)
    lead_s = BURST_LEAD_S + 2 * (time.perf_counter() - began) * count / trial
    await asyncio.sleep(0)
    for attempt in range(SETUP_ATTEMPTS):
        due = (datetime.now(UTC) + timedelta(seconds=lead_s + 1)).replace(microsecond=0)
        scheduler = _aps_scheduler(store, directory / f"jobs{attempt}.db")
        _aps_add(scheduler, count, due, f"{hook}.{attempt}")
        ahead_s = due.timestamp() - time.time()
        if ahead_s < MIN_AHEAD_S:
            scheduler.shutdown(wait=False)
            await asyncio.sleep(0)
            lead_s *= 2
            continue
        await peer_burst(scheduler, count, due.timestamp(), attempt, ahead_s, config)
        break
    else:
        emit(event="overran", ahead_s=ahead_s)
    await PEER.session.close()


async def peer_burst(
    scheduler: Any, count: int, due: float, attempt: int, ahead_s: float, config: dict[str, Any]
) -> None:
    emit(event="ready", due=due, ahead_s=ahead_s, attempt=attempt)
    rss_ready, cpu_before = rss_mb(), time.process_time()
    scheduler.resume()
    deadline = due + float(config["timeout_s"])
    while PEER.done + PEER.failed < count and time.time() < deadline:
        await asyncio.sleep(0.02)
    emit(
        event="done",
        done_at=PEER.last_done if PEER.done >= count else math.nan,
        jobs_done=PEER.done,
        jobs_failed=PEER.failed,
        errors=dict(PEER.errors),
        cpu_s=time.process_time() - cpu_before,
        rss_ready_mb=rss_ready,
        rss_mb=rss_mb(),
        peak_rss_mb=peak_rss_mb(),
    )
    scheduler.shutdown(wait=False)
    await asyncio.sleep(0)


def bench_peer(store: str, count: int, sink: Sink, args: argparse.Namespace) -> Delivery:
    import apscheduler

    label = f"aps-{store}-{count}"
    sink_cpu = sink.cpu_s()
    with tempfile.TemporaryDirectory(prefix="tickwork-burst-aps-") as directory:
        config = {
            "kind": "apscheduler",
            "store": store,
            "count": count,
            "hook": sink.url(label),
            "timeout_s": args.peer_timeout,
            "directory": directory,
        }
        ready, done = run_child(config, args.peer_timeout)
    if ready["event"] != "ready":
        raise RuntimeError(f"APScheduler ({store}) could not be set up ahead of T")
    due = float(ready["due"])
    done = {**done, "sink_cpu_s": sink.cpu_s() - sink_cpu}
    records = sink.records(f"{label}.{ready['attempt']}")
    name = f"apscheduler {apscheduler.__version__} {PEER_LABELS[store]}"
    return delivery_of(name, count, due, due + args.peer_timeout, records, done)


PEER_LABELS = {"memory": "memory", "sqlite": "sqlalchemy/sqlite"}


def run_peers(count: int, sink: Sink, args: argparse.Namespace) -> list[Delivery] | str:
    """APScheduler in memory and on SQLite; a message when it is not installed."""
    try:
        import apscheduler  # noqa: F401
    except ImportError:
        return "not installed (pip install -e '.[bench]')"
    results = []
    for store, label in PEER_LABELS.items():
        try:
            results.append(bench_peer(store, count, sink, args))
        except RuntimeError as exc:
            print(f"  apscheduler {label}: failed ({exc})")
    return results


# --------------------------------------------------------------------------------------
# Output


def _ms(value: float) -> str:
    return "never" if math.isinf(value) else f"{value:,.1f}"


def _s(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.3f} s"


def print_tickwork(result: Delivery, slots: int) -> None:
    extra = result.extra
    sustained_ok = "ok" if result.sustained >= TARGET_RUNS_PER_S else "UNDER"
    rows: list[tuple[str, str, str]] = [
        ("schedules inserted (before T)", f"{extra.get('insert_s', math.nan):.2f} s", ""),
        ("lateness p50 / p99 / max", _lateness(result), _burst_target(result)),
        ("first / last request received", f"{_s(result.first_s)} / {_s(result.last_s)}", ""),
        ("last run recorded succeeded", _s(result.done_s), ""),
        (
            "sustained (first to last receive)",
            f"{result.sustained:,.0f} runs/s",
            f"target >= {TARGET_RUNS_PER_S:,}: {sustained_ok}",
        ),
        ("from T to the last receive", f"{result.overall:,.0f} runs/s", ""),
        ("delivered / duplicates", f"{result.delivered:,} / {result.duplicates:,}", ""),
    ]
    rows += _timeline(result)
    statuses = ", ".join(f"{k} {v:,}" for k, v in sorted(extra.get("statuses", {}).items()))
    rows.append(("store: executions by status", statuses or "none", ""))
    rows.append(("store: step results", f"{extra.get('steps', 0):,}", ""))
    rows.append(
        (
            "CPU (all threads) from ready to done",
            f"{result.cpu_s:.2f} s",
            f"{result.cpu_s / result.count * 1e3:.2f} ms/run",
        )
    )
    rows.append(
        (
            "RSS ready / after / peak",
            f"{extra.get('rss_ready_mb', math.nan):.0f} / {result.rss_mb:.0f} / "
            f"{result.peak_rss_mb:.0f} MB",
            "",
        )
    )
    print(f"  {result.name} (worker slots {slots}); times after T")
    for label, value, note in rows:
        print(f"    {label:<40} {value:>30}   {note}")
    print()


def _timeline(result: Delivery) -> list[tuple[str, str, str]]:
    """When the last execution was created, claimed and finished, from the store."""
    extra = result.extra
    due = float(extra.get("due", math.nan))
    if math.isnan(due):
        return []
    rows = []
    for label, key in (
        ("store: last execution created", "last_created_at"),
        ("store: first run claimed", "first_started_at"),
        ("store: last run claimed", "last_started_at"),
        ("store: last run finished", "last_finished_at"),
    ):
        rows.append((label, _s(float(extra.get(key, math.nan)) - due), ""))
    rows.append(
        ("store: fire lateness max (lateness_ms)", f"{extra.get('fire_lateness_max_ms')} ms", "")
    )
    return rows


def _lateness(result: Delivery) -> str:
    return f"{_ms(result.p50_ms)} / {_ms(result.p99_ms)} / {_ms(result.max_ms)} ms"


def _burst_target(result: Delivery) -> str:
    if result.count != TARGET_SIZE:
        return ""
    ok = not result.timed_out and result.p99_ms < TARGET_P99_S * 1000
    return f"target: all delivered, p99 < {TARGET_P99_S:g} s: {'ok' if ok else 'MISSED'}"


def print_table(results: Sequence[Delivery], count: int) -> None:
    print(
        f"  burst of {count:,}: lateness in ms after T; runs/s sustained and from T; "
        "CPU s and peak RSS of the scheduler's process; CPU s of the sink meanwhile"
    )
    print(
        f"    {'configuration':<36} {'delivered':>9} {'dup':>4} {'p50':>9} {'p99':>9} "
        f"{'max':>9} {'last at':>9} {'done at':>9} {'sustained':>9} {'from T':>7} "
        f"{'CPU s':>6} {'RSS MB':>6} {'sink s':>6}"
    )
    for r in results:
        print(
            f"    {r.name:<36} {r.delivered:>9,} {r.duplicates:>4} {_ms(r.p50_ms):>9} "
            f"{_ms(r.p99_ms):>9} {_ms(r.max_ms):>9} {_s(r.last_s):>9} {_s(r.done_s):>9} "
            f"{r.sustained:>9,.0f} {r.overall:>7,.0f} {r.cpu_s:>6.2f} {r.peak_rss_mb:>6.0f} "
            f"{float(r.extra.get('sink_cpu_s', math.nan)):>6.2f}"
        )
    for r in results:
        for note in _notes(r):
            print(f"    {r.name}: {note}")
    print()


def _notes(result: Delivery) -> list[str]:
    """What went wrong in a run, if anything."""
    extra, notes = result.extra, []
    if result.timed_out:
        notes.append(f"{result.count - result.delivered:,} requests never arrived by the deadline")
    if "error" in extra:
        notes.append(str(extra["error"]))
    if extra.get("jobs_failed"):
        notes.append(f"{extra['jobs_failed']:,} jobs failed: {extra.get('errors')}")
    return notes


def print_ratios(ours: Sequence[Delivery], peers: Sequence[Delivery]) -> None:
    print(
        "  ratio = peer / tickwork of p99 lateness and of seconds per run "
        "(1 / throughput); above 1: tickwork is faster"
    )
    print(f"    {'tickwork':<22} {'peer':<36} {'p99':>8} {'sustained':>10} {'from T':>8}")
    for our in ours:
        for peer in peers:
            p99 = _ratio(peer.p99_ms, our.p99_ms)
            sustained = _ratio(our.sustained, peer.sustained)
            overall = _ratio(our.overall, peer.overall)
            print(f"    {our.name:<22} {peer.name:<36} {p99:>8} {sustained:>10} {overall:>8}")
    print()


def _ratio(peer: float, ours: float) -> str:
    if math.isinf(peer) and not math.isinf(ours):
        return "inf"
    if ours <= 0 or math.isnan(ours) or math.isnan(peer) or math.isinf(ours):
        return "n/a"
    return f"{peer / ours:.1f}x"


# --------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default=",".join(str(n) for n in SIZES), help="burst sizes N")
    parser.add_argument("--stores", default=",".join(STORES), help="comma-separated")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL, help="for CREATE DATABASE")
    parser.add_argument("--slots", type=int, default=default_slots(), help="worker slots")
    parser.add_argument("--timeout", type=float, default=120.0, help="tickwork: s after T")
    parser.add_argument("--peer-timeout", type=float, default=120.0, help="peers: s after T")
    parser.add_argument("--no-peers", action="store_true", help="skip APScheduler")
    parser.add_argument("--child", metavar="CONFIG", help=argparse.SUPPRESS)
    args = parser.parse_args()
    unknown = set(args.stores.split(",")) - set(STORES)
    if unknown:
        parser.error(f"unknown store(s): {', '.join(sorted(unknown))}")
    try:
        args.size_list = [int(n) for n in args.sizes.split(",")]
    except ValueError:
        parser.error(f"--sizes: not a list of integers: {args.sizes}")
    if any(n < 1 for n in args.size_list):
        parser.error("--sizes: every size must be at least 1")
    return args


def default_slots() -> int:
    try:
        from tickwork.worker.loop import WorkerSettings
    except ImportError:  # pragma: no cover - the script lives next to tickwork
        return DEFAULT_SLOTS
    return WorkerSettings().slots


def child_main(config: dict[str, Any]) -> None:
    if config["kind"] == "tickwork":
        tickwork_child(config)
    else:
        asyncio.run(peer_main(config))


def bench_size(count: int, sink: Sink, args: argparse.Namespace) -> None:
    print(f"burst of {count:,} webhooks due at one instant T")
    print()
    ours: list[Delivery] = []
    for store in args.stores.split(","):
        result = run_tickwork(store, count, sink, args)
        if result is None:
            continue
        print_tickwork(result, args.slots)
        ours.append(result)
    if args.no_peers:
        print_table(ours, count)
        return
    peers = run_peers(count, sink, args)
    if isinstance(peers, str):
        print(f"  peers: APScheduler {peers}")
        print_table(ours, count)
        return
    print_table([*ours, *peers], count)
    print_ratios(ours, peers)


def main() -> None:
    args = parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.child:
        child_main(json.loads(args.child))
        return
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(
        f"bursts of {', '.join(f'{n:,}' for n in args.size_list)} webhooks; "
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
        f"load average {load} at the start"
    )
    print()
    sink = Sink()
    try:
        print(f"sink: aiohttp on 127.0.0.1:{sink.port}, its own process")
        print()
        for count in args.size_list:
            bench_size(count, sink, args)
    finally:
        sink.close()


if __name__ == "__main__":
    main()
