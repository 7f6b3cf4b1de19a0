"""The dashboard and /health warn while links in emails point to localhost (issue 14.16)."""

from __future__ import annotations

from pathlib import Path

from alert_bridge.notify.context import alert_context
from alert_bridge.web.app import create_app
from tests.support.bridge import TOKEN, Clock, make_config


def _app(tmp_path: Path, **bridge: str):  # type: ignore[no-untyped-def]
    return create_app(make_config(tmp_path, bridge={"api_token": TOKEN, **bridge}), clock=Clock())


def _get(app, path: str):  # type: ignore[no-untyped-def]
    return app.test_client().get(path, headers={"Authorization": f"Bearer {TOKEN}"})


def test_unset_on_loopback_warns_on_health_and_dashboard_without_failing_readiness(tmp_path: Path) -> None:
    app = _app(tmp_path, external_url="", listen="127.0.0.1:8099")
    try:
        check = _get(app, "/health").json["checks"]["external_url"]
        assert check["ok"] is True and check["detail"] == "http://localhost:8099"
        assert "only works on this machine" in check["warning"]
        page = _get(app, "/").get_data(as_text=True)
        assert 'id="external-url-warning"' in page and "TRADEWATCH_EXTERNAL_URL" in page
        # the links themselves use the derived address
        cfg = app.extensions["tradewatch"].config
        assert cfg.bridge.external_url == "http://localhost:8099"
        row = {"id": 1, "fingerprint": "f", "alertname": "A", "status": "firing", "severity": "critical",
               "category": "x",
               "instance": "h", "labels": "{}", "annotations": "{}", "starts_at": "", "ends_at": None,
               "generator_url": "", "severity_assumed": 0}
        assert alert_context(row, cfg, "k")["dashboard_url"] == "http://localhost:8099/"
    finally:
        app.extensions["tradewatch"].db.close()


def test_unset_beyond_loopback_is_derived_from_the_address_and_quiet(tmp_path: Path) -> None:
    app = _app(tmp_path, external_url="", listen="192.0.2.10:8080")
    try:
        check = _get(app, "/health").json["checks"]["external_url"]
        assert check == {"ok": True, "detail": "http://192.0.2.10:8080"}
        assert 'id="external-url-warning"' not in _get(app, "/").get_data(as_text=True)
    finally:
        app.extensions["tradewatch"].db.close()


def test_a_set_address_is_used_and_quiet(tmp_path: Path) -> None:
    app = _app(tmp_path, external_url="https://tw.example.com")
    try:
        assert _get(app, "/health").json["checks"]["external_url"] == {"ok": True,
                                                                       "detail": "https://tw.example.com"}
        assert 'id="external-url-warning"' not in _get(app, "/").get_data(as_text=True)
    finally:
        app.extensions["tradewatch"].db.close()
