"""The scheduler loop at scale: many idle schedules, one big burst, and APScheduler beside it.

For each store (SQLite in a temp file; PostgreSQL in a fresh database on 127.0.0.1:5432,
dropped at the end):

1. **Idle.** N active schedules (crons, intervals, many time zones; every next fire at
   least an hour ahead) are bulk-inserted. A child process then starts a
   ``Scheduler(engine, SystemClock())`` and reports its start-up time (until the first
   ``fire_due()`` and ``next_due_at()`` have returned, what ``run()`` does before it
   sleeps), its resident memory, and the CPU time it uses while ``run()`` sleeps with
   nothing due.
2. **Burst.** M more schedules (``at`` triggers and one-shot crons in many zones) are all
   due at one instant T a few seconds ahead; the child is woken (as a schedule change
   wakes it) and fires them on the real clock. Reported: how long after T the last
   execution row was committed, and the lateness (``created - nominal``) that the
   ``lateness_ms`` column records, p50/p99/max.
3. **Peers.** APScheduler 3.11 (in memory, and with its SQLAlchemyJobStore on a SQLite
   file) runs M date jobs due at one instant whose function records ``time.time()``;
   reported the same way, with Tickwork's ratio against each.

    .venv/bin/pip install -e '.[bench]'          # APScheduler, for the peers
    .venv/bin/python benchmarks/scheduler_bench.py [--schedules 100000] [--burst 10000]
        [--idle-seconds 30] [--stores sqlite,postgresql] [--no-peers]

Smoke run: ``--schedules 10000 --burst 2000 --idle-seconds 5``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from stores import DEFAULT_POSTGRES_URL, database

from tickwork.clock import SystemClock
from tickwork.ids import IdGenerator
from tickwork.schedule.rules import rules_from_stored
from tickwork.scheduler.loop import DEFAULT_BATCH_SIZE, FireReport, Scheduler
from tickwork.spec.documents import ScheduleDocument
from tickwork.store.engine import create_store_engine
from tickwork.store.migrate import upgrade
from tickwork.store.tables import executions, schedules

STORES = ("sqlite", "postgresql")
ZONES = (
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "Australia/Sydney",
    "America/Sao_Paulo",
    "Asia/Tokyo",
    "Pacific/Auckland",
    "Asia/Kathmandu",
    "Europe/London",
)
CRONS = (
    "0 3 * * *",
    "30 2 * * 1-5",
    "*/15 9-17 * * MON-FRI",
    "0 0 1 * *",
    "5 4 * * sun",
    "0 */6 * * *",
    "15,45 8,20 * * *",
    "0 9 1-7 * 1",
    "0 22 L * *",
    "0 9 * * 5#3",
    "@daily",
    "30 6 * * * *",
)
INTERVALS = ("15m", "1h", "1h30m", "6h", "1d", "7d")
NAMESPACES = ("billing", "reports", "ops", "growth", "data")
BURST_NAMESPACE = "burst"
INSERT_CHUNK = 10_000
"""Rows per transaction when bulk-inserting schedules."""
AHEAD = timedelta(hours=1)
"""Idle schedules fire no sooner than this after the benchmark starts."""
BURST_LEAD_S = 2.0
"""Seconds between the end of setting up a burst and its due instant, at least."""
BURST_TIMEOUT_S = 120.0
STARTUP_TIMEOUT_S = 120.0
TARGET_RSS_MB = 300
TARGET_BURST_S = 1.0

log = logging.getLogger("scheduler_bench")


# --------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True, slots=True)
class Burst:
    """How one scheduler handled M fires due at the same instant."""

    count: int
    """Fires that happened (executions created, or jobs run)."""
    all_done_s: float
    """From the due instant until the last one happened."""
    p50_ms: float
    p99_ms: float
    max_ms: float


@dataclass(frozen=True, slots=True)
class StoreResult:
    """Everything measured for Tickwork on one store."""

    store: str
    schedules: int
    insert_s: float
    startup_s: float
    rss_base_mb: float
    rss_started_mb: float
    rss_idle_mb: float
    idle_cpu_s: float
    idle_wall_s: float
    burst: Burst | None
    rss_burst_mb: float | None


def burst_of(lateness_s: list[float], all_done_s: float) -> Burst:
    """p50/p99/max (nearest rank) of the lateness values, in ms."""
    ordered = sorted(lateness_s)
    if not ordered:
        return Burst(0, all_done_s, float("nan"), float("nan"), float("nan"))

    def rank(q: float) -> float:
        index = max(0, math.ceil(q * len(ordered)) - 1)
        return ordered[index] * 1000

    return Burst(len(ordered), all_done_s, rank(0.50), rank(0.99), ordered[-1] * 1000)


def rss_mb() -> float:
    """This process's resident set size now (Linux); elsewhere, its peak so far."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)


