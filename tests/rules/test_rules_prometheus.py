"""The rendered stack config in a real Prometheus (Debian package): it loads, the rules evaluate
against real node_exporter series, a threshold set below the current value fires with its
annotations, a dead target fires TargetDown, and the Watchdog always fires."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.procs import free_port, wait_until
from tests.support.prom import prometheus
from tradewatch import metric_names as m
from tradewatch.config import parse_config
from tradewatch.rules import render_all

pytestmark = pytest.mark.integration


def test_rendered_config_runs_in_prometheus(tmp_path: Path, node_exporter: str) -> None:
    cfg = parse_config({
        "intervals": {"system_metrics": "1s", "evaluation": "1s"},
        "alerting": {"for_override": "0s"},
        "thresholds": {"memory_percent": {"warning": 0.001}},  # below any real value: must fire
        "bridge": {"external_url": "http://dash.example:8080"},
    })
    dead = f"127.0.0.1:{free_port()}"
    port, am = free_port(), f"127.0.0.1:{free_port()}"
    work = tmp_path / "prom"
    render_all(cfg, work, exporter_targets=[node_exporter, dead], bridge_targets=[], trading_bot_targets=[],
               prometheus_target=f"127.0.0.1:{port}", alertmanager_target=am)
    config = yaml.safe_load((work / "prometheus.yml").read_text())
    with prometheus(work, config, port=port) as prom:
        def rules_ok() -> list[dict[str, Any]] | None:
            groups = prom.api("rules")["groups"]
            rules = [r for g in groups for r in g["rules"]]
            return rules if rules and all(r["health"] == "ok" for r in rules) else None

        rules = wait_until(rules_ok, 30, what="every rule evaluated without error")
        assert len({r["name"] for r in rules if r["type"] == "recording"}) == 12

        def firing() -> dict[str, list[dict[str, Any]]] | None:
            out: dict[str, list[dict[str, Any]]] = {}
            for a in prom.api("alerts")["alerts"]:
                if a["state"] == "firing":
                    out.setdefault(a["labels"]["alertname"], []).append(a)
            wanted = {"Watchdog", "TargetDown", "HostMemoryHigh"}
            # both dead targets: their first failed scrapes need not land in the same evaluation
            return out if wanted <= set(out) and len(out["TargetDown"]) >= 2 else None

        alerts = wait_until(firing, 30, what="Watchdog, TargetDown and HostMemoryHigh firing")
        (watchdog,) = alerts["Watchdog"]
        assert watchdog["labels"]["severity"] == "info" and watchdog["labels"]["category"] == "system"
        down = sorted((a["labels"]["job"], a["labels"]["instance"]) for a in alerts["TargetDown"])
        assert down == [("alertmanager", am), ("exporter", dead)]  # nothing runs at either
        (memory,) = alerts["HostMemoryHigh"]
        assert memory["labels"]["instance"] == node_exporter
        assert memory["labels"]["severity"] == "warning"
        desc = memory["annotations"]["description"]
        assert desc.startswith(f"Memory utilisation on {node_exporter} is ")
        assert "%" in desc and "(warning above 0.001%)" in desc
        assert memory["annotations"]["dashboard_url"] == "http://dash.example:8080/"
        # nothing about sources that are not deployed
        assert not {"TradingHeartbeatStale", "ProbeFailing", "DatabaseProbeFailing",
                    "BridgeEmailsFailing"} & set(alerts)

        def recorded(name: str) -> list[dict[str, Any]]:
            return wait_until(lambda: prom.query(name), 20, what=f"{name} has data")  # type: ignore[return-value]

        (mem,) = recorded(m.REC_MEMORY_UTILISATION)
        assert 0 < float(mem["value"][1]) < 1
        assert mem["metric"]["instance"] == node_exporter and mem["metric"]["job"] == "exporter"
        (cpu,) = recorded(m.REC_CPU_UTILISATION)
        assert 0 <= float(cpu["value"][1]) <= 1
        assert float(recorded(m.REC_NUM_CPU)[0]["value"][1]) >= 1
        assert float(recorded(m.REC_LOAD_PER_CORE)[0]["value"][1]) >= 0
        for fs in recorded(m.REC_FILESYSTEM_USAGE):
            assert 0 <= float(fs["value"][1]) <= 1 and fs["metric"]["mountpoint"]
