"""bridge.external_url: empty means 'derive it', and links to loopback are flagged (issue 14.16)."""

from __future__ import annotations

import pytest

from tradewatch.config import Config, parse_config
from tradewatch.external_url import resolve


def test_not_set_is_distinguishable_and_the_contract_key_stays() -> None:
    assert Config().bridge.external_url == ""
    assert parse_config({"bridge": {"external_url": "https://tw.example.com/"}}, env={}).bridge.external_url \
        == "https://tw.example.com"
    # the example config takes it from TRADEWATCH_EXTERNAL_URL, empty when that is unset
    from tradewatch.config import EXAMPLE_CONFIG, load_config

    assert load_config(EXAMPLE_CONFIG, env={}).bridge.external_url == ""
    env = {"TRADEWATCH_EXTERNAL_URL": "https://a.example"}
    assert load_config(EXAMPLE_CONFIG, env=env).bridge.external_url == "https://a.example"


@pytest.mark.parametrize(("listen", "fqdn", "url"), [
    ("0.0.0.0:8080", "trader.example.net", "http://trader.example.net:8080"),
    ("[::]:9000", "trader.example.net", "http://trader.example.net:9000"),
    ("192.0.2.7:8080", "ignored", "http://192.0.2.7:8080"),
    ("[2001:db8::5]:8080", "ignored", "http://[2001:db8::5]:8080"),
    ("box.lan:8081", "ignored", "http://box.lan:8081"),
])
def test_derived_from_the_listen_address_beyond_loopback(listen: str, fqdn: str, url: str) -> None:
    got = resolve("", listen, fqdn=fqdn)
    assert (got.url, got.derived, got.problem) == (url, True, "")


@pytest.mark.parametrize("listen", ["127.0.0.1:8080", "[::1]:8080", "localhost:8080"])
def test_loopback_gives_localhost_with_a_problem_to_show(listen: str) -> None:
    got = resolve("", listen, fqdn="trader.example.net")
    assert got.url == "http://localhost:8080" and got.derived
    assert "only works on this machine" in got.problem and "bridge.external_url is not set" in got.problem


def test_a_wildcard_on_a_host_without_a_name_still_warns() -> None:
    assert resolve("", "0.0.0.0:8080", fqdn="localhost").problem


def test_configured_value_wins_and_is_checked_too() -> None:
    assert resolve("https://tw.example.com", "127.0.0.1:8080", fqdn="x") == resolve(
        "https://tw.example.com/", "0.0.0.0:1", fqdn="y")
    assert not resolve("https://tw.example.com", "127.0.0.1:8080").problem
    local = resolve("http://127.0.0.1:8080", "0.0.0.0:8080", fqdn="x")
    assert not local.derived and "names this machine's loopback" in local.problem
