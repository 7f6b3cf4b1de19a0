"""schemathesis against a live bridge on 127.0.0.1: generated requests from /api/openapi.json
never get a 5xx (bounded: 50 examples per operation)."""

from __future__ import annotations

import subprocess

import pytest

from tests.support.bridge import TOKEN, bridge_process, config_data
from tests.support.procs import binary, free_port

pytestmark = pytest.mark.integration


def test_no_server_errors_from_generated_requests(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # the exporter fallback scrapes the bridge's own /metrics: hermetic, and /api/monitoring/metrics
    # has a source (without one it answers a documented 503, which is not what this test is about)
    data = config_data(tmp_path, bridge={"api_token": TOKEN, "exporter_url": f"{url}/metrics"})
    with bridge_process(tmp_path, data, port=port) as bridge:
        proc = subprocess.run(
            [binary("st"), "run", f"{url}/api/openapi.json", "--url", url, "--checks", "not_a_server_error",
             "--max-examples", "50", "--header", f"Authorization: Bearer {TOKEN}", "--no-color",
             "--generation-deterministic", "--phases", "examples,coverage,fuzzing"],
            capture_output=True, text=True, timeout=240, cwd=tmp_path,
        )
        assert bridge.proc.alive()
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert "15/15" in proc.stdout or "Tested:" in proc.stdout