# --------------------------------------------------------------------------------------
# Schedules


@dataclass(frozen=True, slots=True)
class Shape:
    """One validated, canonical document; every row of a shape shares it but for its name."""

    document: dict[str, Any]
    trigger_kind: str
    timezone: str
    next_fire_at: datetime


def make_shape(data: Mapping[str, Any], created_at: datetime) -> Shape:
    """Validate ``data`` as the service would, and work out its first fire from the rules."""
    stored = ScheduleDocument.from_mapping(data).model_dump(mode="json")
    rules = rules_from_stored(stored, schedule_id=IdGenerator().new(), created_at=created_at)
    next_fire_at = rules.next_fire(created_at, 0)
    if next_fire_at is None:
        raise ValueError(f"shape never fires: {data}")
    kind = next(k for k in ("cron", "interval", "at") if k in stored["trigger"])
    return Shape(stored, kind, stored["timezone"], next_fire_at)


def idle_shapes(now: datetime) -> list[Shape]:
    """Crons and intervals in every zone, each with its first fire at least ``AHEAD`` away
    (given a ``start_at`` when it would otherwise fire sooner)."""
    start_at = (now + AHEAD).replace(second=0, microsecond=0) + timedelta(minutes=1)
    triggers: list[dict[str, str]] = [{"cron": c} for c in CRONS]
    triggers += [{"interval": i} for i in INTERVALS]
    shapes = []
    for number, trigger in enumerate(triggers * len(ZONES)):
        data: dict[str, Any] = {
            "name": "template",
            "namespace": NAMESPACES[number % len(NAMESPACES)],
            "trigger": trigger,
            "timezone": ZONES[number % len(ZONES)],
            "workflow": f"job-{number % 7}",
            "input": {"shape": number},
            "overlap": ("skip", "allow", "buffer_one")[number % 3],
        }
        shape = make_shape(data, now)
        if shape.next_fire_at < now + AHEAD:
            shape = make_shape({**data, "start_at": start_at.isoformat()}, now)
        shapes.append(shape)
    return shapes


def burst_shapes(due: datetime, now: datetime) -> list[Shape]:
    """``at`` triggers and one-shot 7-field crons (second … year), all due at ``due``."""
    shapes = []
    for zone in ZONES:
        local = due.astimezone(ZoneInfo(zone))
        one_shot = f"{local.second} {local.minute} {local.hour} {local.day} {local.month} * "
        for trigger in ({"at": local.isoformat()}, {"cron": f"{one_shot}{local.year}"}):
            data = {
                "name": "template",
                "namespace": BURST_NAMESPACE,
                "trigger": trigger,
                "timezone": zone,
                "action": {"kind": "http", "url": "http://127.0.0.1:9/hook"},
            }
            shape = make_shape(data, now)
            if shape.next_fire_at != due:
                raise AssertionError(f"{trigger} fires at {shape.next_fire_at}, not {due}")
            shapes.append(shape)
    return shapes


