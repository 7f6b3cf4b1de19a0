"""node_exporter's per-scrape filtering: `/metrics?collect[]=cpu&collect[]=memory` runs only
those collectors, `exclude[]=probe_http` skips some, unknown names get a 400 that says why."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from exporter.families import gauge
from exporter.scrape import ScrapeCollector, SelectionError
from exporter.server import make_metrics_app
from tests.support.exporter_process import start
from tradewatch import metric_names as names


class Counted:
    def __init__(self, name: str):
        self.name = name
        self.runs = 0
        self.spec = gauge(f"test_{name}", f"From {name}.")

    def collect(self):
        self.runs += 1
        yield self.spec.value(1)


@pytest.fixture
def runner():
    parts = [Counted("cpu"), Counted("memory"), Counted("probe_http")]
    r = ScrapeCollector(parts, version="t", known=["cpu", "memory", "probe_http", "probe_sql"])
    yield r
    r.close()


def call(app, query: str = "", method: str = "GET") -> tuple[str, dict[str, str], bytes]:
    got: dict[str, object] = {}

    def start_response(status, headers):
        got["status"], got["headers"] = status, dict(headers)

    body = b"".join(app({"REQUEST_METHOD": method, "PATH_INFO": "/metrics", "QUERY_STRING": query,
                         "HTTP_ACCEPT": "text/plain;version=0.0.4"}, start_response))
    return got["status"], got["headers"], body  # type: ignore[return-value]


def ran(body: bytes) -> set[str]:
    """The collectors with a success series in the scrape."""
    return {s.labels["collector"] for f in text_string_to_metric_families(body.decode())
            for s in f.samples if s.name == names.COLLECTOR_SUCCESS}


KNOWN_ERROR = r"unknown collector.*nope.*known: cpu, memory, probe_http, probe_sql"


def test_select_semantics(runner):
    assert runner.select() is None
    assert runner.select(["cpu", "memory"]) == {"cpu", "memory"}
    assert runner.select(exclude=["probe_http"]) == {"cpu", "memory"}
    assert runner.select(["probe_sql"]) == {"probe_sql"}  # known, nothing configured: no error
    with pytest.raises(SelectionError, match=KNOWN_ERROR):
        runner.select(["cpu", "nope"])
    with pytest.raises(SelectionError, match="unknown collector"):
        runner.select(exclude=["nope"])
    with pytest.raises(SelectionError, match="cannot be combined"):
        runner.select(["cpu"], ["memory"])
    # node_exporter's collector names select ours (its meminfo is our memory)
    assert runner.select(["meminfo", "cpu"]) == {"memory", "cpu"}
    assert runner.select(exclude=["meminfo"]) == {"cpu", "probe_http"}


def test_node_exporters_collector_names_are_flags_too():
    from exporter import cli
    from exporter.collectors import REGISTRY

    parser = cli.build_parser(REGISTRY)
    assert parser.parse_args(["--no-collector.meminfo"]).collector__memory is False
    assert parser.parse_args(["--collector.meminfo"]).collector__memory is True
    assert parser.parse_args(["--no-collector.memory"]).collector__memory is False


def test_collect_runs_only_the_named_collectors(runner):
    app = make_metrics_app(runner)
    status, _, body = call(app, "collect[]=cpu&collect[]=memory")
    assert status == "200 OK"
    assert ran(body) == {"cpu", "memory"}
    assert b"test_cpu 1.0" in body and b"test_probe_http" not in body
    assert names.EXPORTER_BUILD_INFO.encode() in body
    assert [c.runs for c in runner.collectors] == [1, 1, 0]  # not run and thrown away: not run


def test_exclude_skips_the_named_collectors(runner):
    app = make_metrics_app(runner)
    status, _, body = call(app, "exclude%5B%5D=probe_http")  # brackets URL-encoded, as Prometheus sends them
    assert status == "200 OK" and ran(body) == {"cpu", "memory"}
    assert runner.collectors[2].runs == 0


def test_no_parameters_runs_everything(runner):
    status, _, body = call(make_metrics_app(runner))
    assert status == "200 OK" and ran(body) == {"cpu", "memory", "probe_http"}


def test_a_known_collector_with_nothing_configured_gives_an_empty_scrape(runner):
    status, _, body = call(make_metrics_app(runner), "collect[]=probe_sql")
    assert status == "200 OK" and ran(body) == set()
    assert all(c.runs == 0 for c in runner.collectors)


@pytest.mark.parametrize(("query", "detail"), [
    ("collect[]=cpu&collect[]=bogus", "unknown collector(s) bogus"),
    ("exclude[]=bogus", "unknown collector(s) bogus"),
    ("collect[]=cpu&exclude[]=memory", "collect[] and exclude[] cannot be combined"),
])
def test_bad_selection_is_a_400_with_a_clear_message(runner, query, detail):
    status, headers, body = call(make_metrics_app(runner), query)
    assert status == "400 Bad Request" and headers["Content-Type"] == "application/json"
    err = json.loads(body)
    assert err["error"] == "bad collector selection" and detail in err["detail"]
    assert all(c.runs == 0 for c in runner.collectors)


def test_name_filter_and_methods_still_work_as_prometheus_client_does(runner):
    app = make_metrics_app(runner)
    _, _, body = call(app, "name[]=test_memory")
    families = {f.name for f in text_string_to_metric_families(body.decode())}
    assert families == {"test_memory"}
    assert call(app, method="OPTIONS")[0] == "200 OK"
    assert call(app, method="POST")[0] == "405 Method Not Allowed"


@pytest.mark.integration
def test_real_exporter_filters_per_scrape(tmp_path):
    proc, url = start(tmp_path)
    try:
        with urllib.request.urlopen(f"{url}/metrics?collect[]=cpu&collect[]=memory", timeout=15) as resp:
            body = resp.read()
        assert ran(body) == {"cpu", "memory"}
        assert b"node_cpu_seconds_total{" in body and b"node_memory_MemTotal_bytes " in body
        assert b"node_load1 " not in body and b"node_filesystem_size_bytes" not in body
        with urllib.request.urlopen(f"{url}/metrics?exclude[]=cpu&exclude[]=probe_http", timeout=15) as resp:
            body = resp.read()
        assert "cpu" not in ran(body) and {"memory", "loadavg", "filesystem"} <= ran(body)
        assert b"node_cpu_seconds_total" not in body
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"{url}/metrics?collect[]=cpuu", timeout=15)
        assert err.value.code == 400
        assert "unknown collector(s) cpuu" in json.loads(err.value.read())["detail"]
        err.value.close()
    finally:
        proc.stop()


@pytest.mark.integration
def test_prometheus_with_the_rendered_jobs_runs_probes_only_in_the_probes_job(tmp_path):
    """The `exporter` and `probes` jobs of the rendered prometheus.yml, scraped by a real
    Prometheus: the probe collector runs in the probes job only."""
    import socket

    import yaml

    from tests.support.procs import wait_until
    from tests.support.prom import prometheus
    from tradewatch.config import parse_config
    from tradewatch.rules.render import Deployment, prometheus_config

    with socket.create_server(("127.0.0.1", 0)) as target:
        probes = {"tcp": [{"name": "db", "address": f"127.0.0.1:{target.getsockname()[1]}", "timeout": "1s"}]}
        cfg_file = tmp_path / "tradewatch.yaml"
        cfg_file.write_text(yaml.safe_dump({"probes": probes}))
        proc, url = start(tmp_path, "--config", str(cfg_file))
        try:
            cfg = parse_config({"intervals": {"system_metrics": "1s", "api": "2s"}, "probes": probes})
            jobs = [j for j in prometheus_config(cfg, Deployment())["scrape_configs"]
                    if j["job_name"] in ("exporter", "probes")]
            assert [j["job_name"] for j in jobs] == ["exporter", "probes"]
            workdir = tmp_path / "prometheus"
            (workdir / "targets").mkdir(parents=True)
            (workdir / "targets" / "exporter.yml").write_text(
                yaml.safe_dump([{"targets": [url.removeprefix("http://")]}]))
            config = {"global": {"scrape_interval": "1s", "scrape_timeout": "1s"}, "scrape_configs": jobs}
            with prometheus(workdir, config) as prom:
                def both_scraped():
                    ups = {r["metric"]["job"]: r["value"][1] for r in prom.query("up")}
                    return ups == {"exporter": "1", "probes": "1"}

                wait_until(both_scraped, timeout=30)
                ran = {(r["metric"]["job"], r["metric"]["collector"])
                       for r in prom.query(names.COLLECTOR_SUCCESS)}
                assert ("exporter", "cpu") in ran and ("exporter", "probe_tcp") not in ran
                assert not any(job == "probes" for job, _ in ran)  # the probes job keeps probe series only
                probe = prom.query(names.PROBE_SUCCESS)
                assert [(r["metric"]["job"], r["metric"]["probe"], r["value"][1]) for r in probe] == [
                    ("probes", "db", "1")]
        finally:
            proc.stop()
