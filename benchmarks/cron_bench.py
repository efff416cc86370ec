"""Next-fire speed of Tickwork's cron engine against croniter and cronsim, side by side.

One process, one corpus: simple expressions, sparse ones, and ~2,000 random ones from
the syntax all three understand, in UTC and in America/New_York. Every library builds
its iterator first (untimed: each parses there), then the timed part asks each for the
same number of successive fires. Prints µs per next fire and Tickwork's speed-up.

    .venv/bin/python benchmarks/cron_bench.py [--random 2000] [--fires 20]
"""

from __future__ import annotations

import argparse
import gc
import random
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import croniter
import cronsim

from tickwork.cron import CronExpr

SIMPLE = [
    "* * * * *",
    "*/5 * * * *",
    "0 * * * *",
    "30 2 * * *",
    "30 2 * * 1-5",
    "0 9-17 * * MON-FRI",
    "*/15 9-17 * * 1-5",
    "0 0 1 * *",
    "0 0 * * 0",
    "15,45 8,20 * * *",
]
SPARSE = [
    "0 0 1 1 *",
    "0 12 29 2 *",
    "0 0 31 * *",
    "0 6 13 * 5",
    "0 0 1 */3 *",
    "30 4 1,15 * 5",
    "0 0 25 12 *",
    "0 22 L * *",
    "0 9 * * 5#3",
    "0 0 1 1,7 *",
]


def random_expression(rng: random.Random) -> str:
    def field(lo: int, hi: int, star_weight: float) -> str:
        roll = rng.random()
        if roll < star_weight:
            return "*"
        if roll < star_weight + 0.15:
            return f"*/{rng.randint(2, max(2, (hi - lo) // 2))}"
        if roll < star_weight + 0.35:
            a = rng.randint(lo, hi - 1)
            return f"{a}-{rng.randint(a + 1, hi)}"
        if roll < star_weight + 0.5:
            values = sorted(rng.sample(range(lo, hi + 1), rng.randint(2, 4)))
            return ",".join(map(str, values))
        return str(rng.randint(lo, hi))

    return " ".join(
        [
            field(0, 59, 0.15),
            field(0, 23, 0.3),
            field(1, 28, 0.6),
            field(1, 12, 0.7),
            field(0, 6, 0.6),
        ]
    )


Runner = Callable[[str, datetime, int], float]


def time_tickwork(expr: str, start: datetime, fires: int) -> float:
    parsed = CronExpr.parse(expr)
    iterator = parsed.iter_after(start, start.tzinfo or UTC)
    return _time_next(lambda: next(iterator), fires)


def time_croniter(expr: str, start: datetime, fires: int) -> float:
    iterator = croniter.croniter(expr, start)
    return _time_next(lambda: iterator.get_next(datetime), fires)


def time_cronsim(expr: str, start: datetime, fires: int) -> float:
    iterator: Iterator[datetime] = cronsim.CronSim(expr, start)
    return _time_next(lambda: next(iterator), fires)


def _time_next(step: Callable[[], object], fires: int) -> float:
    began = time.perf_counter()
    for _ in range(fires):
        step()
    return time.perf_counter() - began


RUNNERS: dict[str, Runner] = {
    "tickwork": time_tickwork,
    "croniter": time_croniter,
    "cronsim": time_cronsim,
}


def bench(corpus: list[str], zone: str, fires: int, rounds: int) -> dict[str, float]:
    """µs per next fire for each library: the best of ``rounds`` over the whole corpus."""
    start = datetime(2026, 1, 1, 0, 0, 30, tzinfo=UTC).astimezone(ZoneInfo(zone))
    results: dict[str, float] = {}
    for name, runner in RUNNERS.items():
        best = float("inf")
        for _ in range(rounds):
            gc.collect()
            total = sum(runner(expr, start, fires) for expr in corpus)
            best = min(best, total)
        results[name] = best / (len(corpus) * fires) * 1e6
    return results


def parse_times(expressions: list[str], repeat: int) -> dict[str, float]:
    """µs to parse one expression (croniter and cronsim parse in their constructors)."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    makers: dict[str, Callable[[str], object]] = {
        "tickwork": CronExpr.parse,
        "croniter": lambda e: croniter.croniter(e, start),
        "cronsim": lambda e: cronsim.CronSim(e, start),
    }
    results = {}
    for name, make in makers.items():
        began = time.perf_counter()
        for _ in range(repeat):
            for expr in expressions:
                make(expr)
        results[name] = (time.perf_counter() - began) / (repeat * len(expressions)) * 1e6
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--random", type=int, default=2000, help="random expressions")
    parser.add_argument("--fires", type=int, default=20, help="fires asked per expression")
    parser.add_argument("--rounds", type=int, default=3, help="best of N rounds")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    corpora = {
        "simple": SIMPLE,
        "sparse": SPARSE,
        f"random ({args.random})": [random_expression(rng) for _ in range(args.random)],
    }
    header = f"{'corpus':<16} {'zone':<17} {'tickwork':>9} {'croniter':>9} {'cronsim':>9}"
    print("µs per next fire (lower is better); speed-up = peer time / tickwork time")
    print(f"{header}   {'vs croniter':>11} {'vs cronsim':>10}")
    for corpus_name, corpus in corpora.items():
        for zone in ("UTC", "America/New_York"):
            us = bench(corpus, zone, args.fires, args.rounds)
            print(
                f"{corpus_name:<16} {zone:<17} {us['tickwork']:>9.2f} {us['croniter']:>9.2f} "
                f"{us['cronsim']:>9.2f}   {us['croniter'] / us['tickwork']:>10.1f}x "
                f"{us['cronsim'] / us['tickwork']:>9.1f}x"
            )
    print()
    typical = ["30 2 * * 1-5", "*/15 9-17 * * MON-FRI", "0 0 1,15 * *", "5 4 * * sun"]
    parse = parse_times(typical, repeat=2000)
    print("µs to parse a typical expression (croniter/cronsim: constructor, which parses)")
    print("  " + "  ".join(f"{name} {value:.1f}" for name, value in parse.items()))


if __name__ == "__main__":
    main()
