"""Metric family specs: validated once, then instantiated per scrape without re-validation.

prometheus_client's `GaugeMetricFamily(...)` / `add_metric(...)` validate the name and build
label dicts on every call; at ~130 series per scrape that was a third of the exporter's CPU per
scrape. A `FamilySpec` validates name, type and labels once at start-up (through
prometheus_client's own `Metric` constructor) and then builds the same `Metric` / `Sample`
objects directly, which prometheus_client's exposition serialises as usual.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from prometheus_client.metrics_core import Metric
from prometheus_client.samples import Sample


class FamilySpec:
    __slots__ = ("documentation", "labels", "name", "sample_name", "type")

    def __init__(self, name: str, documentation: str, typ: str = "gauge", labels: Sequence[str] = ()):
        if typ == "counter" and name.endswith("_total"):
            name = name[: -len("_total")]
        proto = Metric(name, documentation, typ)  # validates name and type, once
        for label in labels:
            if not label.isidentifier() or label.startswith("__"):
                raise ValueError(f"invalid label name {label!r}")
        self.name = proto.name
        self.documentation = documentation
        self.type = proto.type
        self.labels = tuple(labels)
        self.sample_name = self.name + "_total" if self.type == "counter" else self.name

    def new(self) -> Metric:
        m = Metric.__new__(Metric)
        m.name = self.name
        m.documentation = self.documentation
        m.unit = ""
        m.type = self.type
        m.samples = []
        return m

    def value(self, value: float) -> Metric:
        """A family with one unlabelled sample."""
        m = self.new()
        m.samples.append(Sample(self.sample_name, {}, value))
        return m

    def add(self, metric: Metric, label_values: Iterable[str], value: float) -> None:
        labels = dict(zip(self.labels, label_values, strict=True))
        metric.samples.append(Sample(self.sample_name, labels, value))


def gauge(name: str, documentation: str, labels: Sequence[str] = ()) -> FamilySpec:
    return FamilySpec(name, documentation, "gauge", labels)


def counter(name: str, documentation: str, labels: Sequence[str] = ()) -> FamilySpec:
    return FamilySpec(name, documentation, "counter", labels)
