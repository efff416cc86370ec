"""Run the real ``tickwork`` command as a user would: a separate process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

HOST_SETTINGS = ("TICKWORK_DATABASE_URL", "TICKWORK_URL", "TICKWORK_TOKEN")
"""Settings of the caller's environment a test never inherits: it passes its own."""


def tickwork(
    *args: str,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """``python -m tickwork ARGS``; the database and the server come from ARGS or ``env``,
    never the caller's environment. Without ``stdin`` the command reads an empty stdin."""
    environ = {k: v for k, v in os.environ.items() if k not in HOST_SETTINGS}
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "tickwork", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=cwd,
        env=environ,
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
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
