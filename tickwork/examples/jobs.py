"""Python jobs of the example schedules: small, safe to run anywhere, useful to look at."""

from __future__ import annotations

import shutil
from typing import Any

__all__ = ["disk_space"]


def disk_space(input: dict[str, Any]) -> dict[str, Any]:
    """Free space of the disk holding ``input["path"]`` (default: the working directory),
    and whether it is under ``warn_below_percent``."""
    path = str(input.get("path") or ".")
    usage = shutil.disk_usage(path)
    free_percent = round(100 * usage.free / usage.total, 1) if usage.total else 0.0
    return {
        "path": path,
        "free_gb": round(usage.free / 1024**3, 2),
        "free_percent": free_percent,
        "low": free_percent < float(input.get("warn_below_percent", 10)),
    }
