"""How much of node_exporter's ecosystem works against our exporter, measured for real.

Debian's node_exporter 1.5 and `tradewatch-exporter` run side by side on 127.0.0.1, both on
their default collectors, scraped by one real Prometheus under `job="node"` with the vendored
node-mixin rules loaded (tests/fixtures/node_compat/, see SOURCE.md there). Every visible query
of the vendored "Node Exporter Full" dashboard is run for each exporter as Grafana would run it,
and every input series of every mixin rule is looked up per exporter. The result is a `Compat`
that renders the compatibility table of docs/exporter.md and lists the gaps.

Debian's binary is started with flags that restore upstream node_exporter 1.5's defaults
(`NODE_UPSTREAM_DEFAULTS`): Debian's package compiles in other defaults (it excludes `lo` and the
`/run`, `/mnt`, `/media` mounts, reads textfiles from /var/lib/prometheus/node-exporter and enables
the systemd collector), and /etc/default/prometheus-node-exporter's ARGS are only read by the
service unit, never when the binary is started directly as here.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.support.grafana import substitute
from tests.support.procs import Proc, binary, free_port
from tests.support.prom import Prometheus, prometheus

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "node_compat"
DASHBOARD = FIXTURES / "node-exporter-full.json"
MIXIN_FILES = (FIXTURES / "rules.yaml", FIXTURES / "alerts.yaml")

OURS, NODE = "tradewatch", "node_exporter"
SCRAPE_S = 1
# Grafana: $__interval is at least the data source's scrape interval (a short time range gives
# exactly that); $__rate_interval = max($__interval + scrape interval, 4 * scrape interval).
GRAFANA_VARS = {"__interval": f"{SCRAPE_S}s", "__rate_interval": f"{max(SCRAPE_S + SCRAPE_S, 4 * SCRAPE_S)}s"}

# Upstream node_exporter 1.5's defaults where Debian's build differs (see the module docstring).
NODE_UPSTREAM_DEFAULTS = [
    "--collector.netdev.device-exclude=",
    "--collector.filesystem.mount-points-exclude="
    "^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)",
    "--collector.textfile.directory=",
    "--no-collector.systemd",
]

# Families a query or rule may lack on our side without failing the check, because they describe
# hardware or services this class of machine (a small VM) does not have, so node_exporter's data
# for them would only be an accident of the host. Keep this short; every entry says why.
ABSENT_HERE = {
    "node_hwmon_": "hardware sensors (no /sys/class/hwmon in a VM)",
    "node_thermal_zone_": "thermal zones (hardware)",
    "node_cooling_device_": "cooling devices (hardware)",
    "node_power_supply_": "batteries and power supplies (hardware)",
    "node_md_": "software RAID (no /proc/mdstat here)",
    "node_bonding_": "bonded network interfaces",
    "node_infiniband_": "InfiniBand adapters",
    "node_fibrechannel_": "Fibre Channel adapters",
    "node_edac_": "ECC memory controllers (hardware)",
    "node_rapl_": "Intel RAPL power counters (hardware)",
    "node_nvme_": "NVMe controllers",
    "node_tape_": "tape drives",
    "node_systemd_": "systemd (not a default collector upstream; no systemd in the test container)",
}

_IDENT = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
_KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
             "offset", "bool", "inf", "nan", "atan2",
             # aggregation operators, which may come before their `by (...)` clause
             "sum", "avg", "count", "min", "max", "stddev", "stdvar", "topk", "bottomk", "quantile",
             "count_values", "group"}
_GROUPING = {"by", "without", "on", "ignoring", "group_left", "group_right"}

# Families of node_exporter that a replacement must not serve: they describe node_exporter itself.
NOT_OURS = {
    "node_exporter_build_info": "node_exporter's own version; ours is tradewatch_exporter_build_info",
}


def absent_here(metric: str) -> str | None:
    """The reason `metric` may be missing here (hardware this machine class lacks), else None."""
    return next((why for prefix, why in ABSENT_HERE.items() if metric.startswith(prefix)), None)


def selectors(expr: str) -> list[str]:
    """The vector selectors of a PromQL expression (`name{matchers}`), in order, without ranges.

    A small scanner rather than a parser: it skips strings, durations, numbers, function and
    aggregation names (an identifier followed by `(`), keywords and grouping label lists.
    """
    out: list[str] = []
    i, n = 0, len(expr)
    while i < n:
        c = expr[i]
        if c in "\"'`":
            j = i + 1
            while j < n and expr[j] != c:
                j += 2 if expr[j] == "\\" else 1
            i = j + 1
        elif c == "[":
            i = expr.index("]", i) + 1
        elif c == "#":
            nl = expr.find("\n", i)
            i = n if nl < 0 else nl
        elif c.isdigit() or (c == "." and i + 1 < n and expr[i + 1].isdigit()):
            m = re.compile(r"[0-9.eExXa-fA-F]+[smhdwy]?").match(expr, i)
            i = m.end() if m else i + 1
        elif m := _IDENT.match(expr, i):
            name, j = m.group(), m.end()
            k = j
            while k < n and expr[k] in " \t\n":
                k += 1
            if name in _GROUPING and k < n and expr[k] == "(":
                i = expr.index(")", k) + 1
            elif name.lower() in _KEYWORDS or (k < n and expr[k] == "("):
                i = j
            elif k < n and expr[k] == "{":
                end = _matchers_end(expr, k)
                out.append(name + expr[k:end])
                i = end
            else:
                out.append(name)
                i = j
        elif c == "{":
            end = _matchers_end(expr, i)
            out.append(expr[i:end])
            i = end
        else:
            i += 1
    return out


def _matchers_end(expr: str, start: int) -> int:
    i = start + 1
    while expr[i] != "}":
        if expr[i] in "\"'`":
            q, i = expr[i], i + 1
            while expr[i] != q:
                i += 2 if expr[i] == "\\" else 1
        i += 1
    return i + 1


def metric_name(selector: str) -> str:
    m = _IDENT.match(selector)
    if m:
        return m.group()
    m = re.search(r"__name__\s*=\s*\"([^\"]+)\"", selector)
    return m.group(1) if m else selector


@dataclass(frozen=True)
class Query:
    row: str
    panel: str
    panel_id: int
    expr: str


def dashboard_queries(path: Path = DASHBOARD) -> list[Query]:
    """Every query Grafana runs for the dashboard: visible Prometheus targets of every panel."""
    board = json.loads(path.read_text())
    out: list[Query] = []
    row = ""

    def visit(panel: dict[str, Any], row: str) -> None:
        for target in panel.get("targets", []):
            if target.get("expr") and not target.get("hide"):
                out.append(Query(row, panel.get("title", ""), panel["id"], target["expr"]))

    for panel in board["panels"]:
        if panel["type"] == "row":
            row = panel.get("title", "")
            for inner in panel.get("panels", []):
                visit(inner, row)
        else:
            visit(panel, row)
    return out


def grafana_expr(expr: str, job: str, instance: str, range_s: int = 60) -> str:
    """The query Grafana sends: dashboard variables ($job, $node, $instance) and the interval and
    range macros replaced (`range_s`: the dashboard's time range)."""
    values = {"job": job, "node": instance, "instance": instance, **GRAFANA_VARS,
              "__interval_ms": str(SCRAPE_S * 1000), "__range": f"{range_s}s", "__range_s": str(range_s),
              "__range_ms": str(range_s * 1000)}
    return substitute(expr, values)


@dataclass(frozen=True)
class Rule:
    kind: str  # "alert" or "record"
    name: str
    expr: str


def mixin_rules(paths: tuple[Path, ...] = MIXIN_FILES) -> list[Rule]:
    out = []
    for path in paths:
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                kind = "alert" if "alert" in rule else "record"
                out.append(Rule(kind, rule[kind], rule["expr"]))
    return out


@dataclass
class Compat:
    """What each exporter supplies to the dashboard and the mixin (one measurement)."""

    families: dict[str, set[str]]
    # query -> {exporter: has data}
    queries: dict[Query, dict[str, bool]]
    # query -> selectors with data for node_exporter and none for ours
    query_missing: dict[Query, list[str]]
    # rule -> {exporter: every input series has data}
    rules: dict[Rule, dict[str, bool]]
    rule_missing: dict[Rule, list[str]]
    # recording rule -> {exporter: the recorded series has data}
    records: dict[Rule, dict[str, bool]] = field(default_factory=dict)

    # -- families -------------------------------------------------------------------------
    def node_families(self) -> set[str]:
        """node_exporter's families without the Go runtime's and promhttp's (no Go here)."""
        return {f for f in self.families[NODE] if not f.startswith(("go_", "promhttp_"))}

    def missing_families(self) -> list[str]:
        return sorted(self.node_families() - self.families[OURS])

    # -- dashboard ------------------------------------------------------------------------
    def node_queries(self) -> list[Query]:
        return [q for q, has in self.queries.items() if has[NODE]]

    def query_gaps(self) -> list[Query]:
        """Queries with data for node_exporter and none for ours."""
        return [q for q in self.node_queries() if not self.queries[q][OURS]]

    def allowed(self, missing: list[str]) -> bool:
        return bool(missing) and all(absent_here(metric_name(s)) for s in missing)

    def unexplained_query_gaps(self) -> list[Query]:
        return [q for q in self.query_gaps() if not self.allowed(self.query_missing.get(q, []))]

    def panels(self) -> dict[int, dict[str, bool]]:
        out: dict[int, dict[str, bool]] = {}
        for q, has in self.queries.items():
            p = out.setdefault(q.panel_id, {OURS: False, NODE: False})
            p[OURS] |= has[OURS]
            p[NODE] |= has[NODE]
        return out

    # -- mixin ----------------------------------------------------------------------------
    def alerts(self) -> list[Rule]:
        return [r for r in self.rules if r.kind == "alert"]

    def recording(self) -> list[Rule]:
        return [r for r in self.rules if r.kind == "record"]

    def rule_gaps(self) -> list[Rule]:
        return [r for r in self.rules if self.rule_missing.get(r)]

    def unexplained_rule_gaps(self) -> list[Rule]:
        return [r for r in self.rule_gaps() if not self.allowed(self.rule_missing[r])]

    # -- the table ------------------------------------------------------------------------
    def rows(self) -> list[tuple[str, int, int, int]]:
        """(quantity, ours, node_exporter, gaps that ABSENT_HERE and NOT_OURS do not explain)."""
        fams = self.node_families()
        missing_fams = [f for f in self.missing_families() if not absent_here(f) and f not in NOT_OURS]
        panels = self.panels()
        alerts, records = self.alerts(), self.recording()

        def count(items: list[Any], table: dict[Any, dict[str, bool]], who: str) -> int:
            return sum(1 for i in items if table[i][who])

        return [
            (f"node_exporter's metric families served (of {len(fams)}, without `go_*`, `promhttp_*`)",
             len(fams & self.families[OURS]), len(fams), len(missing_fams)),
            (f"dashboard queries with data (of {len(self.queries)} visible queries)",
             count(list(self.queries), self.queries, OURS), len(self.node_queries()),
             len(self.unexplained_query_gaps())),
            (f"dashboard panels with data (of {len(panels)})",
             sum(p[OURS] for p in panels.values()), sum(p[NODE] for p in panels.values()),
             sum(1 for p in panels.values() if p[NODE] and not p[OURS])),
            (f"mixin alerts that can fire (of {len(alerts)}; every input series present)",
             count(alerts, self.rules, OURS), count(alerts, self.rules, NODE),
             sum(1 for r in self.unexplained_rule_gaps() if r.kind == "alert")),
            (f"mixin recording rules with output (of {len(records)})",
             count(records, self.records, OURS), count(records, self.records, NODE),
             sum(1 for r in records if self.records[r][NODE] and not self.records[r][OURS])),
        ]

    def table(self) -> str:
        lines = ["| quantity | tradewatch-exporter | node_exporter 1.5 | missing on ours (unexplained) |",
                 "|---|---:|---:|---:|"]
        lines += [f"| {label} | {a} | {b} | {gap} |" for label, a, b, gap in self.rows()]
        return "\n".join(lines)

    def gap_report(self) -> str:
        """Every gap, with the selectors that have no data on our side."""
        out = []
        for q in self.query_gaps():
            missing = self.query_missing.get(q, [])
            why = "; ".join(sorted({absent_here(metric_name(s)) or "" for s in missing}))
            tag = f" [allowed: {why}]" if self.allowed(missing) else ""
            out.append(f"query  {q.row} / {q.panel}: {q.expr.strip()}{tag}\n"
                       f"       missing: {', '.join(missing) or '(none: series exist, result empty)'}")
        for r in self.rule_gaps():
            tag = " [allowed]" if self.allowed(self.rule_missing[r]) else ""
            out.append(f"{r.kind:6} {r.name}: missing {', '.join(self.rule_missing[r])}{tag}")
        for f in self.missing_families():
            why = absent_here(f) or NOT_OURS.get(f)
            out.append(f"family {f}" + (f" [allowed: {why}]" if why else ""))
        return "\n".join(out)


def fetch_families(port: int) -> set[str]:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/metrics",
                                 headers={"Accept": "text/plain;version=0.0.4"})
    with urllib.request.urlopen(req, timeout=15) as resp:
        text = resp.read().decode()
    return {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}


