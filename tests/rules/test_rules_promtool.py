"""The rendered files against the real tools: promtool check/test and amtool check-config."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support.procs import REPO, binary
from tradewatch.config import EXAMPLE_CONFIG, load_config, parse_config
from tradewatch.rules import render_files
from tradewatch.rules.render import write_files

PROM_DIR = REPO / "prometheus"
TUNED = Path(__file__).resolve().parents[1] / "fixtures" / "rules" / "tuned.yaml"


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=120, cwd=cwd)


def check_all(folder: Path) -> None:
    """Every file passes the tools' own checks, and every generated rule test passes."""
    rules = sorted((folder / "rules").glob("*.yml"))
    assert rules
    res = run(binary("promtool"), "check", "rules", *rules)
    assert res.returncode == 0, res.stdout + res.stderr
    res = run(binary("promtool"), "check", "config", folder / "prometheus.yml")
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"SUCCESS: {len(rules)} rule files found" in res.stdout
    res = run(binary("amtool"), "check-config", folder / "alertmanager.yml")
    assert res.returncode == 0, res.stdout + res.stderr
    tests = sorted((folder / "tests").glob("*.test.yml"))
    assert len(tests) == len(rules)
    res = run(binary("promtool"), "test", "rules", *tests)
    assert res.returncode == 0, res.stdout + res.stderr


def test_committed_files_pass_promtool_and_amtool() -> None:
    check_all(PROM_DIR)


def test_every_alerting_rule_has_firing_and_silent_cases() -> None:
    """The committed tests name, for every level of every alert, a firing and a silent case."""
    import yaml

    cases = []
    for path in (PROM_DIR / "tests").glob("*.test.yml"):
        cases += yaml.safe_load(path.read_text())["tests"]
    for path in (PROM_DIR / "rules").glob("*.yml"):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                if "record" in rule:
                    assert any(c["name"] == f"record {rule['record']}" for c in cases), rule["record"]
                    continue
                name, severity = rule["alert"], rule["labels"]["severity"]
                mine = [c for c in cases if c.get("alert_rule_test", [{}])[0].get("alertname") == name]
                fires = [c for c in mine if any(
                    a["exp_labels"]["severity"] == severity for a in c["alert_rule_test"][0]["exp_alerts"])]
                silent = [c for c in mine if not any(
                    a["exp_labels"]["severity"] == severity for a in c["alert_rule_test"][0]["exp_alerts"])]
                assert fires, f"no case fires {name} at {severity}"
                if name != "Watchdog":
                    assert silent, f"no case keeps {name} at {severity} silent"


def test_tuned_thresholds_render_valid_files_whose_tests_pass(tmp_path: Path) -> None:
    write_files(tmp_path, render_files(load_config(TUNED)))
    check_all(tmp_path)


def test_for_override_zero_renders_valid_files_whose_tests_pass(tmp_path: Path) -> None:
    write_files(tmp_path, render_files(parse_config({"alerting": {"for_override": "0s"}})))
    check_all(tmp_path)


def test_generated_tests_catch_a_threshold_that_moved(tmp_path: Path) -> None:
    """Rules from the tuned config checked against the example's tests must fail: the cases
    really pin the thresholds, they are not satisfied by any rule."""
    example = render_files(load_config(EXAMPLE_CONFIG))
    tuned = render_files(load_config(TUNED))
    write_files(tmp_path, {k: v for k, v in example.items() if k.startswith("tests/")})
    write_files(tmp_path, {"rules/system.yml": tuned["rules/system.yml"]})
    res = run(binary("promtool"), "test", "rules", tmp_path / "tests" / "system.test.yml")
    assert res.returncode != 0
    assert "FAILED" in res.stdout + res.stderr
    assert "HostCpuHigh" in res.stdout + res.stderr


@pytest.mark.parametrize(("threshold", "alertname"), [("cpu_percent", "HostCpuHigh"),
                                                      ("disk_percent", "HostFilesystemFull")])
def test_a_rule_a_little_off_fails_its_tests(tmp_path: Path, threshold: str, alertname: str) -> None:
    """Move the top level up in the rules only: exactly the just-past case of that level fails,
    because the alert stays one severity short (not because promtool could not run the file)."""
    cfg = load_config(EXAMPLE_CONFIG)
    levels = getattr(cfg.thresholds, threshold)
    top_severity, top = levels.items()[-1]
    nudged = cfg.model_copy(update={"thresholds": cfg.thresholds.model_copy(
        update={threshold: levels.model_copy(update={top_severity: top + 3})})})
    write_files(tmp_path, {k: v for k, v in render_files(cfg).items() if k.startswith("tests/")})
    write_files(tmp_path, {"rules/system.yml": render_files(nudged)["rules/system.yml"]})
    res = run(binary("promtool"), "test", "rules", tmp_path / "tests" / "system.test.yml")
    out = res.stdout + res.stderr  # promtool reports failed cases on stderr
    assert res.returncode == 1, out
    failures = out.split("FAILED:")[1:]
    assert len(failures) == 1, out
    [failure] = failures
    name = failure.split("name: ", 1)[1].splitlines()[0]
    assert name.startswith(f"{alertname}: ") and f"is past the {top_severity} level {top:g}%" in name, name
    expected, got = failure.split("exp:[", 1)[1].split("got:[", 1)
    assert f'severity="{top_severity}"' in expected
    assert f'alertname="{alertname}"' in got and f'severity="{top_severity}"' not in got


def test_host_alerts_carry_the_nodename_and_fire_without_it(tmp_path: Path) -> None:
    """A host alert joins node_uname_info's nodename; a target without node_uname_info (an old
    exporter) still alerts, with the address only. Each case: exactly one alert, never two. The
    annotations name the host by its nodename with the address as detail (issue 14.12), checked by
    promtool's own Go template engine, not by our re-implementation."""
    host = 'instance="h:9184",job="exporter"'
    memory = [
        {"series": f"node_memory_MemTotal_bytes{{{host}}}", "values": "100x15"},
        {"series": f"node_memory_MemAvailable_bytes{{{host}}}", "values": "3x15"},
    ]
    uname = {"series": f'node_uname_info{{{host},nodename="trader-1",sysname="Linux"}}', "values": "1x15"}
    base = {"instance": "h:9184", "job": "exporter", "severity": "critical", "category": "system"}

    def notes(severity: str, above: str, host: str) -> dict[str, str]:
        return {"dashboard_url": "http://localhost:8080/", "summary": f"Memory nearly exhausted on {host}",
                "description": f"Memory utilisation on {host} is 97% ({severity} above {above}). "
                               "Dashboard: http://localhost:8080/"}

    def case(series: list[dict[str, str]], labels: dict[str, str], host: str) -> dict[str, object]:
        return {"interval": "1m", "input_series": series, "alert_rule_test": [{
            "eval_time": "15m", "alertname": "HostMemoryHigh",
            "exp_alerts": [{"exp_labels": {**labels, "severity": sev},
                            "exp_annotations": notes(sev, above, host)}
                           for sev, above in (("critical", "95%"), ("warning", "85%"))],
        }]}

    test = {"rule_files": [str(PROM_DIR / "rules" / "system.yml")], "evaluation_interval": "1m",
            "tests": [case([*memory, uname], {**base, "nodename": "trader-1"}, "trader-1 (h:9184)"),
                      case(memory, base, "h:9184")]}
    path = tmp_path / "nodename.test.yml"
    path.write_text(yaml.safe_dump(test))
    res = run(binary("promtool"), "test", "rules", path)
    assert res.returncode == 0, res.stdout + res.stderr
