"""Every query of every Grafana panel, run against a real Prometheus scraping our real processes.

Prometheus (Debian package, 1 s scrape and evaluation, the committed recording rules loaded)
scrapes the real exporter and the demo trading bot. Template variables are resolved the way
Grafana resolves them (their `label_values` queries run first, through the same HTTP API), then
each panel query runs as Grafana would run it (instant or range) and must parse; host and
trading panels must also return data.
"""

from __future__ import annotations

import contextlib
import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from dashboards import build
from tests.support.bridge import (
    TOKEN,
    BridgeProcess,
    alert,
    bridge_process,
    config_data,
    notifications,
    webhook,
)
from tests.support.grafana import substitute
from tests.support.procs import REPO, binary, free_port, running, wait_until
from tests.support.prom import Prometheus, prometheus
from tradewatch import metric_names as names

pytestmark = pytest.mark.integration

RULES = sorted((REPO / "prometheus" / "rules").glob("*.yml"))
# What Grafana substitutes for its built-in variables; 1m spans many 1 s scrapes.
BUILTINS = {"__rate_interval": "1m", "__interval": "1s", "__range": "1m"}
RANGE_SECONDS = 30
DATA_DEADLINE = 40.0
EXPORTER_JOB, BOT_JOB, BRIDGE_JOB = "tradewatch-exporter", "trading-bot", "tradewatch-bridge"


@dataclass(frozen=True)
class Query:
    dashboard: str
    panel: str
    ref: str
    expr: str
    instant: bool
    need_data: bool = True  # annotations mark critical alerts: rightly empty while none fires

    def __str__(self) -> str:
        return f"{self.dashboard} / {self.panel} / {self.ref}: {self.expr}"


def panel_queries(name: str, dash: dict[str, Any]) -> list[Query]:
    """Every panel target, and the annotation queries Grafana runs over the time range."""
    out = [Query(name, f"annotation {a['name']}", "-", a["expr"], instant=False, need_data=False)
           for a in dash["annotations"]["list"] if "expr" in a]
    for panel in dash["panels"]:
        for sub in [panel, *panel.get("panels", [])]:
            for t in sub.get("targets", []):
                out.append(Query(name, sub["title"], t["refId"], t["expr"], t["instant"]))
    return out


def call(prom: Prometheus, path: str, params: dict[str, Any]) -> dict[str, Any]:
    """The API's JSON answer, errors (400 bad_data, 422) included rather than raised."""
    query = urllib.parse.urlencode(params, doseq=True)
    try:
        with urllib.request.urlopen(f"{prom.url}/api/v1/{path}?{query}", timeout=10) as resp:
            return json.load(resp)
    except urllib.error.HTTPError as exc:
        with exc:
            return json.load(exc)


def run_query(prom: Prometheus, expr: str, instant: bool) -> dict[str, Any]:
    now = time.time()
    if instant:
        return call(prom, "query", {"query": expr, "time": now})
    return call(prom, "query_range", {"query": expr, "start": now - RANGE_SECONDS, "end": now, "step": 1})


def resolve_variables(prom: Prometheus, dash: dict[str, Any]) -> dict[str, str]:
    """Run each `label_values(selector, label)` variable in order and pick its first value."""
    values = dict(BUILTINS, datasource=build.PROVISIONED_DATASOURCE_UID)
    for var in dash["templating"]["list"]:
        if var["type"] != "query":
            continue
        m = re.fullmatch(r"label_values\((.+), *(\w+)\)", var["definition"])
        assert m, var["definition"]
        selector, label = substitute(m.group(1), values), m.group(2)
        body = call(prom, f"label/{label}/values", {"match[]": selector})
        assert body["status"] == "success", body
        values[var["name"]] = sorted(body["data"])[0] if body["data"] else ""
    return values


@contextlib.contextmanager
def exporter(tmp: Path, bridge_url: str) -> Iterator[str]:
    """The exporter, with an HTTP and a TCP probe of the bridge so the probe panels have data."""
    port = free_port()
    config = tmp / "exporter.yaml"
    config.write_text(yaml.safe_dump({"probes": {
        "http": [{"name": "bridge-api", "url": f"{bridge_url}/api/openapi.json", "timeout": "2s"}],
        "tcp": [{"name": "bridge-port", "address": bridge_url.removeprefix("http://"), "timeout": "1s"}],
    }}))
    args = [binary("tradewatch-exporter"), "--listen", f"127.0.0.1:{port}", "--config", str(config)]
    with running(args, tmp / "exporter.log", ready_url=f"http://127.0.0.1:{port}/metrics"):
        yield f"127.0.0.1:{port}"


@contextlib.contextmanager
def demo_bot(tmp: Path) -> Iterator[str]:
    port = free_port()
    # seeded, fast and error-prone enough that rejections and exchange errors occur within seconds
    args = [sys.executable, "-m", "exporter.demo_bot", "--listen", f"127.0.0.1:{port}", "--seed", "11",
            "--tick", "0.1", "--exchange-error-ratio", "0.2", "--reject-ratio", "0.1"]
    with running(args, tmp / "demo_bot.log", ready_url=f"http://127.0.0.1:{port}/metrics"):
        yield f"127.0.0.1:{port}"


