"""The ``tickwork`` client commands against a real server: a test server (see
``tests/integration/api/rig.py``) and the command run as a subprocess with its own config
directory, so neither the caller's settings nor its login leak in."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.e2e.cli import tickwork
from tests.integration.api.rig import Server, serving
from tickwork.api.app import ApiSettings


@dataclass
class Cli:
    """Runs ``tickwork`` as a caller of ``server`` (an admin unless told otherwise)."""

    server: Server
    tmp_path: Path

    @property
    def config_home(self) -> Path:
        return self.tmp_path / "config"

    def env(self, who: str | None = "admin") -> dict[str, str]:
        """XDG_CONFIG_HOME under tmp_path; the server and the token of ``who`` (None: none)."""
        env = {"XDG_CONFIG_HOME": str(self.config_home), "COLUMNS": "200"}
        if who is not None:
            env["TICKWORK_URL"] = self.server.url
            env["TICKWORK_TOKEN"] = self.server.tokens[who]
        return env

    def run(
        self, *args: str, who: str | None = "admin", stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        return tickwork(*args, env=self.env(who), stdin=stdin)

    def ok(self, *args: str, who: str | None = "admin", stdin: str | None = None) -> str:
        """Run; assert it succeeded; its stdout."""
        result = self.run(*args, who=who, stdin=stdin)
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
        return result.stdout

    def json(self, *args: str, who: str | None = "admin") -> Any:
        return json.loads(self.ok(*args, "--json", who=who))

    def fails(self, *args: str, who: str | None = "admin", stdin: str | None = None) -> str:
        """Run; assert it failed with exit 1 and an error line, never a traceback; stderr."""
        result = self.run(*args, who=who, stdin=stdin)
        assert result.returncode == 1, (result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
        assert result.stderr.startswith("error: "), result.stderr
        return result.stderr

    def write(self, name: str, text: str) -> Path:
        path = self.tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    def create(self, text: str, who: str = "admin") -> dict[str, Any]:
        """Create the schedule of a YAML document with ``schedules create``; its JSON."""
        created: dict[str, Any] = self.json(
            "schedules", "create", "-f", str(self.write("schedule.yaml", text)), who=who
        )
        return created


@contextmanager
def cli_against(
    store_url: str, tmp_path: Path, settings: ApiSettings | None = None
) -> Iterator[Cli]:
    with serving(store_url, settings) as server:
        yield Cli(server, tmp_path)
