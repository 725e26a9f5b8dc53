"""Process-local metrics in the Prometheus text exposition format (version 0.0.4).

Counters and histograms live in this process's memory and are updated under one lock;
collectors are called at scrape time for values owned elsewhere (the kernel cache, the
job queue). With several gunicorn worker processes each keeps its own numbers and a
scrape sees one of them: run one worker with threads (the default of `make run`), or
scrape each worker (README "Health and metrics").
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Seconds; Prometheus' usual defaults, good for HTTP latency.
DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

Labels = tuple[str, ...]
logger = logging.getLogger("objectos.metrics")


@dataclass(frozen=True)
class Sample:
    """One line of the exposition: name{labels} value."""

    name: str
    labels: dict[str, str]
    value: float


@dataclass(frozen=True)
class Family:
    """A metric with its HELP and TYPE lines and its samples."""

    name: str
    kind: str  # counter | gauge | histogram | summary
    help: str
    samples: Sequence[Sample]


class Counter:
    """A monotonically increasing number per combination of label values."""

    kind = "counter"

    def __init__(self, name: str, help: str, labelnames: Sequence[str] = ()) -> None:
        self.name, self.help, self.labelnames = name, help, tuple(labelnames)
        self._values: dict[Labels, float] = {}
        self._lock = threading.Lock()

    def inc(self, *labels: str, amount: float = 1.0) -> None:
        with self._lock:
            self._values[labels] = self._values.get(labels, 0.0) + amount

    def value(self, *labels: str) -> float:
        return self._values.get(labels, 0.0)

    def collect(self) -> Family:
        with self._lock:
            items = sorted(self._values.items())
        samples = [
            Sample(self.name, dict(zip(self.labelnames, k, strict=True)), v) for k, v in items
        ]
        return Family(self.name, self.kind, self.help, samples)


class Histogram:
    """Observations counted into cumulative buckets, with their sum and count."""

    kind = "histogram"

    def __init__(
        self,
        name: str,
        help: str,
        labelnames: Sequence[str] = (),
        buckets: Sequence[float] = DEFAULT_BUCKETS,
    ) -> None:
        self.name, self.help, self.labelnames = name, help, tuple(labelnames)
        self.buckets = tuple(sorted(buckets))
        # per label values: [count in each bucket (not cumulative)..., +Inf], sum
        self._counts: dict[Labels, list[int]] = {}
        self._sums: dict[Labels, float] = {}
        self._lock = threading.Lock()

    def observe(self, value: float, *labels: str) -> None:
        index = len(self.buckets)
        for position, bound in enumerate(self.buckets):
            if value <= bound:
                index = position
                break
        with self._lock:
            counts = self._counts.get(labels)
            if counts is None:
                counts = self._counts[labels] = [0] * (len(self.buckets) + 1)
                self._sums[labels] = 0.0
            counts[index] += 1
            self._sums[labels] += value

    def count(self, *labels: str) -> int:
        return sum(self._counts.get(labels, ()))

    def collect(self) -> Family:
        with self._lock:
            items = sorted((k, list(v), self._sums[k]) for k, v in self._counts.items())
        samples: list[Sample] = []
        for label_values, counts, total in items:
            labels = dict(zip(self.labelnames, label_values, strict=True))
            cumulative = 0
            for bound, count in zip((*self.buckets, math.inf), counts, strict=True):
                cumulative += count
                le = "+Inf" if bound == math.inf else format_value(bound)
                samples.append(Sample(f"{self.name}_bucket", {**labels, "le": le}, cumulative))
            samples.append(Sample(f"{self.name}_sum", labels, total))
            samples.append(Sample(f"{self.name}_count", labels, cumulative))
        return Family(self.name, self.kind, self.help, samples)


Collector = Callable[[], Iterable[Family]]


class Registry:
    """The metrics and collectors of this process, rendered in registration order."""

    def __init__(self) -> None:
        self._metrics: list[Counter | Histogram] = []
        self._collectors: list[Collector] = []

    def register(self, metric):
        self._metrics.append(metric)
        return metric

    def add_collector(self, collector: Collector) -> Collector:
        self._collectors.append(collector)
        return collector

    def collect(self) -> list[Family]:
        families = [metric.collect() for metric in self._metrics]
        for collector in self._collectors:
            try:
                families.extend(collector())
            except Exception:  # one broken collector must not hide the other metrics
                logger.exception("metrics collector %s failed", collector.__name__)
        return families

    def render(self) -> str:
        return render(self.collect())


def format_value(value: float) -> str:
    if value == math.inf:
        return "+Inf"
    if value == -math.inf:
        return "-Inf"
    if math.isnan(value):
        return "NaN"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def _escape(value: str) -> str:
    return value.replace("\\", r"\\").replace('"', r"\"").replace("\n", r"\n")


def render(families: Iterable[Family]) -> str:
    lines: list[str] = []
    for family in families:
        lines.append(f"# HELP {family.name} {family.help.replace(chr(10), ' ')}")
        lines.append(f"# TYPE {family.name} {family.kind}")
        for sample in family.samples:
            labels = ",".join(f'{k}="{_escape(str(v))}"' for k, v in sample.labels.items())
            name = f"{sample.name}{{{labels}}}" if labels else sample.name
            lines.append(f"{name} {format_value(sample.value)}")
    return "\n".join(lines) + "\n"


registry = Registry()

http_requests = registry.register(
    Counter(
        "objectos_http_requests_total",
        "HTTP requests answered, by method, route template and status code.",
        ("method", "route", "status"),
    )
)
http_request_duration = registry.register(
    Histogram(
        "objectos_http_request_duration_seconds",
        "Time from the first middleware to the response, by route template.",
        ("route",),
    )
)