def _range(prom: Prometheus, expr: str, start: float, end: float) -> list[dict[str, Any]]:
    return prom.api("query_range", query=expr, start=f"{start:.3f}", end=f"{end:.3f}",
                    step=f"{SCRAPE_S}s")["result"]


def _present(prom: Prometheus, selector: str, window_s: int) -> set[str]:
    """Instances that have a series matching `selector` within the last window."""
    res = prom.query(f"count by (instance) (last_over_time({selector}[{window_s}s]))")
    return {r["metric"].get("instance", "") for r in res}


def measure(prom: Prometheus, ports: dict[str, int], start: float) -> Compat:
    """Run every dashboard query and look up every rule input for both exporters."""
    end = time.time()
    window = int(end - start) + 5
    families = {who: fetch_families(port) for who, port in ports.items()}
    present_cache: dict[str, set[str]] = {}

    def present(selector: str) -> set[str]:
        if selector not in present_cache:
            present_cache[selector] = _present(prom, selector, window)
        return present_cache[selector]

    queries: dict[Query, dict[str, bool]] = {}
    query_missing: dict[Query, list[str]] = {}
    for q in dashboard_queries():
        has = {who: bool(_range(prom, grafana_expr(q.expr, "node", who, window), start, end))
               for who in (OURS, NODE)}
        queries[q] = has
        if has[NODE] and not has[OURS]:
            sels = selectors(grafana_expr(q.expr, "node", OURS, window))
            node_sels = {s: s.replace(f'"{OURS}"', f'"{NODE}"') for s in sels}
            query_missing[q] = [s for s in dict.fromkeys(sels)
                                if not present(s) and present(node_sels[s])]
    rules: dict[Rule, dict[str, bool]] = {}
    rule_missing: dict[Rule, list[str]] = {}
    records: dict[Rule, dict[str, bool]] = {}
    for r in mixin_rules():
        sels = list(dict.fromkeys(selectors(r.expr)))
        seen = {s: present(s) for s in sels}
        rules[r] = {who: all(who in seen[s] for s in sels) for who in (OURS, NODE)}
        missing = [s for s in sels if NODE in seen[s] and OURS not in seen[s]]
        if missing:
            rule_missing[r] = missing
        if r.kind == "record":
            out = present(r.name)
            records[r] = {who: who in out for who in (OURS, NODE)}
    return Compat(families, queries, query_missing, rules, rule_missing, records)


