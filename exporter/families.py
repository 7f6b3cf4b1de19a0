"""Metric family specs: validated once, then instantiated per scrape without re-validation.

Building a family the way prometheus_client's `GaugeMetricFamily(...)` / `add_metric(...)` do
validates the name and builds label dicts on every call; at ~130 series per scrape that was a
third of the exporter's CPU per scrape. A `FamilySpec` validates name, type and labels once at
start-up and then builds `exporter.metric` families and samples directly.

It also keeps, per label set, the label dict and the rendered series text (`name{labels}`, as
prometheus_client's encoders render it), so a label set seen in an earlier scrape (the same
cpu/mode pairs, devices and mounts every time) costs neither a new dict nor formatting;
`exporter.exposition` writes those families with them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from exporter.exposition import header_text, series_text
from exporter.metric import Metric, Sample, check_label_name

MAX_CACHED_LABEL_SETS = 4096
"""Per family; beyond it (label values that change all the time) the cache starts afresh."""

Entry = tuple[dict[str, str], str]  # (labels, series text), shared between scrapes: read-only


class SpecMetric(Metric):
    """A family built by a FamilySpec: each sample has its cached entry in `entries`."""

    __slots__ = ("entries", "spec")


class FamilySpec:
    __slots__ = ("_cache", "_header", "documentation", "labels", "name", "sample_name", "type")

    def __init__(self, name: str, documentation: str, typ: str = "gauge", labels: Sequence[str] = ()):
        if typ == "counter" and name.endswith("_total"):
            name = name[: -len("_total")]
        proto = Metric(name, documentation, typ)  # validates name and type, once
        for label in labels:
            check_label_name(label)
        self.name = proto.name
        self.documentation = documentation
        self.type = proto.type
        self.labels = tuple(labels)
        self.sample_name = self.name + "_total" if self.type == "counter" else self.name
        self._cache: dict[tuple[str, ...], Entry] = {}
        self._header: dict[bool, str] = {}

    def new(self) -> SpecMetric:
        m = SpecMetric.__new__(SpecMetric)
        m.name = self.name
        m.documentation = self.documentation
        m.unit = ""
        m.type = self.type
        m.samples = []
        m.spec = self
        m.entries = []
        return m

    def value(self, value: float) -> SpecMetric:
        """A family with one unlabelled sample."""
        m = self.new()
        self.add(m, (), value)
        return m

    def add(self, metric: Metric, label_values: Iterable[str], value: float) -> None:
        key = tuple(label_values)
        entry = self._cache.get(key)
        if entry is None:
            entry = self._entry(key)
        metric.samples.append(Sample(self.sample_name, entry[0], value))
        entries = getattr(metric, "entries", None)
        if entries is not None:
            entries.append(entry)

    def _entry(self, key: tuple[str, ...]) -> Entry:
        if len(key) != len(self.labels):
            raise ValueError(f"{self.name}: {len(self.labels)} label values expected, got {key!r}")
        labels = dict(zip(self.labels, key, strict=True))
        entry = (labels, series_text(self.sample_name, labels))
        if len(self._cache) >= MAX_CACHED_LABEL_SETS:
            self._cache.clear()
        self._cache[key] = entry
        return entry

    def header(self, openmetrics: bool) -> str:
        """`# HELP` / `# TYPE` lines of this family in either format, rendered once."""
        text = self._header.get(openmetrics)
        if text is None:
            text = self._header[openmetrics] = header_text(self.name, self.documentation, self.type,
                                                           openmetrics)
        return text


def gauge(name: str, documentation: str, labels: Sequence[str] = ()) -> FamilySpec:
    return FamilySpec(name, documentation, "gauge", labels)


def counter(name: str, documentation: str, labels: Sequence[str] = ()) -> FamilySpec:
    return FamilySpec(name, documentation, "counter", labels)


class SpecCache:
    """Families named after a file's field (vmstat, netstat, sockstat, meminfo): one spec per
    name, built the first time the field is seen, so a scrape validates nothing again."""

    __slots__ = ("_help", "_prefix", "_specs", "_type")

    MAX = 4096  # a strange file must not grow this without bound

    def __init__(self, prefix: str, help_format: str, typ: str = "gauge"):
        self._prefix = prefix
        self._help = help_format
        self._type = typ
        self._specs: dict[str, FamilySpec] = {}

    def get(self, key: str, *help_args: str) -> FamilySpec:
        """The family `prefix + key`; its help is `help_format` filled with help_args (or key)."""
        spec = self._specs.get(key)
        if spec is None:
            if len(self._specs) >= self.MAX:
                self._specs.clear()
            help_text = self._help.format(*(help_args or (key,)))
            spec = self._specs[key] = FamilySpec(self._prefix + key, help_text, self._type)
        return spec
