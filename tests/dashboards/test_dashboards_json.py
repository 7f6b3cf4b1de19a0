"""The committed Grafana dashboards: current with their generator, and importable as they are."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from dashboards import build
from dashboards.grafana import DATASOURCE_VAR, GRID_WIDTH
from tradewatch.config import parse_config

GRAFANA_BUILTIN_VARS = {"__rate_interval", "__interval", "__interval_ms", "__range", "__range_s",
                        "__range_ms", "__from", "__to", "__dashboard", "__org", "__user"}
VAR_REF = re.compile(r"\$(?:\{(\w+)(?::\w+)?\}|(\w+))")
PROVISIONING = build.REPO / "deploy" / "grafana" / "provisioning"


def committed() -> dict[str, dict[str, Any]]:
    return {p.name: json.loads(p.read_text()) for p in sorted(build.DASHBOARD_DIR.glob("*.json"))}


DASHBOARDS = committed()


def panels(dash: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, rows and panels nested in collapsed rows included."""
    for panel in dash["panels"]:
        yield panel
        yield from panel.get("panels", [])


def walk(node: Any, key: str) -> Iterator[Any]:
    """Every value stored under `key` anywhere in the JSON tree."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key:
                yield v
            yield from walk(v, key)
    elif isinstance(node, list):
        for v in node:
            yield from walk(v, key)


def test_every_generated_file_is_committed_and_current() -> None:
    files = build.rendered(build.example_config())
    for path, text in files.items():
        assert path.exists(), f"{path} is missing: run `python dashboards/build.py`"
        assert path.read_text(encoding="utf-8") == text, f"{path} is stale: run `python dashboards/build.py`"
    generated = {p.name for p in files if p.parent == build.DASHBOARD_DIR}
    assert set(DASHBOARDS) == generated, "a JSON file in dashboards/ does not come from the generator"


def test_the_old_entry_point_is_an_alias_of_generate(capsys: pytest.CaptureFixture[str]) -> None:
    # a stale file named, and the fix, are tested once for every generator in
    # tests/tradewatch/test_generate.py
    assert build.main(["--check"]) == 0
    assert "every generated file is current (dashboards)" in capsys.readouterr().out


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_dashboard_is_importable(name: str) -> None:
    dash = DASHBOARDS[name]
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,40}", dash["uid"])
    assert dash["title"].startswith("TradeWatch / ")
    assert "tradewatch" in dash["tags"]
    assert dash["schemaVersion"] == 39
    assert dash["id"] is None, "an id would make import clash with an existing dashboard"
    ids = [p["id"] for p in panels(dash)]
    assert all(isinstance(i, int) and i > 0 for i in ids)
    assert len(ids) == len(set(ids)), "duplicate panel ids"
    titles = [p["title"] for p in panels(dash)]
    assert len(titles) == len(set(titles)), "duplicate panel titles"


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_panels_fit_the_grid_without_overlap(name: str) -> None:
    taken: set[tuple[int, int]] = set()
    for panel in panels(DASHBOARDS[name]):
        pos = panel["gridPos"]
        assert pos["w"] > 0 and pos["h"] > 0 and pos["x"] >= 0 and pos["x"] + pos["w"] <= GRID_WIDTH
        cells = {(x, y) for x in range(pos["x"], pos["x"] + pos["w"])
                 for y in range(pos["y"], pos["y"] + pos["h"])}
        assert not cells & taken, f"panel {panel['title']!r} overlaps another"
        taken |= cells


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_panels_have_title_unit_thresholds_and_queries(name: str) -> None:
    for panel in panels(DASHBOARDS[name]):
        assert panel["title"]
        if panel["type"] == "row":
            continue
        defaults = panel["fieldConfig"]["defaults"]
        assert defaults["unit"], f"{panel['title']}: no unit"
        threshold_steps = defaults["thresholds"]["steps"]
        assert threshold_steps[0]["value"] is None
        values = [s["value"] for s in threshold_steps[1:]]
        assert values == sorted(values) and len(values) == len(set(values)), panel["title"]
        refs = [t["refId"] for t in panel["targets"]]
        assert refs and len(refs) == len(set(refs))
        for t in panel["targets"]:
            assert t["expr"].strip() and t["range"] != t["instant"]


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_datasource_references_resolve(name: str) -> None:
    dash = DASHBOARDS[name]
    variables = {v["name"]: v for v in dash["templating"]["list"]}
    ds_var = variables[DATASOURCE_VAR]
    assert ds_var["type"] == "datasource" and ds_var["query"] == "prometheus"
    builtin = {"type": "grafana", "uid": "-- Grafana --"}
    for ref in walk(dash, "datasource"):
        if ref == builtin:  # the built-in annotations (Grafana's own, not a datasource)
            continue
        assert ref.get("type") == "prometheus", ref
        assert ref["uid"] in ("${%s}" % DATASOURCE_VAR, build.PROVISIONED_DATASOURCE_UID), ref  # noqa: UP031
    for panel in panels(dash):
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${datasource}"


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_template_variables_are_well_formed_and_every_reference_is_defined(name: str) -> None:
    dash = DASHBOARDS[name]
    variables = dash["templating"]["list"]
    names = [v["name"] for v in variables]
    assert len(names) == len(set(names)) and names[0] == DATASOURCE_VAR
    for var in variables[1:]:
        assert var["type"] == "query" and var["refresh"] in (1, 2)
        assert var["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert var["definition"] == var["query"]["query"]
        assert re.fullmatch(r"label_values\((.+), *(\w+)\)", var["definition"]), var["definition"]
        assert not var["includeAll"] or var["allValue"] == ".*"
        # a variable may only use variables defined before it
        for ref in _refs(var["definition"]):
            assert ref in names[: names.index(var["name"])], f"{var['name']} uses ${ref} before it exists"
    for expr in walk([dash["panels"], dash["annotations"]], "expr"):
        for ref in _refs(expr):
            assert ref in names or ref in GRAFANA_BUILTIN_VARS, f"undefined ${ref} in {expr}"


def _refs(text: str) -> set[str]:
    return {a or b for a, b in VAR_REF.findall(text)}


def test_uids_and_titles_are_unique_across_files() -> None:
    uids = [d["uid"] for d in DASHBOARDS.values()]
    titles = [d["title"] for d in DASHBOARDS.values()]
    assert len(uids) == len(set(uids)) and len(titles) == len(set(titles))
    assert len(DASHBOARDS) >= 3


def _panel(dash: dict[str, Any], title: str) -> dict[str, Any]:
    found = [p for p in panels(dash) if p["title"] == title]
    assert len(found) == 1, f"{title!r}: {len(found)} panels"
    return found[0]


def _levels(panel: dict[str, Any]) -> list[tuple[float, str]]:
    return [(s["value"], s["color"]) for s in panel["fieldConfig"]["defaults"]["thresholds"]["steps"][1:]]


def test_thresholds_follow_the_example_config() -> None:
    host, trading = DASHBOARDS["host-overview.json"], DASHBOARDS["trading.json"]
    alerts = DASHBOARDS["alerts-health.json"]
    assert _levels(_panel(host, "CPU utilisation")) == [(0.8, "orange"), (0.95, "red")]
    assert _levels(_panel(host, "Memory utilisation")) == [(0.85, "orange"), (0.95, "red")]
    assert _levels(_panel(host, "Filesystem usage per mount")) == [(0.9, "red"), (0.97, "dark-red")]
    assert _levels(_panel(host, "Hours until full (linear trend)")) == [(4, "orange"), (24, "green")]
    assert _levels(_panel(trading, "Exchange API latency p95")) == [(1, "orange"), (3, "red")]
    assert _levels(_panel(trading, "Exchange API error ratio")) == [(0.05, "red")]
    assert _levels(_panel(trading, "Heartbeat age over time")) == [(120, "red")]
    assert _levels(_panel(trading, "P&L over the time range")) == [(-1000, "yellow"), (0, "green")]
    assert _levels(_panel(alerts, "Outbox depth")) == [(50, "orange")]
    assert _levels(_panel(alerts, "Watchdog last seen")) == [(300, "red")]


def test_thresholds_are_rendered_from_the_config_not_hard_coded() -> None:
    cfg = parse_config({"thresholds": {"cpu_percent": {"warning": 70, "critical": 90},
                                       "drawdown": {"warning": 200, "critical": 500}},
                        "bridge": {"watchdog_timeout": "10m"}, "dashboard": {"refresh_seconds": 15}})
    out = build.dashboards(cfg)
    host, trading = out["host-overview.json"], out["trading.json"]
    assert _levels(_panel(host, "CPU utilisation")) == [(0.7, "orange"), (0.9, "red")]
    assert _levels(_panel(trading, "P&L over the time range")) == [
        (-500, "orange"), (-200, "yellow"), (0, "green")]
    assert _levels(_panel(out["alerts-health.json"], "Watchdog last seen")) == [(600, "red")]
    assert host["refresh"] == "15s"


def test_provisioning_points_at_the_dashboards_and_the_datasource() -> None:
    providers = yaml.safe_load((PROVISIONING / "dashboards" / "tradewatch.yml").read_text())
    assert providers["apiVersion"] == 1
    (provider,) = providers["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"] == build.CONTAINER_DASHBOARD_PATH
    sources = yaml.safe_load(build.DATASOURCE_FILE.read_text())
    (source,) = sources["datasources"]
    assert source["type"] == "prometheus" and source["uid"] == build.PROVISIONED_DATASOURCE_UID
    assert source["isDefault"] is True
    # $__rate_interval needs Grafana to know the scrape interval
    assert source["jsonData"]["timeInterval"] == "1m"