def prometheus_config(ports: dict[str, int], rule_files: list[str]) -> dict[str, Any]:
    return {
        "global": {"scrape_interval": f"{SCRAPE_S}s", "scrape_timeout": f"{SCRAPE_S}s",
                   "evaluation_interval": f"{SCRAPE_S}s"},
        "rule_files": rule_files,
        "scrape_configs": [{
            "job_name": "node",
            "static_configs": [{"targets": [f"127.0.0.1:{port}"], "labels": {"instance": who}}
                               for who, port in ports.items()],
        }],
    }


@contextlib.contextmanager
def exporters(workdir: Path) -> Iterator[dict[str, int]]:
    """Both exporters on their default collectors on free 127.0.0.1 ports; {name: port}."""
    workdir.mkdir(parents=True, exist_ok=True)
    ports = {OURS: free_port(), NODE: free_port()}
    env = {k: v for k, v in os.environ.items() if k != "TRADEWATCH_CONFIG"}
    procs: list[Proc] = []
    try:
        procs.append(Proc([binary("tradewatch-exporter"), "--listen", f"127.0.0.1:{ports[OURS]}"],
                          workdir / "tradewatch.log", env=env, cwd=workdir))
        procs.append(Proc([binary("prometheus-node-exporter"),
                           f"--web.listen-address=127.0.0.1:{ports[NODE]}", *NODE_UPSTREAM_DEFAULTS],
                          workdir / "node_exporter.log", cwd=workdir))
        for proc, port in zip(procs, ports.values(), strict=True):
            proc.wait_http(f"http://127.0.0.1:{port}/metrics")
        yield ports
    finally:
        for proc in procs:
            proc.stop()