def insert_schedules(
    engine: Engine, shapes: list[Shape], count: int, created_at: datetime, prefix: str
) -> float:
    """Insert ``count`` schedules cycling through ``shapes``; seconds it took.

    The columns ``SqlScheduleStore.insert`` writes, sent as one executemany per
    ``INSERT_CHUNK`` rows (each its own transaction) instead of a round trip per row.
    """
    ids = IdGenerator()
    began = time.perf_counter()
    for first in range(0, count, INSERT_CHUNK):
        rows = []
        for number in range(first, min(count, first + INSERT_CHUNK)):
            shape = shapes[number % len(shapes)]
            name = f"{prefix}-{number:07d}"
            rows.append(
                {
                    "id": ids.new(),
                    "namespace": shape.document["namespace"],
                    "name": name,
                    "document": {**shape.document, "name": name},
                    "trigger_kind": shape.trigger_kind,
                    "timezone": shape.timezone,
                    "state": "active",
                    "pause_note": None,
                    "next_fire_at": shape.next_fire_at,
                    "last_fired_at": None,
                    "runs_count": 0,
                    "consecutive_failures": 0,
                    "revision": 1,
                    "managed_by": None,
                    "managed_file": None,
                    "created_at": created_at,
                    "updated_at": created_at,
                }
            )
        with engine.begin() as conn:
            conn.execute(sa.insert(schedules), rows)
    return time.perf_counter() - began


