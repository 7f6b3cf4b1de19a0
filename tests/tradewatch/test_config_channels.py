"""The `channels:` section: contract keys and defaults, errors naming channels[N].key, masked URLs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tradewatch.config import ConfigError, load_config, parse_config

TOKEN = "123456789:ABCdefGHIjklMNOpqrSTUvwxYZsecret"


def _errors(data: dict, env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as err:
        parse_config(data, source="/etc/tw.yaml", env=env or {})
    return str(err.value)


def test_contract_keys_and_defaults() -> None:
    cfg = parse_config({"channels": [{"name": "phone", "url": "tgram://${TG}/987654"}]}, env={"TG": TOKEN})
    (ch,) = cfg.channels
    assert (ch.name, ch.url) == ("phone", f"tgram://{TOKEN}/987654")
    assert ch.severities == ["critical", "emergency"]
    assert ch.categories == [] and ch.send_resolved is True and ch.daily_report is False
    full = parse_config({"channels": [{
        "name": "ops_1-x", "url": "json://127.0.0.1:9/hook", "severities": ["warning"],
        "categories": ["trading"], "send_resolved": False, "daily_report": True}]}, env={})
    assert full.channel("ops_1-x").categories == ["trading"]


def test_the_example_config_shows_the_section_commented_out() -> None:
    text = (Path(__file__).resolve().parents[2] / "deploy" / "tradewatch.example.yaml").read_text()
    assert "# channels:" in text and "\nchannels:" not in text


@pytest.mark.parametrize(("entry", "key", "problem"), [
    ({"name": "phone", "url": f"nosuchservice://{TOKEN}/1"}, "channels[0].url", "Apprise cannot parse"),
    ({"name": "phone", "url": "not a url"}, "channels[0].url", "not an Apprise URL"),
    ({"name": "phone", "url": "json://127.0.0.1/x", "severities": ["loud"]}, "channels[0].severities",
     "unknown severity 'loud'"),
    ({"name": "phone", "url": "json://127.0.0.1/x", "categories": ["weather"]}, "channels[0].categories",
     "unknown category"),
    ({"name": "Phone!", "url": "json://127.0.0.1/x"}, "channels[0].name", "a-z, 0-9"),
    ({"name": "x" * 33, "url": "json://127.0.0.1/x"}, "channels[0].name", "1 to 32"),
    ({"name": "phone", "url": "json://127.0.0.1/x", "colour": "red"}, "channels[0].colour", "unknown key"),
    ({"url": "json://127.0.0.1/x"}, "channels[0].name", "Field required"),
])
def test_errors_name_the_file_the_key_and_the_problem(entry: dict, key: str, problem: str) -> None:
    text = _errors({"channels": [entry]})
    assert text.startswith("/etc/tw.yaml: ") and f"{key}: " in text and problem in text, text
    assert TOKEN not in text and "secret" not in text


def test_a_repeated_name_is_an_error_naming_both_entries() -> None:
    text = _errors({"channels": [{"name": "a", "url": "json://127.0.0.1/x"},
                                 {"name": "a", "url": "json://127.0.0.1/y"}]})
    assert "channels[1].name: 'a' is already the name of channels[0]" in text


def test_check_config_masks_tokens_inside_channel_urls(tmp_path: Path) -> None:
    cfg = tmp_path / "tw.yaml"
    cfg.write_text("channels:\n  - {name: phone, url: 'tgram://${TG}/987654'}\n"
                   "  - {name: hook, url: 'json://user:${PW}@127.0.0.1:9000/x'}\n")
    env = {"TG": TOKEN, "PW": "hunter2secret", "PATH": "/usr/bin:/bin"}
    cmd = [sys.executable, "-m", "tradewatch.cli", "check-config", "--json", "--config", str(cfg)]
    out = subprocess.run(cmd,
                         capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert TOKEN not in out.stdout and "hunter2secret" not in out.stdout
    channels = json.loads(out.stdout)["config"]["channels"]
    assert channels[0]["url"].startswith("tgram://") and channels[1]["url"].startswith("json://user:")
    assert load_config(cfg, env=env).channels[0].url == f"tgram://{TOKEN}/987654"
