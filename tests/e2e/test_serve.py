"""``tickwork serve`` as a user runs it: a real process, a real store, real time.

These tests start the server for real, so they wait for it with a deadline (polling the
store), never for a fixed time.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import IO, TypeVar

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


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


class Output:
    """The lines a running server prints, read as they come (a thread drains stdout)."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        assert process.stdout is not None
        self._reader = threading.Thread(target=self._read, args=(process.stdout,), daemon=True)
        self._reader.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.append(line.rstrip("\n"))

    def text(self) -> str:
        return "\n".join(self.lines)

    def finish(self, process: subprocess.Popen[str]) -> tuple[str, str]:
        """Everything printed, once the process ended: (stdout, stderr)."""
        self._reader.join(timeout=DEADLINE_S)
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()
        with process.stderr:
            return self.text(), process.stderr.read()


def test_serve_applies_its_config_directory_at_start_and_on_every_change(
    tmp_path: Path, stop_at_end: list[subprocess.Popen[str]]
) -> None:
    config = tmp_path / "examples"
    shutil.copytree(EXAMPLES, config)
    url = f"sqlite:///{tmp_path}/fresh.db"
    server = start_tickwork(
        "serve", "--db", url, "--config", str(config), "--port", str(free_port())
    )
    stop_at_end.append(server)
    output = Output(server)
    engine = create_store_engine(url)

    def stored() -> dict[str, dict[str, object]]:
        if not migrate.is_current(url):
            return {}
        with engine.connect() as conn:
            rows = conn.execute(sa.select(schedules.c.name, schedules.c.document))
            return {name: document for name, document in rows}

    def names_once(expected: set[str]) -> set[str] | None:
        found = set(stored())
        return found if found == expected else None

    first = {
        "disk-space",
        "every-15-seconds",
        "heartbeat",
        "month-end-cleanup",
        "nightly-report",
        "weekly-release-notes",
    }
    wait_for(lambda: names_once(first), "the example schedules")
    wait_for(lambda: "Watching " in output.text() or None, "the watcher to start")
    assert "+ schedule default/nightly-report" in output.text()
    assert "month-end-cleanup is paused: waiting for the archive bucket" in output.text()

    # An edit and a deletion are applied as the files change: no restart.
    heartbeat = config / "webhooks" / "heartbeat.yaml"
    heartbeat.write_text(heartbeat.read_text().replace("interval: 1m", "interval: 2m"))
    (config / "jobs" / "every-15-seconds.yaml").unlink()
    wait_for(lambda: names_once(first - {"every-15-seconds"}), "the deletion to be applied")
    trigger = wait_for(
        lambda: stored()["heartbeat"]["trigger"] == {"interval": "2m", "anchor": None} or None,
        "the edit to be applied",
    )
    assert trigger

    # A bad file is reported and applies nothing; what runs keeps running.
    (config / "broken.yaml").write_text("kind: Schedule\nname: broken\ntrigger: {cron: nope}\n")
    wait_for(lambda: "not applied, nothing changed" in output.text() or None, "the error")
    assert "broken.yaml:3: trigger.cron: " in output.text()
    assert set(stored()) == first - {"every-15-seconds"}
    engine.dispose()

    server.send_signal(signal.SIGTERM)
    code = server.wait(timeout=DEADLINE_S)
    out, err = output.finish(server)
    assert code == 0, err
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


def test_serve_refuses_to_start_on_a_config_directory_that_does_not_apply(
    tmp_path: Path,
) -> None:
    config = tmp_path / "ops"
    config.mkdir()
    (config / "bad.yaml").write_text("kind: Schedule\nname: x\ntimezone: Mars/Base\n")
    served = tickwork("serve", "--db", f"sqlite:///{tmp_path}/t.db", "--config", str(config))

    assert served.returncode == 1
    assert "Traceback" not in served.stderr
    assert served.stderr.startswith("error: 2 problems, nothing applied:\n")
    assert "  - bad.yaml:3: timezone: " in served.stderr
    assert "  - bad.yaml:1: trigger: is required" in served.stderr
