"""exporter.exposition: our negotiation answers and our encoder writes what prometheus_client's
do, byte for byte; the output parses with its parsers and passes `promtool check metrics`; and the
exporter loads none of the client for it."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.exposition import choose_encoder, generate_latest
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text
from prometheus_client.utils import floatToGoString

from exporter import families as families_module
from exporter.exposition import encode, float_text, negotiate, restrict, series_text
from exporter.families import counter, gauge
from exporter.scrape import ScrapeCollector, build_collectors
from exporter.settings import DefaultConfig
from tests.support.procs import binary

TEXT = "text/plain;version=0.0.4"
PROMETHEUS = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
              "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
ACCEPTS = [TEXT, PROMETHEUS, "", "application/openmetrics-text; version=1.0.0; escaping=allow-utf-8",
           # the ones below are negotiated by us and written by prometheus_client (names escaped)
           "text/plain;version=1.0.0;escaping=dots",
           "application/openmetrics-text;version=1.0.0;escaping=values"]
# Accept headers for the negotiation alone: each must get prometheus_client's Content-Type
NEGOTIATED = [
    *ACCEPTS, None, "*/*", "application/openmetrics-text", "application/openmetrics-text;version=0.0.1",
    "application/openmetrics-text;version=2.0.0",
    "application/openmetrics-text; version=1.0.0; escaping=bogus",
    "text/plain;version=1.0.0", "text/plain; version=1.0.0; escaping=underscores", "text/html, text/plain",
    "application/openmetrics-text;version=0.0.1,text/plain;version=1.0.0;escaping=allow-utf-8",
    "text/plain;version=0.0.4;q=0.5,application/openmetrics-text;version=1.0.0;escaping=underscores",
    "application/json;version=1.0.0", " application/openmetrics-text ; version=1.0.0 ; q=1",
]

TRICKY = gauge("test_tricky", 'Help with a backslash \\ a newline \n and "quotes".', ("path", "kind"))
BIG = counter("test_bytes_total", "Counter of bytes.", ("device",))


class Fixed:
    def __init__(self, families):
        self.families = families

    def collect(self):
        return self.families


def tricky_families():
    t = TRICKY.new()
    TRICKY.add(t, ('C:\\dir\\"x"', "new\nline"), 1.5)
    TRICKY.add(t, ("/", "ünïcode ✓"), math.inf)
    TRICKY.add(t, ("/srv", ""), -math.inf)
    TRICKY.add(t, ("/nan", "x"), math.nan)
    b = BIG.new()
    BIG.add(b, ("sda",), 12345678901234.0)
    BIG.add(b, ("sdb",), 0.1 + 0.2)
    BIG.add(b, ("sdc",), 1e-9)
    empty = gauge("test_empty", "No samples this scrape.", ("x",)).new()
    plain = GaugeMetricFamily("test_plain", "A plain client family.", labels=["probe"])
    plain.add_metric(["a"], 1)
    plain.add_metric(["b"], 0)
    client_counter = CounterMetricFamily("test_client_requests", "Client counter.", labels=["code"])
    client_counter.add_metric(["200"], 7)
    hist = HistogramMetricFamily("test_latency_seconds", "A histogram.", labels=["op"])
    hist.add_metric(["get"], [("0.1", 3), ("1", 5), ("+Inf", 6)], sum_value=2.5)
    return [t, b, empty, plain, client_counter, hist, gauge("test_unlabelled", "One value.").value(42)]


def host_families():
    names = ["cpu", "memory", "filesystem", "diskstats", "netdev", "loadavg", "os", "process"]
    runner = ScrapeCollector(build_collectors(DefaultConfig(), names), version="1.2.3")
    try:
        return list(runner.collect())
    finally:
        runner.close()


@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize("source", [tricky_families, host_families])
def test_byte_for_byte_what_prometheus_client_writes(accept, source):
    families = source()
    encoder, content_type = choose_encoder(accept)
    fmt = negotiate(accept)
    assert fmt.content_type == content_type
    assert encode(families, fmt) == encoder(Fixed(families))


@pytest.mark.parametrize("accept", NEGOTIATED)
def test_negotiation_answers_what_prometheus_client_answers(accept):
    encoder, content_type = choose_encoder(accept)
    fmt = negotiate(accept)
    assert fmt.content_type == content_type
    families = tricky_families()
    assert encode(families, fmt) == encoder(Fixed(families)), accept


@pytest.mark.parametrize("value", [0.0, -0.0, 1.0, -1.5, 0.1 + 0.2, 1e-9, 123456.0, 1234567.0,
                                   12345678901234.0, 1.5e300, -1.5e300, 2.0**53, 5e-324, math.inf,
                                   -math.inf, math.nan, 7, True])
def test_values_are_written_as_prometheus_client_writes_them(value):
    assert float_text(value) == floatToGoString(value)


def test_names_with_a_colon_are_refused():
    with pytest.raises(ValueError, match="reserved for recording rules"):
        series_text("job:rate5m", {})


@pytest.mark.parametrize("names", [["test_tricky"], ["test_bytes_total", "test_plain"], ["test_bytes"],
                                   ["test_latency_seconds_bucket", "test_unlabelled"], ["nothing"]])
def test_name_filter_keeps_what_the_client_restricted_registry_keeps(names):
    from prometheus_client.metrics_core import Metric as ClientMetric
    from prometheus_client.registry import CollectorRegistry

    families = tricky_families()
    registry = CollectorRegistry(auto_describe=False, support_collectors_without_names=True)

    class Collector:
        def collect(self):  # the client's own family objects: it calls their _restricted_metric
            for f in families:
                copy = ClientMetric(f.name, f.documentation, f.type)
                copy.samples = list(f.samples)
                yield copy

    registry.register(Collector())
    expected = generate_latest(registry.restricted_registry(names))
    assert encode(restrict(families, names)) == expected


def test_the_same_label_sets_are_served_from_the_cache_on_the_next_scrape():
    first, second = tricky_families()[0], tricky_families()[0]
    assert first.samples == second.samples
    assert all(a.labels is b.labels for a, b in zip(first.samples, second.samples, strict=True))
    assert encode([second], negotiate(TEXT)) == generate_latest(Fixed([second]))


def test_label_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(families_module, "MAX_CACHED_LABEL_SETS", 10)
    spec = gauge("test_churn", "Label values that keep changing.", ("id",))
    fam = spec.new()
    for i in range(25):
        spec.add(fam, (str(i),), i)
    assert len(spec._cache) <= 10
    assert [s.labels["id"] for s in fam.samples] == [str(i) for i in range(25)]
    encoder, _ = choose_encoder(PROMETHEUS)
    assert encode([fam], negotiate(PROMETHEUS)) == encoder(Fixed([fam]))


def test_wrong_number_of_label_values_is_an_error():
    with pytest.raises(ValueError, match="2 label values expected"):
        TRICKY.add(TRICKY.new(), ("only one",), 1.0)


def test_a_spec_family_changed_after_the_fact_is_still_written_right():
    fam = TRICKY.new()
    TRICKY.add(fam, ("/a", "b"), 1.0)
    fam.add_sample("test_tricky", {"path": "/z", "kind": "added"}, 2.0)  # no cached entry for it
    out = encode([fam], negotiate(TEXT))
    assert out == generate_latest(Fixed([fam])) and b'kind="added"' in out


def test_output_parses_back_to_the_same_values():
    families = tricky_families() + host_families()
    text = encode(families, negotiate(TEXT)).decode()
    got = {(s.name, tuple(sorted(s.labels.items()))): s.value for f in parse_text(text) for s in f.samples}
    om_text = encode(families, negotiate(PROMETHEUS)).decode()
    om_got = {(s.name, tuple(sorted(s.labels.items()))): s.value
              for f in parse_openmetrics(om_text) for s in f.samples}
    for fam in families:
        for s in fam.samples:
            key = (s.name, tuple(sorted(s.labels.items())))
            for parsed in (got, om_got):
                if math.isnan(s.value):
                    assert math.isnan(parsed[key])
                else:
                    assert parsed[key] == s.value, key
    assert om_text == generate_openmetrics(Fixed(families)).decode()


@pytest.mark.integration
def test_promtool_accepts_the_output():
    families = tricky_families() + host_families()
    body = encode(families, negotiate(TEXT))
    res = subprocess.run([binary("promtool"), "check", "metrics"], input=body, capture_output=True,
                         timeout=30)
    problems = [ln for ln in (res.stdout + res.stderr).decode().splitlines() if ln.strip()]
    # node_exporter's own meminfo names draw the camelCase lint; nothing else may
    assert [p for p in problems if "camelCase" not in p] == []
    assert res.returncode in (0, 3), res


def test_serving_our_families_imports_no_prometheus_client():
    """The client package costs ~10 MB of RSS: only foreign families (textfile) may load it."""
    code = ("import sys; from exporter.exposition import encode, negotiate; "
            "from exporter.families import gauge; "
            "g = gauge('x_y', 'h', ('a',)); f = g.new(); g.add(f, ('b',), 1.0); "
            "[encode([f], negotiate(a)) for a in ('', 'application/openmetrics-text;version=1.0.0')]; "
            "print(sorted(m for m in sys.modules if m.startswith('prometheus_client')))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[]"
