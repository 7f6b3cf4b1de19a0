"""Adding a channel to a config file's text (tradewatch/config_channels.py) and building the wizard's
Apprise URLs (tradewatch/channel_presets.py): pure functions, real Apprise for the URLs."""

from __future__ import annotations

import pytest
import yaml

from tradewatch.channel_presets import preset, variable_for
from tradewatch.config import channel_url_problem, mask_channel_url
from tradewatch.config_channels import with_channel

ENTRY = {"name": "phone", "url": "${TRADEWATCH_CHANNEL_PHONE_URL}", "severities": ["critical", "emergency"]}
DOC = """# top
channels:
  # first
  - name: a
    url: "json://h/"   # kept

  # second
  - name: phone
    url: "tgram://x/y"
    severities: [critical]

  - name: c
    url: "json://h/"
# after
email: {to: [ops@example.com]}
"""


def test_replacing_keeps_every_other_line_and_comment() -> None:
    text, replaced = with_channel(DOC, ENTRY)
    assert replaced
    assert text == DOC.replace('''    url: "tgram://x/y"
    severities: [critical]''', '''    url: "${TRADEWATCH_CHANNEL_PHONE_URL}"
    severities: [critical, emergency]''')


def test_appending_goes_after_the_last_entry_and_before_the_next_section() -> None:
    text, replaced = with_channel(DOC, {**ENTRY, "name": "d"})
    assert not replaced
    assert text.endswith('''    url: "json://h/"
  - name: d
    url: "${TRADEWATCH_CHANNEL_PHONE_URL}"
    severities: [critical, emergency]
# after
email: {to: [ops@example.com]}
''')


@pytest.mark.parametrize("before", ["", "email: {to: [a@example.com]}\n", "channels: []\nemail: {}\n",
                                    "channels:\nemail: {}\n", "channels: [{name: a, url: 'json://h/'}]\n",
                                    "# only a comment\n"])
def test_every_shape_of_file_gets_the_channel_and_keeps_the_rest(before: str) -> None:
    text, _ = with_channel(before, ENTRY)
    data = yaml.safe_load(text)
    old = yaml.safe_load(before) or {}
    assert data["channels"][-1] == ENTRY
    data.pop("channels")
    old.pop("channels", None)
    assert data == old
    assert '"${TRADEWATCH_CHANNEL_PHONE_URL}"' in text or "channels: [{" in before


def test_a_list_at_column_zero_is_spliced_too() -> None:
    before = "channels:\n- name: phone  # mine\n  url: json://h/\n- name: b\n  url: json://h/\n"
    text, replaced = with_channel(before, ENTRY)
    assert replaced and text == ('channels:\n- name: phone\n  url: "${TRADEWATCH_CHANNEL_PHONE_URL}"\n'
                                 "  severities: [critical, emergency]\n- name: b\n  url: json://h/\n")


def test_a_name_yaml_would_read_as_another_type_is_quoted() -> None:
    text, _ = with_channel("", {**ENTRY, "name": "true"})
    assert yaml.safe_load(text)["channels"][0]["name"] == "true"


@pytest.mark.parametrize("bad", ["- a list\n", "channels: {a: 1}\n"])
def test_a_file_it_cannot_edit_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        with_channel(bad, ENTRY)


@pytest.mark.parametrize(("key", "parts", "masked"), [
    ("telegram", {"token": "123456:ABCdefGhIJKlmnopQRstuVWxyz012345678", "chat": "987654"}, "tgram://1...8/987654/"),
    ("discord", {"webhook": "https://discord.com/api/webhooks/123456789012345678/abcdefABCDEF_ghijkl-mnop"},
     "discord://1...8/a...p/"),
    ("slack", {"webhook": "https://hooks.slack.com/services/T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ"},
     "slack://T...2/A...D/T...Q/"),
    ("pushover", {"user": "uQiRzpo4DXghDmr9QzzfQu27cmVRsG", "token": "azGDORePK8gMaC0QOYAMyEEuzJnyUi"},
     "pover://u...G@a...i/"),
    ("ntfy", {"topic": "tw-alerts-x8", "server": "https://ntfy.example.com"}, "ntfys://ntfy.example.com/"),
    ("matrix", {"server": "https://matrix.example.com", "user": "bot", "password": "p@ss w/rd",
                "room": "#alerts"},
     "matrixs://bot:****@matrix.example.com/"),
    ("json", {"endpoint": "https://hooks.example.com/tw"}, "jsons://hooks.example.com/tw"),
    ("other", {"url": " json://127.0.0.1:9/ "}, "json://127.0.0.1:9/"),
])
def test_each_preset_builds_a_url_apprise_reads(key: str, parts: dict[str, str], masked: str) -> None:
    url = preset(key).build(parts)
    assert channel_url_problem(url) is None
    assert mask_channel_url(url).startswith(masked)


@pytest.mark.parametrize(("key", "parts"), [
    ("discord", {"webhook": "https://example.com/api/webhooks/1/2"}),
    ("slack", {"webhook": "https://hooks.slack.com/services/only/two"}),
    ("ntfy", {"topic": "has space", "server": "https://ntfy.sh"}),
    ("json", {"endpoint": "ftp://x/"}),
])
def test_a_wrong_part_says_what_was_expected(key: str, parts: dict[str, str]) -> None:
    with pytest.raises(ValueError, match=r"expected|topic"):
        preset(key).build(parts)


def test_the_env_variable_of_a_name() -> None:
    assert variable_for("phone-2") == "TRADEWATCH_CHANNEL_PHONE_2_URL"


@pytest.mark.parametrize(("url", "masked", "secret"), [
    ("ntfys://ntfy.sh/tw-alerts-x8k2", "ntfys://ntfy.sh/t...2", "tw-alerts-x8k2"),
    ("ntfy://tw-alerts-x8k2", "ntfys://t...2", "tw-alerts-x8k2"),  # the topic where a host would be
    ("ntfy://u:pw@ntfy.example.com/tw-alerts", "ntfy://u:****@ntfy.example.com/t...s", "tw-alerts"),
    ("jsons://hooks.example.com/api/webhook/a1b2c3d4", "jsons://hooks.example.com/a...i/w...k/a...4",
     "a1b2c3d4"),
])
def test_topics_and_webhook_paths_that_are_secrets_are_hidden(url: str, masked: str, secret: str) -> None:
    assert channel_url_problem(url) is None
    shown = mask_channel_url(url)
    assert shown.startswith(masked) and secret not in shown
