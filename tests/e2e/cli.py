"""Run the real ``tickwork`` command as a user would: a separate process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path


def tickwork(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m tickwork ARGS``; the database comes from ARGS, never the caller's env."""
    env = {k: v for k, v in os.environ.items() if k != "TICKWORK_DATABASE_URL"}
    return subprocess.run(
        [sys.executable, "-m", "tickwork", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=cwd,
        env=env,
    )


def start_tickwork(*args: str, cwd: Path | None = None) -> subprocess.Popen[str]:
    """``python -m tickwork ARGS`` left running (for ``serve``); stdout and stderr piped."""
    env = {k: v for k, v in os.environ.items() if k != "TICKWORK_DATABASE_URL"}
    env["COLUMNS"] = "120"
    return subprocess.Popen(
        [sys.executable, "-m", "tickwork", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env=env,
    )


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
