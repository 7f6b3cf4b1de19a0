"""Test helpers for the bridge core: configs, webhook payloads, a settable clock, a real process.

The fixtures built from them (clock, config, db, app, client) are in tests/bridge/conftest.py.
"""

from __future__ import annotations

import contextlib
import copy
import json
import sqlite3
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from tests.support.procs import Proc, binary, free_port, running
from tradewatch.config import Config, parse_config

TOKEN = "s3cret-token-for-tests"


class Clock:
    """A settable clock for the app, the workers and the jobs."""

    def __init__(self, now: float = 1_800_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def config_data(tmp_path: Path, **sections: dict[str, Any]) -> dict[str, Any]:
    """Config as data: hermetic (no Prometheus/Alertmanager/exporter), file-sink email."""
    data: dict[str, Any] = {
        "email": {
            "to": ["ops@example.com"],
            "escalation_to": ["boss@example.com"],
            "from_email": "tradewatch@example.com",
            "smtp_server": "",
        },
        "bridge": {
            "database": str(tmp_path / "bridge.db"),
            "outbox_dir": str(tmp_path / "outbox"),
            "prometheus_url": "",
            "alertmanager_url": "",
            "exporter_url": "",
            "external_url": "http://localhost:8080",
        },
    }
    for name, values in sections.items():
        data[name] = {**data.get(name, {}), **values}
    return data


def make_config(tmp_path: Path, **sections: dict[str, Any]) -> Config:
    return parse_config(config_data(tmp_path, **sections), env={})


def alert(
    name: str = "HighCpuUsage",
    *,
    severity: str | None = "critical",
    status: str = "firing",
    fingerprint: str | None = None,
    starts_at: str = "2026-11-25T01:40:00.123456789Z",
    instance: str = "web-1:9184",
    **labels: str,
) -> dict[str, Any]:
    lbl = {"alertname": name, "instance": instance, "category": "system", **labels}
    if severity is not None:
        lbl["severity"] = severity
    return {
        "status": status,
        "labels": lbl,
        "annotations": {"summary": f"{name} on {instance}", "description": "value is 97%"},
        "startsAt": starts_at,
        "endsAt": "2026-11-25T02:00:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=up",
        "fingerprint": fingerprint or f"fp-{name}-{instance}",
    }


def webhook(*alerts: dict[str, Any], status: str | None = None) -> dict[str, Any]:
    alerts_list = [copy.deepcopy(a) for a in alerts]
    return {
        "receiver": "tradewatch-bridge",
        "status": status or ("firing" if any(a["status"] == "firing" for a in alerts_list) else "resolved"),
        "alerts": alerts_list,
        "groupLabels": {"alertname": alerts_list[0]["labels"]["alertname"]} if alerts_list else {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "version": "4",
        "groupKey": '{}:{alertname="x"}',
        "truncatedAlerts": 0,
    }


def notifications(db_path: Path | str) -> list[dict[str, Any]]:
    """Every outbox row, read with a separate connection (as an outside observer)."""
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        conn.row_factory = sqlite3.Row
        try:
            rows = conn.execute(
                "SELECT id, kind, alert_id, dedup_key, recipients, context, status "
                "FROM notifications ORDER BY id"
            ).fetchall()
        except sqlite3.OperationalError:
            return []
        out = []
        for r in rows:
            d = dict(r)
            d["recipients"] = json.loads(d["recipients"])
            d["context"] = json.loads(d["context"])
            out.append(d)
        return out


def alert_rows(db_path: Path | str) -> list[dict[str, Any]]:
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        conn.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in conn.execute("SELECT * FROM alerts ORDER BY id")]
        except sqlite3.OperationalError:
            return []


# --------------------------------------------------------------------------- real process


class BridgeProcess:
    def __init__(self, proc: Proc, url: str, config_path: Path, db_path: Path, token: str):
        self.proc, self.url, self.config_path, self.db_path, self.token = (
            proc,
            url,
            config_path,
            db_path,
            token,
        )

    def request(
        self, method: str, path: str, body: Any = None, *, token: str | None = None, timeout: float = 10
    ) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        tok = self.token if token is None else token
        if tok:
            headers["Authorization"] = f"Bearer {tok}"
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                raw = resp.read()
                status = resp.status
        except urllib.error.HTTPError as exc:
            raw, status = exc.read(), exc.code
            exc.close()
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode(errors="replace")


def write_config(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "tradewatch.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@contextlib.contextmanager
def bridge_process(
    tmp_path: Path,
    data: dict[str, Any],
    *,
    port: int | None = None,
    log_name: str = "bridge.log",
    extra_args: list[str] | None = None,
) -> Iterator[BridgeProcess]:
    """Run `tradewatch-bridge` with config `data` (see config_data) until the block ends."""
    port = port or free_port()
    path = write_config(tmp_path, data)
    url = f"http://127.0.0.1:{port}"
    args = [
        binary("tradewatch-bridge"),
        "--listen",
        f"127.0.0.1:{port}",
        "--config",
        str(path),
        *(extra_args or []),
    ]
    with running(args, tmp_path / log_name, ready_url=f"{url}/api/openapi.json", timeout=30) as proc:
        yield BridgeProcess(
            proc, url, path, Path(data["bridge"]["database"]), data["bridge"].get("api_token", "")
        )


def metric_value(text: str, name: str, **labels: str) -> float | None:
    """One sample's value from an exposition text (parsed with prometheus_client's parser)."""
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return None