def analyze(engine: Engine) -> None:
    """Fresh planner statistics, as autovacuum would have them after a bulk load."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE schedules")


def burst_lateness(engine: Engine) -> list[float]:
    """``lateness_ms`` of every execution of the burst schedules, in seconds."""
    query = sa.select(executions.c.lateness_ms).where(executions.c.namespace == BURST_NAMESPACE)
    with engine.connect() as conn:
        return [int(ms) / 1000 for ms in conn.execute(query).scalars()]


# --------------------------------------------------------------------------------------
# The child process: a scheduler, measured from inside


class TimedScheduler(Scheduler):
    """A Scheduler that notes when each pass that wrote rows had committed them."""

    def __init__(self, engine: Engine, batch_size: int) -> None:
        super().__init__(engine, SystemClock(), batch_size=batch_size)
        self.commits: list[tuple[float, int]] = []

    def fire_due(self) -> FireReport:
        report = super().fire_due()
        if report.inserted:
            self.commits.append((time.time(), report.inserted))
        return report


def emit(**values: Any) -> None:
    """One JSON line to the parent."""
    sys.stdout.write(json.dumps(values) + "\n")
    sys.stdout.flush()


async def child_main(url: str, idle_seconds: float, batch_size: int) -> None:
    """Start up, idle, then fire the burst the parent announces on stdin."""
    rss_base = rss_mb()
    began = time.perf_counter()
    engine = create_store_engine(url)
    scheduler = TimedScheduler(engine, batch_size)
    fired = scheduler.fire_due().inserted
    next_at = scheduler.next_due_at()
    startup_s = time.perf_counter() - began
    emit(
        startup_s=startup_s,
        rss_base_mb=rss_base,
        rss_started_mb=rss_mb(),
        fired=fired,
        next_at=None if next_at is None else next_at.timestamp(),
    )

    loop = asyncio.create_task(scheduler.run())
    await asyncio.wait_for(scheduler.until_idle(), STARTUP_TIMEOUT_S)
    cpu_before, wall_before = time.process_time(), time.perf_counter()
    await asyncio.sleep(idle_seconds)
    emit(
        idle_cpu_s=time.process_time() - cpu_before,
        idle_wall_s=time.perf_counter() - wall_before,
        rss_idle_mb=rss_mb(),
    )

    request = json.loads(await asyncio.to_thread(sys.stdin.readline) or "{}")
    expected = int(request.get("burst", 0))
    if expected:
        scheduler.wake()  # what the service does after a change
        deadline = float(request["due"]) + BURST_TIMEOUT_S
        while sum(n for _, n in scheduler.commits) < expected and time.time() < deadline:
            await asyncio.sleep(0.01)
        emit(commits=scheduler.commits, rss_burst_mb=rss_mb())
    scheduler.stop()
    await loop
    engine.dispose()


class Child:
    """This script, re-run with ``--child``: one scheduler process, spoken to in JSON lines."""

    def __init__(self, url: str, idle_seconds: float, batch_size: int) -> None:
        command = [sys.executable, __file__, "--child", url]
        command += ["--idle-seconds", str(idle_seconds), "--batch-size", str(batch_size)]
        self._process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def read(self) -> dict[str, Any]:
        line = _pipe(self._process.stdout).readline()
        if not line:
            code = self._process.wait()
            raise RuntimeError(f"the scheduler process exited ({code}) before reporting")
        message: dict[str, Any] = json.loads(line)
        return message

    def send(self, **values: Any) -> None:
        pipe = _pipe(self._process.stdin)
        pipe.write(json.dumps(values) + "\n")
        pipe.flush()

    def close(self) -> None:
        if self._process.poll() is None:
            try:
                self.send(burst=0)
                self._process.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self._process.kill()
                self._process.wait()


def _pipe(stream: IO[str] | None) -> IO[str]:
    if stream is None:
        raise RuntimeError("the scheduler process has no pipe")
    return stream


# --------------------------------------------------------------------------------------
# Tickwork on one store


def bench_store(store: str, url: str, args: argparse.Namespace) -> StoreResult:
    upgrade(url)
    engine = create_store_engine(url)
    child: Child | None = None
    try:
        now = datetime.now(UTC)
        insert_s = insert_schedules(engine, idle_shapes(now), args.schedules, now, "idle")
        analyze(engine)
        child = Child(url, args.idle_seconds, args.batch_size)
        started = child.read()
        if started["fired"] or (started["next_at"] or 0) < (now + AHEAD).timestamp():
            log.warning("the idle schedules were not all idle: %s", started)
        idle = child.read()
        burst, rss_burst = None, None
        if args.burst:
            seconds_per_row = insert_s / max(1, args.schedules)
            burst, rss_burst = tickwork_burst(engine, child, args.burst, seconds_per_row)
        return StoreResult(
            store=store,
            schedules=args.schedules,
            insert_s=insert_s,
            startup_s=started["startup_s"],
            rss_base_mb=started["rss_base_mb"],
            rss_started_mb=started["rss_started_mb"],
            rss_idle_mb=idle["rss_idle_mb"],
            idle_cpu_s=idle["idle_cpu_s"],
            idle_wall_s=idle["idle_wall_s"],
            burst=burst,
            rss_burst_mb=rss_burst,
        )
    finally:
        if child is not None:
            child.close()
        engine.dispose()


def tickwork_burst(
    engine: Engine, child: Child, count: int, seconds_per_row: float
) -> tuple[Burst, float]:
    """Insert ``count`` schedules due together a little ahead, wake the child, measure."""
    now = datetime.now(UTC)
    lead_s = BURST_LEAD_S + 3 * count * seconds_per_row
    due = (now + timedelta(seconds=lead_s + 1)).replace(microsecond=0)
    insert_schedules(engine, burst_shapes(due, now), count, now, "burst")
    analyze(engine)
    ahead_s = (due - datetime.now(UTC)).total_seconds()
    if ahead_s < 0.5:
        raise RuntimeError(f"setting up the burst overran its due instant ({ahead_s:.2f} s)")
    child.send(burst=count, due=due.timestamp())
    fired = child.read()
    commits: list[tuple[float, int]] = [(float(t), int(n)) for t, n in fired["commits"]]
    created = sum(n for _, n in commits)
    if created < count:
        log.warning("only %d of %d burst executions were created in time", created, count)
    last_s = commits[-1][0] - due.timestamp() if commits else float("nan")
    return burst_of(burst_lateness(engine), last_s), float(fired["rss_burst_mb"])


# --------------------------------------------------------------------------------------
# APScheduler


APS_RAN: list[float] = []
"""When each APScheduler job ran (``time.time()``)."""


def aps_record() -> None:
    """The job every APScheduler date trigger runs."""
    APS_RAN.append(time.time())


def aps_burst(store: str, count: int, directory: Path) -> Burst:
    """``count`` APScheduler date jobs due at one instant; lateness of their runs.

    Jobs are added before ``start()`` (APScheduler writes them to the store then), with
    no misfire grace limit so none is dropped for being late; the due instant is set
    from a small timed trial so that setting up ends before it.
    """
    trial = min(count, 500)
    setup_s = _aps_setup_time(store, trial, directory / "trial.db")
    lead_s = BURST_LEAD_S + 2 * setup_s * count / trial
    for attempt in range(3):
        result = _aps_burst_once(store, count, directory / f"jobs{attempt}.db", lead_s)
        if result is not None:
            return result
        lead_s *= 2
    raise RuntimeError(f"APScheduler ({store}) could not be set up ahead of its due instant")


def _aps_scheduler(store: str, path: Path) -> Any:
    from apscheduler.jobstores.memory import MemoryJobStore
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    jobstore = MemoryJobStore() if store == "memory" else SQLAlchemyJobStore(f"sqlite:///{path}")
    return BackgroundScheduler(
        jobstores={"default": jobstore},
        job_defaults={"misfire_grace_time": None},
        timezone=UTC,
    )


def _aps_setup_time(store: str, count: int, path: Path) -> float:
    scheduler = _aps_scheduler(store, path)
    due = datetime.now(UTC) + timedelta(days=1)
    began = time.perf_counter()
    _aps_add_and_start(scheduler, count, due)
    elapsed = time.perf_counter() - began
    scheduler.shutdown(wait=False)
    return elapsed


def _aps_add_and_start(scheduler: Any, count: int, due: datetime) -> None:
    for number in range(count):
        scheduler.add_job(aps_record, "date", run_date=due, id=f"job-{number}")
    scheduler.start()


def _aps_burst_once(store: str, count: int, path: Path, lead_s: float) -> Burst | None:
    APS_RAN.clear()
    scheduler = _aps_scheduler(store, path)
    due = (datetime.now(UTC) + timedelta(seconds=lead_s + 1)).replace(microsecond=0)
    _aps_add_and_start(scheduler, count, due)
    try:
        if (due - datetime.now(UTC)).total_seconds() < 0.5:
            return None
        deadline = due.timestamp() + BURST_TIMEOUT_S
        while len(APS_RAN) < count and time.time() < deadline:
            time.sleep(0.01)
        ran = list(APS_RAN)
    finally:
        scheduler.shutdown(wait=False)
    lateness = [at - due.timestamp() for at in ran]
    return burst_of(lateness, max(lateness) if lateness else float("nan"))


def bench_peers(count: int) -> dict[str, Burst] | str:
    """APScheduler's burst in memory and on SQLite; a message when it is not installed."""
    try:
        import apscheduler
    except ImportError:
        return "not installed (pip install -e '.[bench]')"
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    results = {}
    with tempfile.TemporaryDirectory(prefix="tickwork-bench-aps-") as directory:
        for store, label in (("memory", "memory"), ("sqlite", "sqlalchemy/sqlite")):
            results[f"apscheduler {apscheduler.__version__} {label}"] = aps_burst(
                store, count, Path(directory)
            )
    return results