def feed_bridge(bridge: BridgeProcess) -> None:
    """What Alertmanager would send: the Watchdog and a critical alert (emailed to the file sink)."""
    for a in (alert("Watchdog", severity="info", instance=""), alert("HighCpuUsage", severity="critical")):
        status, body = bridge.request("POST", "/api/monitoring/webhook", webhook(a))
        assert status == 200, body
    wait_until(lambda: any(n["status"] == "sent" for n in notifications(bridge.db_path)),
               what="the critical alert's email in the file sink")


# A query that is rightly empty on an idle host, and the query that proves the host is idle
# (returns 0). Here: the network error ratio divides by packets on interfaces other than lo, and
# a machine that only talks to 127.0.0.1 may have sent none in the last 5 minutes.
IDLE_EXPLAINED = {
    names.REC_NETWORK_ERROR_RATIO: " + ".join(
        f'sum(rate(node_network_{way}_packets_total{{job="$job", instance="$instance", device!="lo"}}[5m]))'
        for way in ("receive", "transmit")
    ),
}


def explained_empty(prom: Prometheus, expr: str, values: dict[str, str]) -> bool:
    for metric, idle_check in IDLE_EXPLAINED.items():
        if metric in expr:
            body = run_query(prom, substitute(idle_check, values), instant=True)
            assert body["status"] == "success", body
            result = body["data"]["result"]  # empty: no interface but lo at all
            return not result or float(result[0]["value"][1]) == 0.0
    return False


@dataclass
class Stack:
    prom: Prometheus
    targets: dict[str, str]  # job -> address


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("dashboards")
    with contextlib.ExitStack() as es:
        bridge = es.enter_context(bridge_process(tmp, config_data(tmp, bridge={"api_token": TOKEN})))
        targets = {
            EXPORTER_JOB: es.enter_context(exporter(tmp, bridge.url)),
            BOT_JOB: es.enter_context(demo_bot(tmp)),
            BRIDGE_JOB: bridge.url.removeprefix("http://"),
        }
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(p) for p in RULES],
            "scrape_configs": [
                {"job_name": job, "static_configs": [{"targets": [address]}]}
                for job, address in targets.items()
            ],
        }
        prom = es.enter_context(prometheus(tmp / "prometheus", config))
        feed_bridge(bridge)
        yield Stack(prom, targets)


def test_every_recording_rule_the_dashboards_use_is_loaded(stack: Stack) -> None:
    assert RULES, "prometheus/rules/*.yml is missing: the dashboards use its recording rules"
    groups = call(stack.prom, "rules", {"type": "record"})["data"]["groups"]
    loaded = {r["name"] for g in groups for r in g["rules"]}
    text = "\n".join(p.read_text() for p in build.DASHBOARD_DIR.glob("*.json"))
    used = {v for k, v in vars(names).items() if k.startswith("REC_") and v in text}
    assert used, "the dashboards use no recording rule: did the names change?"
    assert used <= loaded, f"used by the dashboards but not recorded: {sorted(used - loaded)}"


@pytest.mark.parametrize("name", sorted(build.BUILDERS))
def test_every_panel_query_parses_and_returns_data(stack: Stack, name: str) -> None:
    dash = json.loads((build.DASHBOARD_DIR / name).read_text())
    deadline = time.monotonic() + DATA_DEADLINE
    while True:
        values = resolve_variables(stack.prom, dash)
        empty, errors = [], []
        for q in panel_queries(name, dash):
            body = run_query(stack.prom, substitute(q.expr, values), q.instant)
            if body["status"] != "success":
                errors.append(f"{q}\n    -> {body.get('errorType')}: {body.get('error')}")
            elif (q.need_data and not body["data"]["result"]
                  and not explained_empty(stack.prom, q.expr, values)):
                empty.append(str(q))
        assert not errors, "queries Prometheus refuses:\n" + "\n".join(errors)
        missing_vars = [k for k, v in values.items() if v == ""]
        if not empty and not missing_vars:
            break
        if time.monotonic() > deadline:
            pytest.fail(f"after {DATA_DEADLINE}s: variables without values {missing_vars}; "
                        "queries without data:\n" + "\n".join(empty))
        time.sleep(1)


def test_variables_select_the_scraped_targets(stack: Stack) -> None:
    host = json.loads((build.DASHBOARD_DIR / "host-overview.json").read_text())
    trading = json.loads((build.DASHBOARD_DIR / "trading.json").read_text())
    values = wait_until(lambda: (v := resolve_variables(stack.prom, host))["instance"] and v,
                        timeout=DATA_DEADLINE, what="the host dashboard's variables")
    assert values["job"] == EXPORTER_JOB and values["instance"] == stack.targets[EXPORTER_JOB]
    bot = wait_until(lambda: resolve_variables(stack.prom, trading)["instance"],
                     timeout=DATA_DEADLINE, what="the trading dashboard's bot variable")
    assert bot == stack.targets[BOT_JOB]


def test_the_recording_rules_behind_trading_panels_have_data(stack: Stack) -> None:
    """The error-ratio panel falls back to 0 without errors; with the bot's errors the rule itself shows."""
    bot = stack.targets[BOT_JOB]
    for record in (names.REC_API_ERROR_RATIO, names.REC_API_P95, names.REC_ORDER_REJECTION_RATIO):
        wait_until(lambda r=record: stack.prom.query(f'{r}{{instance="{bot}"}}'),
                   timeout=DATA_DEADLINE, what=f"{record} for the demo bot")
