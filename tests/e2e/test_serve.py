"""``tickwork serve`` as a user runs it: a real process, a real store, real time.

These tests start the server for real, so they wait for it with a deadline (polling the
store), never for a fixed time.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import pytest
import sqlalchemy as sa

from tests.e2e.cli import free_port, start_tickwork, tickwork
from tickwork.clock import SystemClock
from tickwork.service.schedules import ScheduleService
from tickwork.store import migrate
from tickwork.store.engine import create_store_engine
from tickwork.store.tables import executions, schedules

T = TypeVar("T")
DEADLINE_S = 30.0


def wait_for(probe: Callable[[], T | None], what: str) -> T:
    """Poll ``probe`` until it returns something, or fail after the deadline."""
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        found = probe()
        if found is not None:
            return found
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture
def stop_at_end() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.communicate()


def stop(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=DEADLINE_S)
    return process.returncode, out, err


def test_serve_migrates_an_empty_sqlite_file_creates_the_examples_and_stops_on_sigterm(
    tmp_path: Path, stop_at_end: list[subprocess.Popen[str]]
) -> None:
    url = f"sqlite:///{tmp_path}/fresh.db"
    server = start_tickwork("serve", "--db", url, "--examples", "--port", str(free_port()))
    stop_at_end.append(server)
    engine = create_store_engine(url)

    def names() -> list[str] | None:
        if not migrate.is_current(url):
            return None
        with engine.connect() as conn:
            found = conn.execute(sa.select(schedules.c.name).order_by(schedules.c.name))
            listed = list(found.scalars())
        return listed if len(listed) == 4 else None

    assert wait_for(names, "the example schedules") == [
        "every-15-seconds",
        "heartbeat",
        "month-end-cleanup",
        "nightly-report",
    ]
    engine.dispose()
    code, out, err = stop(server)

    assert code == 0, err
    assert "created example schedule nightly-report" in out
    assert "month-end-cleanup is paused: waiting for the archive bucket" in out
    assert out.rstrip().endswith("stopped")


def test_serve_fires_a_due_schedule_once_with_its_lateness(
    tmp_path: Path, stop_at_end: list[subprocess.Popen[str]]
) -> None:
    url = f"sqlite:///{tmp_path}/store.db"
    assert tickwork("db", "upgrade", "--db", url).returncode == 0
    engine = create_store_engine(url)
    clock = SystemClock()
    due = clock.now() + timedelta(seconds=2)
    service = ScheduleService(engine, clock)
    created = service.create(
        {
            "name": "soon",
            "trigger": {"at": due.isoformat()},
            "action": {"kind": "shell", "argv": ["true"]},
        }
    )

    server = start_tickwork("serve", "--db", url, "--port", str(free_port()))
    stop_at_end.append(server)

    def ran() -> list[tuple[str, int | None]] | None:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(executions.c.status, executions.c.lateness_ms).where(
                    executions.c.schedule_id == created.id
                )
            ).all()
        done = [(row.status, row.lateness_ms) for row in rows]
        return done if done and all(status == "succeeded" for status, _ in done) else None

    rows = wait_for(ran, "the run")
    code, out, err = stop(server)
    engine.dispose()

    assert code == 0, err
    assert len(rows) == 1
    status, lateness_ms = rows[0]
    assert status == "succeeded"
    assert lateness_ms is not None and lateness_ms >= 0
    assert service.get(created.id).state.value == "completed"
    assert f"soon {due:%Y-%m-%dT%H:%M:%SZ} queued late {lateness_ms} ms" in out
    assert "soon run " in out and " succeeded exit 0 in " in out


@pytest.mark.postgres
def test_serve_refuses_an_unmigrated_postgresql_database(pg_empty_database_url: str) -> None:
    served = tickwork("serve", "--db", pg_empty_database_url)

    assert served.returncode == 1
    assert served.stdout == ""
    assert "run `tickwork db upgrade`" in served.stderr
    assert served.stderr.startswith("error: ")
    assert not migrate.current_revision(pg_empty_database_url)
