"""docs/channels.md: its examples load with the bridge's own config loader (so Apprise parses every
URL), the page is in the site's nav, and it names every service the issue promises."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from tradewatch.config import mask_channel_url, parse_config

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / "docs" / "channels.md"
# Values shaped like the real ones (Apprise checks the shape of tokens and keys).
ENV = {
    "TG_BOT_TOKEN": "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "TG_CHAT_ID": "987654321",
    "DISCORD_WEBHOOK_ID": "112233445566778899",
    "DISCORD_WEBHOOK_TOKEN": "abcDEF-ghiJKL_mnoPQRstuVWXyz0123456789",
    "SLACK_TA": "T1JJ3T3L2", "SLACK_TB": "A1BRTD4JD", "SLACK_TC": "TIiajkdnlazkcOXrIdevi7FQ",
    "PUSHOVER_USER_KEY": "uQiRzpo4DXghDmr9QzzfQu27cmVRsG",
    "PUSHOVER_APP_TOKEN": "azGDORePK8gMaC0QOYAMyEEuzJnyUi",
    "NTFY_USER": "tradewatch", "NTFY_PASSWORD": "ntfy-pass-123",
    "MATRIX_USER": "tradewatch-bot", "MATRIX_PASSWORD": "matrix-pass-123",
    "HOOK_KEY": "hook-key-0123456789",
}


def yaml_blocks() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.S)


def test_every_example_loads_and_every_service_is_shown() -> None:
    channels = []
    for block in yaml_blocks():
        cfg = parse_config(yaml.safe_load(block), source="docs/channels.md", env=ENV)
        channels += cfg.channels
    schemes = {c.url.split("://")[0] for c in channels}
    assert {"tgram", "discord", "slack", "pover", "ntfys", "matrixs", "jsons"} <= schemes
    for c in channels:  # masked forms carry none of the secrets
        masked = mask_channel_url(c.url)
        secrets = [v for k, v in ENV.items() if any(w in k for w in ("TOKEN", "PASSWORD", "KEY"))]
        assert not any(v in masked for v in secrets), masked


def test_the_page_is_in_the_nav_and_links_the_benchmark_command() -> None:
    assert "channels.md" in (REPO / "mkdocs.yml").read_text()
    text = PAGE.read_text()
    assert "tests/bench/bench_channels.py" in text and "BENCH_RESULTS" not in text
