"""``tickwork serve`` killed with SIGKILL and started again loses no fire and doubles none.

A schedule fires every second to a webhook sink in this process. The server is killed
mid-stream (no chance to clean up), stays down for a few seconds, and is started again
on the same SQLite file. Then every nominal instant from the first fire to the last one
handled must be accounted for exactly once (a run, or an instant recorded as missed),
every run must have reached the sink, and only runs with a declared retry (a second
attempt, e.g. after the lost lease of the killed server) may have reached it twice.
"""

from __future__ import annotations

import re
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from tests.e2e.cli import free_port, start_tickwork, tickwork
from tests.e2e.test_serve import DEADLINE_S, wait_for
from tickwork.clock import SystemClock
from tickwork.service.schedules import ScheduleService
from tickwork.store.engine import create_store_engine
from tickwork.store.tables import executions

SECOND = timedelta(seconds=1)


class Deliveries:
    """What the sink received: (idempotency key, nominal instant) per request."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.items: list[tuple[str, str]] = []

    def add(self, key: str, scheduled_for: str) -> None:
        with self.lock:
            self.items.append((key, scheduled_for))

    def count(self) -> int:
        with self.lock:
            return len(self.items)

    def keys(self) -> Counter[str]:
        with self.lock:
            return Counter(key for key, _ in self.items)


@pytest.fixture
def sink() -> Iterator[tuple[str, Deliveries]]:
    received = Deliveries()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            received.add(self.headers["Idempotency-Key"], self.headers["X-Tickwork-Scheduled-For"])
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/tick", received
    server.shutdown()
    server.server_close()


def test_a_killed_server_restarted_accounts_for_every_instant_once(
    store_url: str, sink: tuple[str, Deliveries]
) -> None:
    url, deliveries = sink
    db = store_url  # a fresh SQLite file, or a fresh PostgreSQL database
    assert tickwork("db", "upgrade", "--db", db).returncode == 0
    engine = create_store_engine(db)
    service = ScheduleService(engine, SystemClock())
    schedule = service.create(
        {
            "name": "every-second",
            "trigger": {"cron": "* * * * * *"},
            "overlap": "allow",
            "misfire": "run_all",
            "catchup_window": "1m",
            "retry": {"max_attempts": 3, "initial_interval": "100ms", "jitter": False},
            "action": {"kind": "http", "url": url, "body": {"at": "{{ scheduled_for }}"}},
        }
    )
    serve = ("serve", "--db", db, "--lease", "2", "--quiet")
    processes: list[subprocess.Popen[str]] = []
    try:
        first = start_tickwork(*serve, "--port", str(free_port()))
        processes.append(first)
        wait_for(lambda: deliveries.count() >= 4 or None, "four deliveries")
        first.send_signal(signal.SIGKILL)
        first_out, _err = first.communicate(timeout=DEADLINE_S)
        time.sleep(3)  # a real outage: instants pass while nothing runs
        at_restart = deliveries.count()

        second = start_tickwork(*serve, "--port", str(free_port()))
        processes.append(second)
        wait_for(lambda: deliveries.count() >= at_restart + 6 or None, "deliveries again")

        second.send_signal(signal.SIGTERM)
        second_out, err = second.communicate(timeout=DEADLINE_S)
        assert second.returncode == 0, err
        # The first start on an empty store shows an admin token, once; later starts do not.
        assert re.search(r"An admin token for the API.*\n\s+tw_[\w-]{43}\n", first_out)
        assert "admin token" not in second_out
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.communicate()

    rows = _rows(engine, schedule.id)
    stored = service.get(schedule.id)
    missed = service.missed(schedule.id)
    engine.dispose()

    # Every nominal second from the first fire to the last handled: exactly one record.
    instants = [row[0] for row in rows] + [m.scheduled_for for m in missed]
    assert len(instants) == len(set(instants)), "an instant was recorded twice"
    first_at, last_at = min(instants), stored.last_fired_at
    assert last_at is not None
    expected = int((last_at - first_at) / SECOND) + 1
    assert sorted(instants) == [first_at + i * SECOND for i in range(expected)]

    # Every run that started ran to the end and reached the sink (runs fired just before
    # SIGTERM may still be queued, for the next start); a run reached it more than once
    # only if it had more attempts (the killed server's run, retried after its lease).
    delivered = deliveries.keys()
    statuses = Counter(status for _at, status, _key, _attempt in rows)
    assert set(statuses) <= {"succeeded", "missed", "queued"}, statuses
    assert statuses["queued"] <= 2, statuses
    for _at, status, key, attempt in rows:
        if status == "succeeded":
            assert delivered[key] >= 1, f"run {key} succeeded but never reached the sink"
        assert delivered[key] <= attempt, f"run {key} was delivered {delivered[key]} times"
    assert set(delivered) <= {key for _at, _status, key, _attempt in rows}
    assert statuses["succeeded"] >= 8


def _rows(engine: sa.Engine, schedule_id: object) -> list[tuple[datetime, str, str, int]]:
    c = executions.c
    with engine.connect() as conn:
        found = conn.execute(
            sa.select(c.scheduled_for, c.status, c.id, c.attempt)
            .where(c.schedule_id == schedule_id, c.trigger == "schedule")
            .order_by(c.scheduled_for)
        ).all()
    return [(at, status, str(key), attempt) for at, status, key, attempt in found]
