from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tradewatch.config import (
    EXAMPLE_CONFIG,
    ConfigError,
    default_config_path,
    interpolate,
    load_config,
    parse_config,
)
from tradewatch.duration import format_duration, parse_duration


def test_example_config_loads_with_contract_defaults() -> None:
    cfg = load_config(EXAMPLE_CONFIG, env={})
    assert cfg.thresholds.cpu_percent.warning == 80
    assert cfg.thresholds.memory_percent.warning == 85
    assert cfg.thresholds.disk_percent.critical == 90
    assert cfg.thresholds.api_response_time_ms.warning == 1000
    assert cfg.thresholds.error_rate_percent.critical == 5
    assert cfg.intervals.system_metrics == 60
    assert cfg.email.smtp_server == ""  # file sink by default
    assert cfg.bridge.database.is_absolute()


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ("${A}", {"A": "x"}, "x"),
        ("${A}", {}, ""),
        ("${A:-d}", {}, "d"),
        ("${A:-d}", {"A": ""}, "d"),
        ("${A:-d}", {"A": "v"}, "v"),
        ("pre-${A}-post", {"A": "m"}, "pre-m-post"),
        ("$$HOME", {}, "$HOME"),
    ],
)
def test_interpolation(text: str, env: dict[str, str], expected: str) -> None:
    assert interpolate(text, env) == expected


def test_env_fills_email_like_the_original_product() -> None:
    env = {"SMTP_USERNAME": "u", "SMTP_PASSWORD": "p", "FROM_EMAIL": "f@x.org", "ALERT_EMAIL": "a@x.org"}
    cfg = parse_config({}, env=env)
    assert (cfg.email.username, cfg.email.password, cfg.email.from_email) == ("u", "p", "f@x.org")
    assert cfg.email.to == ["a@x.org"]


def test_errors_name_file_key_and_problem() -> None:
    data = {
        "thresholds": {"cpu_percent": {"warning": 99, "critical": 95}},
        "emial": {},
        "intervals": {"api": "5 minutes"},
        "email": {"smtp_port": 70000},
    }
    with pytest.raises(ConfigError) as err:
        parse_config(data, source="site.yaml", env={})
    text = str(err.value)
    assert "site.yaml: thresholds.cpu_percent: warning (99) must be below critical (95)" in text
    assert "site.yaml: emial: unknown key" in text
    assert "site.yaml: intervals.api: not a duration" in text
    assert "site.yaml: email.smtp_port:" in text


def test_falling_levels_for_hours_left() -> None:
    with pytest.raises(ConfigError, match=r"disk_fill_hours: warning .2. must be above critical .4."):
        parse_config({"thresholds": {"disk_fill_hours": {"warning": 2, "critical": 4}}}, env={})


def test_bad_yaml_names_line(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text("thresholds:\n  cpu_percent: {warning: 80\n")
    with pytest.raises(ConfigError, match=r"c.yaml: line \d+, column \d+: invalid YAML"):
        load_config(f)


def test_relative_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    f = tmp_path / "sub" / "c.yaml"
    f.parent.mkdir()
    f.write_text("bridge: {database: db/x.db, outbox_dir: out}\n")
    cfg = load_config(f, env={})
    assert cfg.bridge.database == tmp_path / "sub" / "db" / "x.db"
    assert cfg.bridge.outbox_dir == tmp_path / "sub" / "out"


def test_secrets_are_masked() -> None:
    cfg = parse_config({"email": {"password": "hunter2"}, "bridge": {"api_token": "tok"}}, env={})
    dumped = str(cfg.masked())
    assert "hunter2" not in dumped and "tok'" not in dumped
    assert cfg.masked()["email"]["password"] == "********"


def test_passwords_in_urls_are_masked() -> None:
    cfg = parse_config(
        {"probes": {"http": [{"name": "api", "url": "https://bot:pa55word@api.example.com/ping"}]},
         "bridge": {"prometheus_url": "http://admin:s3cret@127.0.0.1:9090"}},
        env={},
    )
    dumped = str(cfg.masked())
    assert "pa55word" not in dumped and "s3cret" not in dumped
    assert "https://bot:********@api.example.com/ping" in dumped


def test_default_config_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert default_config_path({}) == EXAMPLE_CONFIG
    (tmp_path / "tradewatch.yaml").write_text("{}\n")
    assert default_config_path({}) == tmp_path / "tradewatch.yaml"
    assert default_config_path({"TRADEWATCH_CONFIG": "/x.yaml"}) == Path("/x.yaml")


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("1h30m", 5400), ("0s", 0), ("250ms", 0.25), (60, 60)]
)
def test_durations_round_trip(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == seconds
    assert parse_duration(format_duration(seconds)) == seconds


def test_check_config_cli_masks_and_exits_2_on_bad_file(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("email: {password: s3cret-value}\n")
    out = subprocess.run([sys.executable, "-m", "tradewatch.cli", "check-config", "--config", str(good)],
                         capture_output=True, text=True, check=True).stdout
    assert "s3cret-value" not in out and "********" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text("email: {smtp_prot: 25}\n")
    res = subprocess.run([sys.executable, "-m", "tradewatch.cli", "check-config", "--config", str(bad)],
                         capture_output=True, text=True)
    assert res.returncode == 2
    assert f"{bad}: email.smtp_prot: unknown key" in res.stderr
