"""schemathesis with every check against a live bridge on 127.0.0.1: the OpenAPI document and
the server agree (response schemas, status codes, content types, auth, valid input accepted,
invalid input rejected, undocumented methods 405). Bounded: 50 examples per operation.

The run's JSON report is read, not its text: every operation tested, no failure, no error. A
second run against a document that was made to disagree with the server must find it.
"""

from __future__ import annotations

import json
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.support.bridge import TOKEN, bridge_process, config_data
from tests.support.procs import binary, free_port

pytestmark = pytest.mark.integration


def schemathesis(
    location: str, url: str, tmp_path: Path, token: str, *extra: str
) -> tuple[dict[str, Any], str]:
    """Run `st run` with all checks; return its JSON report and its console output."""
    report = tmp_path / f"report-{len(list(tmp_path.glob('report-*')))}.json"
    auth = ["--header", f"Authorization: Bearer {token}"] if token else []
    proc = subprocess.run(
        [binary("st"), "run", location, "--url", url, "--checks", "all", "--max-examples", "50",
         *auth, "--no-color", "--generation-deterministic",
         "--phases", "examples,coverage,fuzzing", "--report", "json", "--report-json-path", str(report),
         *extra],
        capture_output=True, text=True, timeout=240, cwd=tmp_path,
    )
    out = proc.stdout[-6000:] + proc.stderr[-2000:]
    assert report.exists(), out
    data = json.loads(report.read_text())
    assert data["exit_code"] == proc.returncode, out
    return data, out


@pytest.mark.parametrize("token", [TOKEN, ""], ids=["token", "loopback-only"])
def test_document_and_server_agree_under_every_check(tmp_path, token):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # the exporter fallback scrapes the bridge's own /metrics: hermetic, and the metrics and
    # sparkline endpoints have a source (without one they answer a documented 503). Without a
    # token, writes and the webhook are open to loopback and the document must say so.
    data = config_data(tmp_path, bridge={"api_token": token, "exporter_url": f"{url}/metrics"})
    with bridge_process(tmp_path, data, port=port) as bridge:
        with urllib.request.urlopen(f"{url}/api/openapi.json", timeout=10) as resp:
            document = json.load(resp)
        report, out = schemathesis(f"{url}/api/openapi.json", url, tmp_path, token)
        assert bridge.proc.alive()

        # schemathesis leaves out the operation serving the document it loaded (GET /api/openapi.json)
        operations = sum(len(ops) for ops in document["paths"].values()) - 1
        assert report["complete"] and report["stop_reason"] == "completed", out
        counts = report["operations"]
        assert counts["tested"] == counts["selected"] == counts["total"] == operations, out
        assert report["operations"]["errored"] == 0 and report["errors"] == [], out
        assert report["failures"] == [], out
        assert report["test_cases"]["with_failures"] == 0, out
        assert report["test_cases"]["generated"] >= 20 * operations, out
        assert all(report["phases"][p]["status"] == "success" for p in ("examples", "coverage", "fuzzing"))
        assert report["exit_code"] == 0, out
        if not token:
            return

        # the same run against a document made to disagree with the server must find each lie:
        # a larger limit than /notifications accepts, a wrong response type for /start, and
        # credentials required on /sparklines that loopback clients do not need
        wrong = json.loads(json.dumps(document))
        notes = wrong["paths"]["/api/monitoring/notifications"]["get"]
        next(p for p in notes["parameters"] if p["name"] == "limit")["schema"]["maximum"] = 100_000
        wrong["components"]["schemas"]["StartResult"]["properties"]["resumed"] = {"type": "string"}
        wrong["paths"]["/api/monitoring/sparklines"]["get"]["security"] = [{"bearer": []}]
        path = tmp_path / "wrong.json"
        path.write_text(json.dumps(wrong))
        broken, out = schemathesis(str(path), url, tmp_path, token, "--include-path-regex",
                                   "^/api/monitoring/(notifications|start|sparklines)$")
        assert bridge.proc.alive()
    assert broken["exit_code"] != 0, out
    found = {(f["code"], op) for f in broken["failures"] for op in f["operations"]}
    assert found >= {
        ("ST202", "GET /api/monitoring/notifications"),  # schema-valid request rejected
        ("ST108", "POST /api/monitoring/start"),  # response violates schema
        ("ST401", "GET /api/monitoring/sparklines"),  # accepts requests without authentication
    }, out
