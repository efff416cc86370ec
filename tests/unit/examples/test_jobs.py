"""The Python job of the example schedules, called as the worker calls it."""

from __future__ import annotations

import shutil
from pathlib import Path

from tickwork.examples.jobs import disk_space


def test_disk_space_reports_the_disk_of_the_path(tmp_path: Path) -> None:
    usage = shutil.disk_usage(tmp_path)
    found = disk_space({"path": str(tmp_path), "warn_below_percent": 101})
    assert found["path"] == str(tmp_path)
    assert abs(found["free_gb"] - usage.free / 1024**3) < 1.0
    assert 0 <= found["free_percent"] <= 100
    assert found["low"] is True  # everything is under 101 %
    assert disk_space({"path": str(tmp_path), "warn_below_percent": -1})["low"] is False
