"""Report rendering: escaping of label values, the MIME structure, and a report without Prometheus."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, datetime
from html.parser import HTMLParser

from alert_bridge.reports import data, render
from tests.support.procs import free_port
from tests.support.report import CannedPrometheus, add_alert, series
from tradewatch.config import parse_config

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
T = NOW.timestamp()
EVIL = '<script>alert("x")</script>'



class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.texts: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.texts.append(data)


def _parse(html: str) -> _Tags:
    p = _Tags()
    p.feed(html)
    p.close()
    return p


def tags(html: str) -> list[str]:
    return _parse(html).tags


def texts(html: str) -> list[str]:
    return _parse(html).texts


def cfg(tmp_path, prom_url: str):
    return parse_config({"bridge": {"prometheus_url": prom_url, "database": str(tmp_path / "tw.db")},
                         "email": {"to": ["ops@example.com"], "from_email": "tw@example.com"},
                         "report": {"window": "1h"}}, env={})


def canned(instance: str) -> CannedPrometheus:
    start, step = T - 3600, 60.0
    cpu = series(instance, start, [0.2 + 0.01 * (i % 10) for i in range(61)], step)
    mem = series(instance, start, [0.5] * 61, step)
    return CannedPrometheus(
        ranges={
            "node_cpu_utilisation": [cpu], "node_memory_utilisation": [mem],
            "node_filesystem_usage": [series(instance, start, [0.4] * 61, step)],
            "network_receive": [series(instance, start, [12345.0] * 61, step)],
            "max by (instance) (up)": [series(instance, start, [1.0] * 61, step)],
        },
        instants={"timestamp(up)": [{"metric": {"instance": instance}, "value": [T, str(T - 5)]}]},
    )


def test_label_values_are_escaped(tmp_path, db):
    evil_host = f"{EVIL}:9100"
    with db.transaction() as conn:
        add_alert(conn, alertname=f"Cpu{EVIL}", severity="warning", instance=evil_host, starts=T - 1800,
                  ends=T - 600, summary=f"CPU high {EVIL} & <b>bold</b>")
    config = cfg(tmp_path, "http://127.0.0.1:1")
    d = data.build(config, conn=db.connection(), now=NOW, api=canned(evil_host))
    html = render.render_html(d)
    # no injected element: the label values are text (attribute values may keep a literal "<",
    # which HTML5 serialisation allows inside quotes)
    assert "script" not in tags(html) and "b" not in tags(html)
    assert "&lt;b&gt;bold&lt;/b&gt;" in html
    # host heading, alert name, summary and chart alt text all carry the value, as text
    assert sum(EVIL in t for t in texts(html)) >= 3
    preview = render.render_html(d, inline_images=True)
    assert "script" not in tags(preview) and "data:image/png;base64," in preview


def test_message_parts_and_content_ids(tmp_path, db):
    config = cfg(tmp_path, "http://127.0.0.1:1")
    d = data.build(config, conn=db.connection(), now=NOW, api=canned("host-a:9100"))
    assert d.charts, "the canned series should give charts"
    msg = render.build_message(d, config, kind="scheduled", now=NOW, run_id=7)
    parsed = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    text = parsed.get_body(("plain",)).get_content()
    assert "HEALTH SCORE" in text and "host-a:9100" in text
    related = parsed.get_payload()[1]
    assert related.get_content_type() == "multipart/related"
    html = parsed.get_body(("html",)).get_content()
    assert 'style="' in html  # CSS inlined
    cids_in_html = set(re.findall(r'src="cid:([^"]+)"', html))
    parts = {p["Content-ID"].strip("<>"): p for p in parsed.walk() if p.get_content_type() == "image/png"}
    assert cids_in_html and cids_in_html == set(parts)
    for p in parts.values():
        assert p.get_content().startswith(b"\x89PNG")
    assert parsed["Message-ID"] == "<report.2026-11-25.scheduled.7@tradewatch>"
    assert "host-a:9100" in html and "20." in html  # the CPU average is shown


def test_report_without_prometheus_says_what_is_missing(tmp_path, db):
    port = free_port()  # nothing listens there
    config = cfg(tmp_path, f"http://127.0.0.1:{port}")
    with db.transaction() as conn:
        add_alert(conn, alertname="HostMemoryHigh", severity="warning", instance="h:9100", starts=T - 900)
    d = data.build(config, conn=db.connection(), now=NOW)
    assert not d.collected.prometheus_ok
    text = render.render_text(d)
    html = render.render_html(d)
    for body in (text, html):
        assert f"127.0.0.1:{port}) could not be queried" in body
        assert "Host metrics, charts, trading figures and data integrity are missing" in body
        assert "HostMemoryHigh" in body  # alerts still listed from the store
    # the score is computed over what has data, and says so
    assert d.score.components["performance"].points is None
    assert d.score.components["alerts"].points is not None
    assert "scored on 45 of 100 points" in text  # integrity counts as 0 while Prometheus is unreachable
    msg = render.build_message(d, config, kind="manual", now=NOW)
    assert not [p for p in msg.walk() if p.get_content_type() == "image/png"]


def test_no_data_components_are_not_shown_as_zero(tmp_path, db):
    config = cfg(tmp_path, "http://127.0.0.1:1")
    d = data.build(config, conn=db.connection(), now=NOW, api=canned("h:9100"))
    assert d.score.components["trading"].points is None
    text = render.render_text(d)
    assert re.search(r"trading\s+no data", text)
    assert "No trading bot metrics" in " ".join(d.gaps)


def test_hosts_and_alerts_are_named_by_their_nodename_with_the_address_beside(tmp_path, db):
    """Issue 14.12: the report named hosts '127.0.0.1:9184'; node_uname_info's nodename now."""
    api = canned("127.0.0.1:9184")
    api.instants["node_uname_info"] = [{"metric": {"instance": "127.0.0.1:9184", "nodename": "trader-1"},
                                        "value": [T, "1"]}]
    api.ranges["node_memory_utilisation"] = [series("127.0.0.1:9184", T - 3600, [0.95] * 61, 60.0)]
    add_alert(db.connection(), alertname="HostFilesystemFull", severity="critical", instance="127.0.0.1:9184",
              starts=T - 600, labels={"nodename": "trader-1", "mountpoint": "/data"})
    d = data.build(cfg(tmp_path, "http://127.0.0.1:9"), conn=db.connection(), now=NOW, api=api)
    text = render.render_text(d)
    assert "HOST trader-1 (127.0.0.1:9184): score" in text
    assert "HostFilesystemFull on trader-1 started" in text
    # the recommendations name the host too, the address beside it
    memory = [r for r in d.recommendations if r.kind == "memory_pressure"]
    assert memory and memory[0].subject == "trader-1 (127.0.0.1:9184)"
    assert "Reduce memory use or add memory on trader-1 (127.0.0.1:9184)" in text
    assert "trader-1" in " ".join(texts(render.render_html(d)))