# --------------------------------------------------------------------------------------
# Output


def _fmt_ms(value: float) -> str:
    return f"{value:,.1f}"


def print_store(result: StoreResult, burst_size: int, batch_size: int) -> None:
    rows: list[tuple[str, str, str]] = []
    rate = result.schedules / result.insert_s if result.insert_s else float("inf")
    rows.append(
        (
            f"insert {result.schedules:,} schedules",
            f"{result.insert_s:.2f} s",
            f"{rate:,.0f} rows/s",
        )
    )
    rows.append(("scheduler start-up (fire_due + next_due_at)", f"{result.startup_s:.3f} s", ""))
    rows.append(("RSS after imports", f"{result.rss_base_mb:.1f} MB", ""))
    rss_ok = "ok" if result.rss_idle_mb < TARGET_RSS_MB else "OVER"
    rows.append(("RSS after start-up", f"{result.rss_started_mb:.1f} MB", ""))
    rows.append(
        ("RSS after idling", f"{result.rss_idle_mb:.1f} MB", f"target < {TARGET_RSS_MB}: {rss_ok}")
    )
    share = result.idle_cpu_s / result.idle_wall_s * 100 if result.idle_wall_s else 0.0
    rows.append(
        (
            f"CPU while idle {result.idle_wall_s:.0f} s",
            f"{result.idle_cpu_s * 1000:.1f} ms",
            f"{share:.3f} % of one core",
        )
    )
    if result.burst is not None:
        burst = result.burst
        verdict = "ok" if burst.all_done_s < TARGET_BURST_S else "OVER"
        target = f"target < {TARGET_BURST_S:.0f} s on postgresql: {verdict}"
        rows.append(
            (
                f"burst {burst_size:,} due at T: all created",
                f"{burst.all_done_s:.3f} s after T",
                target if result.store == "postgresql" else "",
            )
        )
        rows.append(("  executions created", f"{burst.count:,}", f"of {burst_size:,}"))
        rows.append(
            (
                "  lateness p50 / p99 / max",
                f"{_fmt_ms(burst.p50_ms)} / {_fmt_ms(burst.p99_ms)} / {_fmt_ms(burst.max_ms)} ms",
                "",
            )
        )
        if result.rss_burst_mb is not None:
            rows.append(("RSS after the burst", f"{result.rss_burst_mb:.1f} MB", ""))
    print(f"tickwork on {result.store} (scheduler batch size {batch_size})")
    for label, value, note in rows:
        print(f"  {label:<44} {value:>26}   {note}")
    print()


