"""exporter.exposition: our encoder writes what prometheus_client's encoders write, byte for byte,
parses with prometheus_client's parsers and passes `promtool check metrics`."""

from __future__ import annotations

import math
import subprocess

import pytest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.exposition import choose_encoder, generate_latest
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text

from exporter import families as families_module
from exporter.collectors import load_all
from exporter.exposition import encode
from exporter.families import counter, gauge
from exporter.scrape import ScrapeCollector, build_collectors
from exporter.settings import DefaultConfig
from tests.support.procs import binary

TEXT = "text/plain;version=0.0.4"
PROMETHEUS = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
              "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
ACCEPTS = [TEXT, PROMETHEUS, "", "application/openmetrics-text; version=1.0.0; escaping=allow-utf-8"]

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
    load_all()
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
    assert encode(families, encoder, content_type) == encoder(Fixed(families))


def test_the_same_label_sets_are_served_from_the_cache_on_the_next_scrape():
    first, second = tricky_families()[0], tricky_families()[0]
    assert first.samples == second.samples
    assert all(a.labels is b.labels for a, b in zip(first.samples, second.samples, strict=True))
    encoder, content_type = choose_encoder(TEXT)
    assert encode([second], encoder, content_type) == generate_latest(Fixed([second]))


def test_label_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(families_module, "MAX_CACHED_LABEL_SETS", 10)
    spec = gauge("test_churn", "Label values that keep changing.", ("id",))
    fam = spec.new()
    for i in range(25):
        spec.add(fam, (str(i),), i)
    assert len(spec._cache) <= 10
    assert [s.labels["id"] for s in fam.samples] == [str(i) for i in range(25)]
    encoder, content_type = choose_encoder(PROMETHEUS)
    assert encode([fam], encoder, content_type) == encoder(Fixed([fam]))


def test_wrong_number_of_label_values_is_an_error():
    with pytest.raises(ValueError, match="2 label values expected"):
        TRICKY.add(TRICKY.new(), ("only one",), 1.0)


def test_a_spec_family_changed_after_the_fact_is_written_by_prometheus_client():
    fam = TRICKY.new()
    TRICKY.add(fam, ("/a", "b"), 1.0)
    fam.add_sample("test_tricky", {"path": "/z", "kind": "added"}, 2.0)  # no cached entry for it
    encoder, content_type = choose_encoder(TEXT)
    out = encode([fam], encoder, content_type)
    assert out == generate_latest(Fixed([fam])) and b'kind="added"' in out


def test_output_parses_back_to_the_same_values():
    families = tricky_families() + host_families()
    text = encode(families, *choose_encoder(TEXT)).decode()
    got = {(s.name, tuple(sorted(s.labels.items()))): s.value for f in parse_text(text) for s in f.samples}
    om_text = encode(families, *choose_encoder(PROMETHEUS)).decode()
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
    body = encode(families, *choose_encoder(TEXT))
    res = subprocess.run([binary("promtool"), "check", "metrics"], input=body, capture_output=True,
                         timeout=30)
    problems = [ln for ln in (res.stdout + res.stderr).decode().splitlines() if ln.strip()]
    # node_exporter's own meminfo names draw the camelCase lint; nothing else may
    assert [p for p in problems if "camelCase" not in p] == []
    assert res.returncode in (0, 3), res
