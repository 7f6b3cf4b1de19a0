"""The alert history (issue 14.4): GET /history (server-rendered, the dashboard's CSP, no script)
and GET /api/monitoring/history, searched by name, host (nodename or address), severity, time."""

from __future__ import annotations

import pytest

from tests.support.bridge import alert, webhook

HOOK = "/api/monitoring/webhook"


@pytest.fixture
def stored(client):
    """Three alerts: a resolved disk emergency on trader-1, a firing CPU critical on web-1, and a
    memory warning on web-1 from a later day."""
    disk = alert("HostFilesystemFull", severity="emergency", instance="10.0.0.5:9184", nodename="trader-1",
                 mountpoint="/data", starts_at="2026-12-04T06:00:00Z")
    cpu = alert("HostCpuHigh", instance="web-1:9184", starts_at="2026-12-04T08:00:00Z")
    mem = alert("HostMemoryHigh", severity="warning", instance="web-1:9184", starts_at="2026-12-05T09:00:00Z")
    for a in (disk, cpu, mem):
        assert client.post(HOOK, json=webhook(a)).status_code == 200
    resolved = {**disk, "status": "resolved", "endsAt": "2026-12-04T06:30:00Z"}
    assert client.post(HOOK, json=webhook(resolved)).status_code == 200


def names(client, query: str = "") -> list[str]:
    resp = client.get(f"/api/monitoring/history{query}")
    assert resp.status_code == 200, resp.json
    return [a["alertname"] for a in resp.json["alerts"]]


@pytest.mark.usefixtures("stored")
def test_search_by_name_host_severity_and_time(client):
    assert names(client) == ["HostMemoryHigh", "HostCpuHigh", "HostFilesystemFull"]  # newest first
    assert names(client, "?name=filesystem") == ["HostFilesystemFull"]  # any case, anywhere
    assert names(client, "?host=TRADER") == ["HostFilesystemFull"]  # by nodename
    assert names(client, "?host=10.0.0.5") == ["HostFilesystemFull"]  # or by address
    assert names(client, "?host=web-1&severity=warning") == ["HostMemoryHigh"]
    assert names(client, "?until=2026-12-04T07:00:00Z") == ["HostFilesystemFull"]
    assert names(client, "?until=2026-12-04T08:00:00%2B01:00") == ["HostFilesystemFull"]
    assert names(client, "?until=2026-12-04") == ["HostCpuHigh", "HostFilesystemFull"]  # the whole day
    assert names(client, "?since=2026-12-05") == ["HostMemoryHigh", "HostCpuHigh"]  # CPU still fires
    assert names(client, "?name=&host=&severity=&since=&until=") == names(client)  # an empty form
    assert names(client, "?limit=1") == ["HostMemoryHigh"]
    [disk] = client.get("/api/monitoring/history?name=Filesystem").json["alerts"]
    assert disk["host"] == "trader-1" and disk["instance"] == "10.0.0.5:9184"
    assert disk["status"] == "resolved" and disk["resolved_at"] is not None


@pytest.mark.parametrize("query", ["?severity=fatal", "?since=yesterday", "?limit=0", "?name=" + "x" * 201,
                                   "?until=9999-12-31T23:59:59-01:00", "?since=0.5", "?since=2026-02-30",
                                   "?until=2026-12-04T07:00"])
def test_bad_searches_are_400(client, query):
    resp = client.get(f"/api/monitoring/history{query}")
    assert resp.status_code == 400 and resp.json["error"].startswith("invalid query")


@pytest.mark.usefixtures("stored")
def test_the_page_lists_and_searches_without_script(client):
    resp = client.get("/history?host=web-1")
    assert resp.status_code == 200
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    page = resp.get_data(as_text=True)
    assert "<script" not in page and " style=" not in page  # the CSP allows neither inline
    assert "HostCpuHigh" in page and "HostMemoryHigh" in page and "HostFilesystemFull" not in page
    assert 'value="web-1"' in page  # the form keeps the search
    page = client.get("/history?name=Filesystem").get_data(as_text=True)
    assert "trader-1" in page and "10.0.0.5:9184" in page and "30m" in page  # host, address, how long
