"""The report's disk-fill forecast in Prometheus's own engine (`promtool test rules`, no wall clock):
a filesystem filling at 1 byte/s is forecast once its series is an hour old, never before, and
a static one never (issue 14: "full in 1.7 days" from a few minutes of data)."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from alert_bridge.reports.health_inputs import FORECAST_RANGE, fill_forecast_expr

pytestmark = pytest.mark.integration

LABELS = '{{instance="h:9100",job="node",device="{d}",fstype="ext4",mountpoint="{m}"}}'
SERIES = "node_filesystem_avail_bytes" + LABELS


def _sample(mount: str, days: float) -> dict[str, object]:
    return {"labels": LABELS.format(d="/dev" + mount, m=mount), "value": days}


def test_forecast_only_with_an_hour_of_history(tmp_path):
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool missing: install Debian's prometheus (tests/run.sh does)")
    expr = fill_forecast_expr(FORECAST_RANGE)
    # 864000 bytes free, 60 bytes fewer a minute (1 byte/s): at minute t, (864000 - 60 t) / 86400 days
    test = {
        "rule_files": [],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": [
                {"series": SERIES.format(d="/dev/old", m="/old"), "values": "864000-60x200"},
                {"series": SERIES.format(d="/dev/young", m="/young"), "values": "_x30 864000-60x170"},
                {"series": SERIES.format(d="/dev/static", m="/static"), "values": "500000+0x200"},
            ],
            "promql_expr_test": [
                # 50 min in: nothing is an hour old yet
                {"expr": expr, "eval_time": "50m", "exp_samples": []},
                # 85 min in: /old (since 0) is forecast; /young (55 min old) is not
                {"expr": expr, "eval_time": "85m",
                 "exp_samples": [_sample("/old", (864000 - 60 * 85) / 86400)]},
                # 100 min in: /young has its hour, at its own trend (started 30 min later)
                {"expr": expr, "eval_time": "100m",
                 "exp_samples": [_sample("/old", (864000 - 60 * 100) / 86400),
                                 _sample("/young", (864000 - 60 * 70) / 86400)]},
            ],
        }],
    }
    path = tmp_path / "forecast.test.yml"
    path.write_text(yaml.safe_dump(test, sort_keys=False))
    run = subprocess.run([promtool, "test", "rules", str(path)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
