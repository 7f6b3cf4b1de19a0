"""A metric family and its samples, shaped as prometheus_client's `Metric` and `Sample`.

Why our own: importing the prometheus_client package (its `__init__` loads the metrics, the
registry and an HTTP exposition that imports `ssl`) is about 10 MB of the exporter's resident
memory, for two small classes. These have the same attributes, so prometheus_client's encoders
and test helpers read them unchanged (duck typing), and its parser's families (textfile) can be
mixed with ours in one scrape.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
TYPES = frozenset({"counter", "gauge", "summary", "histogram", "gaugehistogram", "unknown", "info",
                   "stateset"})


class Sample(NamedTuple):
    name: str
    labels: dict[str, str]
    value: float
    timestamp: Any = None
    exemplar: Any = None
    native_histogram: Any = None


class Metric:
    """One family: validated name and type, samples appended by the collector.

    As in prometheus_client, a counter's family name has no `_total` (its samples do), a
    `unit` is appended to the name, and `untyped` is spelled `unknown`.
    """

    __slots__ = ("documentation", "name", "samples", "type", "unit")

    def __init__(self, name: str, documentation: str, typ: str, unit: str = ""):
        if unit and not name.endswith("_" + unit):
            name += "_" + unit
        if not METRIC_NAME.fullmatch(name):
            raise ValueError(f"invalid metric name {name!r}")
        if typ == "untyped":
            typ = "unknown"
        if typ not in TYPES:
            raise ValueError(f"invalid metric type {typ!r}")
        self.name = name
        self.documentation = documentation
        self.unit = unit
        self.type = typ
        self.samples: list[Sample] = []

    def add_sample(self, name: str, labels: dict[str, str], value: float) -> None:
        self.samples.append(Sample(name, labels, value))

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Metric) and self.name == other.name
                and self.documentation == other.documentation and self.type == other.type
                and self.unit == other.unit and self.samples == other.samples)

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __repr__(self) -> str:
        return (f"Metric({self.name!r}, {self.documentation!r}, {self.type!r}, {self.unit!r}, "
                f"{self.samples!r})")


def check_label_name(label: str) -> None:
    if not LABEL_NAME.fullmatch(label) or label.startswith("__"):
        raise ValueError(f"invalid label name {label!r}")
