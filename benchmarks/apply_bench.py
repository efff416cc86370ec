"""How long ``apply`` takes for a set of N schedules: created, applied again unchanged,
applied with every document changed, and a dry run, on SQLite and PostgreSQL.

Each phase is one ``ApplyService.apply`` call in process (the same call
``POST /api/v1/apply`` makes), on a fresh store; the documents are read from YAML text
with their lines first, as ``tickwork apply`` reads files (that time is printed apart).
There is no peer to compare with side by side: none of the schedulers we measure
ourselves against applies declared files in one transaction.

    .venv/bin/python benchmarks/apply_bench.py [--count 1000] [--stores sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import time

from stores import DEFAULT_POSTGRES_URL, database

from tickwork.manifests.documents import Declared
from tickwork.manifests.loading import parse_text
from tickwork.node import Node, prepare_store

TEMPLATE = """\
kind: Schedule
name: job-{index}
description: Benchmark schedule {index}
trigger:
  cron: "{minute} {hour} * * *"
timezone: {zone}
retry: {{max_attempts: 3, initial_interval: 10s}}
action:
  kind: http
  method: POST
  url: http://127.0.0.1:9/hooks/{index}
  body: {{"index": {index}}}
tags: [bench]
"""
ZONES = ("Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC")


def declared(count: int, hour: int) -> tuple[list[Declared], float]:
    """``count`` schedule documents in 100 files, and how long reading them took."""
    texts: dict[str, list[str]] = {}
    for index in range(count):
        text = TEMPLATE.format(
            index=index, minute=index % 60, hour=hour, zone=ZONES[index % len(ZONES)]
        )
        texts.setdefault(f"team-{index % 100}.yaml", []).append(text)
    started = time.perf_counter()
    documents = [
        item for name, parts in texts.items() for item in parse_text("---\n".join(parts), name)
    ]
    return documents, time.perf_counter() - started


def bench(store: str, count: int, postgres_url: str) -> None:
    with database(store, postgres_url, "apply") as url:
        if store == "postgresql":
            from tickwork.store import migrate

            migrate.upgrade(url)
        prepare_store(url)
        node = Node(url, run_worker=False)
        try:
            first, read_s = declared(count, hour=2)
            changed, _ = declared(count, hour=3)
            phases = [
                ("create", first, False),
                ("unchanged", first, False),
                ("dry run, all changed", changed, True),
                ("update all", changed, False),
            ]
            print(f"{store}: {count} schedules (reading the YAML: {read_s * 1000:.0f} ms)")
            for label, documents, dry in phases:
                started = time.perf_counter()
                result = node.apply.apply("bench", documents, dry_run=dry)
                took = time.perf_counter() - started
                counts = {k: v for k, v in result.counts().items() if v}
                print(
                    f"  {label:<22} {took * 1000:8.0f} ms  {took / count * 1e6:7.0f} µs each  "
                    f"{counts}"
                )
        finally:
            node.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    args = parser.parse_args()
    for store in args.stores.split(","):
        bench(store, args.count, args.postgres_url)


if __name__ == "__main__":
    main()
