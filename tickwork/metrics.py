"""Prometheus metrics of one node, in a registry of its own (no process-wide globals).

Counters and the lateness histogram are fed by the scheduler's and the worker's
callbacks; queue depth, running runs and open circuits are read when scraped.
"""

from __future__ import annotations

from collections import Counter as TallyCounter
from collections.abc import Callable, Iterator, Sequence

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from tickwork.schedule.policies import ExecutionStatus
from tickwork.store.protocols import NewExecution
from tickwork.store.queue import FinishedRun

__all__ = ["CONTENT_TYPE", "NodeMetrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_LATENESS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class _Sampled(Collector):
    """Gauges read at scrape time from a callback: {name: (help, value)}."""

    def __init__(self, sample: Callable[[], dict[str, tuple[str, float]]]) -> None:
        self._sample = sample

    def collect(self) -> Iterator[GaugeMetricFamily]:
        for name, (help_text, value) in self._sample().items():
            yield GaugeMetricFamily(name, help_text, value=value)


class NodeMetrics:
    def __init__(self, sample: Callable[[], dict[str, tuple[str, float]]]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.fire_lateness = Histogram(
            "tickwork_fire_lateness_seconds",
            "Delay between a fire's nominal instant and its execution being created.",
            buckets=_LATENESS_BUCKETS,
            registry=self.registry,
        )
        self.fires = Counter(
            "tickwork_fires",
            "Nominal instants handled by the scheduler, by the status they were recorded in.",
            ["status"],
            registry=self.registry,
        )
        self.executions = Counter(
            "tickwork_executions_finished",
            "Attempts recorded by this node's worker, by the run's status after them.",
            ["status"],
            registry=self.registry,
        )
        self.retries = Counter(
            "tickwork_retries",
            "Failed attempts that will be retried.",
            registry=self.registry,
        )
        self.registry.register(_Sampled(sample))

    def fired(self, rows: Sequence[NewExecution]) -> None:
        # Counted per status first: a burst hands over thousands of rows at once.
        for status, count in TallyCounter(row.status.value for row in rows).items():
            self.fires.labels(status).inc(count)
        for row in rows:
            if row.lateness_ms is not None and row.status is ExecutionStatus.QUEUED:
                self.fire_lateness.observe(row.lateness_ms / 1000)

    def finished(self, runs: Sequence[FinishedRun]) -> None:
        tally = TallyCounter(run.status.value for run in runs)
        for status, count in tally.items():
            self.executions.labels(status).inc(count)
        retries = tally.get(ExecutionStatus.RETRYING.value, 0)
        if retries:
            self.retries.inc(retries)

    def render(self) -> bytes:
        return generate_latest(self.registry)
