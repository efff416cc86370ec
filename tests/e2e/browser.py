"""Headless Chromium (Debian's, through Playwright) against a real ``tickwork serve``.

Playwright's own browser download is not used: the system's ``/usr/bin/chromium`` is
(``.ci/run`` installs it). Without it the browser tests are skipped on a laptop, and fail
when ``CI`` is set: CI must never skip them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.e2e.cli import free_port, start_tickwork
from tickwork.clock import SystemClock
from tickwork.service.tokens import TokenService
from tickwork.store import migrate
from tickwork.store.engine import create_store_engine

CHROMIUM = os.environ.get("TICKWORK_TEST_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
DEADLINE_S = 20.0


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def chromium_or_skip() -> str:
    """The Chromium to drive; skipped without one, except in CI, where that fails."""
    found = CHROMIUM if os.access(CHROMIUM, os.X_OK) else shutil.which("chromium")
    if found is None:
        if in_ci():
            pytest.fail(f"CI needs Chromium for the dashboard tests: {CHROMIUM} is missing")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    return found


@dataclass(frozen=True, slots=True)
class Served:
    url: str
    token: str


@contextmanager
def serving(tmp_path: Path) -> Iterator[Served]:
    """``tickwork serve`` on a fresh SQLite file, with an admin token made for the test."""
    url = f"sqlite:///{tmp_path / 'tickwork.db'}"
    migrate.upgrade(url)
    engine = create_store_engine(url)
    try:
        token = TokenService(engine, SystemClock()).create("e2e-admin", ["admin"]).token
    finally:
        engine.dispose()
    port = free_port()
    process = start_tickwork("serve", "--db", url, "--port", str(port), "--quiet")
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, process)
        yield Served(base, token)
    finally:
        process.terminate()
        try:
            process.communicate(timeout=DEADLINE_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def _wait_until_up(base: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"tickwork serve stopped:\n{out}\n{err}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    pytest.fail("tickwork serve did not answer in time")