def wait_for_scrapes(prom: Prometheus, scrapes: int, timeout: float = 90.0) -> float:
    """Wait until Prometheus has `scrapes` successful scrapes of each exporter and the rules ran;
    returns the time of the first successful scrape of both."""
    deadline = time.monotonic() + timeout
    first: float | None = None
    while time.monotonic() < deadline:
        res = prom.query(f'sum_over_time(up{{job="node"}}[{scrapes * SCRAPE_S + 30}s])')  # successful
        ups = prom.query('up{job="node"} == 1')
        if len(ups) == 2 and first is None:
            first = time.time()
        if first is not None and len(res) == 2 and all(float(r["value"][1]) >= scrapes for r in res):
            return first - SCRAPE_S
        time.sleep(0.5)
    raise TimeoutError(f"Prometheus did not scrape both exporters {scrapes} times within {timeout}s")


def run(workdir: Path, scrapes: int = 12) -> Compat:
    """The whole measurement: start both exporters and Prometheus, wait, measure, stop all."""
    with exporters(workdir) as ports:
        config = prometheus_config(ports, [str(p) for p in MIXIN_FILES])
        with prometheus(workdir / "prometheus", config) as prom:
            start = wait_for_scrapes(prom, scrapes)
            return measure(prom, ports, start)


DOC_PAGES = (REPO / "docs" / "exporter.md", REPO / "docs" / "index.md")
_MARKED = re.compile(r"(<!-- node-compat:begin -->\n)(.*?)(<!-- node-compat:end -->)", re.S)


def with_docs_table(text: str, table: str) -> str:
    """`text` with the table between its node-compat markers replaced by `table`."""
    if not _MARKED.search(text):
        raise ValueError("no <!-- node-compat:begin --> ... <!-- node-compat:end --> markers")
    return _MARKED.sub(lambda m: m.group(1) + table + "\n" + m.group(3), text, count=1)


def docs_table(text: str) -> list[tuple[str, str, str, str]]:
    """The rows of the compatibility table between the node-compat markers in a docs page."""
    m = _MARKED.search(text)
    if not m:
        return []
    rows = []
    for line in m.group(2).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and not set(cells[1]) <= set("-:") and cells[0] != "quantity":
            rows.append((cells[0], cells[1], cells[2], cells[3]))
    return rows