def print_bursts(bursts: dict[str, Burst], count: int) -> None:
    print(f"burst: {count:,} fires due at one instant T")
    print(
        f"  {'scheduler':<36} {'fired':>7} {'all by':>10} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9}"
    )
    for name, burst in bursts.items():
        print(
            f"  {name:<36} {burst.count:>7,} {burst.all_done_s:>8.3f} s {burst.p50_ms:>9.1f} "
            f"{burst.p99_ms:>9.1f} {burst.max_ms:>9.1f}"
        )
    print()


def print_ratios(ours: dict[str, Burst], peers: dict[str, Burst]) -> None:
    print("ratio = peer / tickwork (above 1: tickwork is faster)")
    print(f"  {'tickwork':<22} {'peer':<36} {'all by':>8} {'p50':>8} {'p99':>8} {'max':>8}")
    for our_name, our in ours.items():
        for peer_name, peer in peers.items():
            ratios = [
                _ratio(peer.all_done_s, our.all_done_s),
                _ratio(peer.p50_ms, our.p50_ms),
                _ratio(peer.p99_ms, our.p99_ms),
                _ratio(peer.max_ms, our.max_ms),
            ]
            print(f"  {our_name:<22} {peer_name:<36} " + " ".join(f"{r:>8}" for r in ratios))
    print()


def _ratio(peer: float, ours: float) -> str:
    if ours <= 0:
        return "n/a"
    return f"{peer / ours:.1f}x"


# --------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--schedules", type=int, default=100_000, help="idle schedules (N)")
    parser.add_argument("--burst", type=int, default=10_000, help="schedules due at once (M)")
    parser.add_argument("--idle-seconds", type=float, default=30.0, help="idle CPU window")
    parser.add_argument("--stores", default=",".join(STORES), help="comma-separated")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL, help="for CREATE DATABASE")
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    parser.add_argument("--no-peers", action="store_true", help="skip APScheduler")
    parser.add_argument("--child", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    unknown = set(args.stores.split(",")) - set(STORES)
    if unknown:
        parser.error(f"unknown store(s): {', '.join(sorted(unknown))}")
    return args


def run_store(store: str, args: argparse.Namespace) -> StoreResult | None:
    """Tickwork on one store; None (and a line saying why) when the store is unavailable."""
    try:
        with database(store, args.postgres_url, "bench") as url:
            return bench_store(store, url, args)
    except sa.exc.OperationalError as exc:
        first_line = str(exc.orig or exc).strip().splitlines()[0]
        print(f"tickwork on {store}: not reachable ({first_line})\n")
        return None


def main() -> None:
    args = parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.child:
        asyncio.run(child_main(args.child, args.idle_seconds, args.batch_size))
        return
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(
        f"{args.schedules:,} idle schedules, a burst of {args.burst:,}, "
        f"{args.idle_seconds:g} s idle; python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs, load average {load} at the start"
    )
    print()
    ours: dict[str, Burst] = {}
    for store in args.stores.split(","):
        result = run_store(store, args)
        if result is None:
            continue
        print_store(result, args.burst, args.batch_size)
        if result.burst is not None:
            ours[f"tickwork {store}"] = result.burst
    if args.no_peers or not args.burst:
        return
    peers = bench_peers(args.burst)
    if isinstance(peers, str):
        print(f"peers: APScheduler {peers}")
        print_bursts(ours, args.burst)
        return
    print_bursts({**ours, **peers}, args.burst)
    print_ratios(ours, peers)


if __name__ == "__main__":
    main()
