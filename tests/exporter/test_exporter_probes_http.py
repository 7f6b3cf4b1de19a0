"""HTTP probes against a real http.server on 127.0.0.1."""

from __future__ import annotations

import base64
import ssl
import threading
from http.server import BaseHTTPRequestHandler

import pytest
import trustme

from exporter.collectors.probe_http import build
from tests.support.exporter_probes import config, families, http_server, reply, timed, value
from tests.support.procs import free_port
from tradewatch import metric_names as names

release = threading.Event()


@pytest.fixture(autouse=True)
def _release_slow_handlers():
    release.clear()
    yield
    release.set()


def slow(seconds: float, status: int = 200) -> object:
    def handle(h: BaseHTTPRequestHandler) -> None:
        release.wait(seconds)
        reply(status, b"late")(h)

    return handle


def trickle(h: BaseHTTPRequestHandler) -> None:
    """Answers at once, then sends its body one byte every 0.2 s: only a whole-exchange deadline stops it."""
    h.send_response(200)
    h.send_header("Content-Length", "1000")
    h.end_headers()
    try:
        for _ in range(1000):
            h.wfile.write(b"x")
            h.wfile.flush()
            if release.wait(0.2):
                return
    except OSError:
        return  # the probe hung up at its deadline, as it should


def collect(**probes: object) -> dict:
    collector = build(config(http=probes.pop("http")))
    try:
        return families(collector.collect())
    finally:
        collector.close()


def test_success_reports_status_and_duration():
    with http_server({"/ping": reply(200, b"pong")}) as url:
        f = collect(http=[{"name": "api", "url": f"{url}/ping"}])
    assert value(f, names.PROBE_SUCCESS, probe="api", type="http") == 1
    assert value(f, names.PROBE_HTTP_STATUS, probe="api") == 200
    assert 0 < value(f, names.PROBE_DURATION, probe="api", type="http") < 5


def test_wrong_status_fails_and_expected_list_is_honoured():
    with http_server({"/down": reply(503), "/moved": reply(302, headers={"Location": "/x"})}) as url:
        f = collect(http=[
            {"name": "down", "url": f"{url}/down"},
            {"name": "moved", "url": f"{url}/moved", "expected_status": [200, 302]},
        ])
    assert value(f, names.PROBE_SUCCESS, probe="down", type="http") == 0
    assert value(f, names.PROBE_HTTP_STATUS, probe="down") == 503
    assert value(f, names.PROBE_SUCCESS, probe="moved", type="http") == 1
    assert value(f, names.PROBE_HTTP_STATUS, probe="moved") == 302


def test_body_regex_hit_and_miss():
    with http_server({"/s": reply(200, b'{"status": "ok", "lag": 3}')}) as url:
        f = collect(http=[
            {"name": "hit", "url": f"{url}/s", "body_regex": r'"status":\s*"ok"'},
            {"name": "miss", "url": f"{url}/s", "body_regex": r'"status":\s*"degraded"'},
        ])
    assert value(f, names.PROBE_SUCCESS, probe="hit", type="http") == 1
    assert value(f, names.PROBE_SUCCESS, probe="miss", type="http") == 0
    assert value(f, names.PROBE_HTTP_STATUS, probe="miss") == 200


def test_method_headers_and_body_are_sent():
    seen: dict = {}

    def record(h: BaseHTTPRequestHandler) -> None:
        seen["method"] = h.command
        seen["auth"] = h.headers.get("Authorization")
        seen["body"] = h.rfile.read(int(h.headers.get("Content-Length", 0)))
        reply(201)(h)

    with http_server({"/orders": record}) as url:
        f = collect(http=[{
            "name": "post", "url": f"{url}/orders?dry=1", "method": "post", "expected_status": [201],
            "headers": {"Authorization": "Bearer t0k"}, "body": '{"ping": true}',
        }])
    assert value(f, names.PROBE_SUCCESS, probe="post", type="http") == 1
    assert seen == {"method": "POST", "auth": "Bearer t0k", "body": b'{"ping": true}'}


def test_slow_server_is_bounded_by_the_timeout():
    with http_server({"/slow": slow(10)}) as url:  # without the timeout: a 200 after 10 s
        f = collect(http=[{"name": "slow", "url": f"{url}/slow", "timeout": "500ms"}])
    assert value(f, names.PROBE_SUCCESS, probe="slow", type="http") == 0
    assert value(f, names.PROBE_HTTP_STATUS, probe="slow") == 0


@pytest.mark.integration
def test_trickling_body_is_bounded_by_the_timeout():
    """The whole body would take 200 s; a per-read timeout would never fire. Generous bound."""
    with http_server({"/t": trickle}) as url:
        f, took = timed(lambda: collect(
            http=[{"name": "t", "url": f"{url}/t", "timeout": "700ms", "body_regex": "never"}]
        ))
    assert value(f, names.PROBE_SUCCESS, probe="t", type="http") == 0
    assert took < 20, f"collect took {took:.2f}s with a 0.7s probe timeout"


def test_probes_run_concurrently():
    together = threading.Barrier(4, timeout=4)

    def all_four_at_once(h: BaseHTTPRequestHandler) -> None:
        try:
            together.wait()  # passes only when the four requests are in flight at the same time
        except threading.BrokenBarrierError:
            reply(503)(h)
            return
        reply(200)(h)

    with http_server({"/s": all_four_at_once}) as url:
        probes = [{"name": f"p{i}", "url": f"{url}/s", "timeout": "5s"} for i in range(4)]
        f = collect(http=probes)
    assert [value(f, names.PROBE_SUCCESS, probe=f"p{i}", type="http") for i in range(4)] == [1] * 4


def test_connection_refused_fails_fast():
    port = free_port()
    f = collect(http=[{"name": "gone", "url": f"http://127.0.0.1:{port}/"}])
    assert value(f, names.PROBE_SUCCESS, probe="gone", type="http") == 0
    assert value(f, names.PROBE_HTTP_STATUS, probe="gone") == 0


def test_factory_and_timeout_attribute():
    assert build(config()) is None
    c = build(config(http=[
        {"name": "a", "url": "http://127.0.0.1:1/", "timeout": "2s"},
        {"name": "b", "url": "http://127.0.0.1:1/", "timeout": "7s"},
    ]))
    try:
        assert c.timeout == 8.0
        assert c.name == "probe_http"
    finally:
        c.close()


def test_repeated_scrapes_reuse_the_pool():
    with http_server({"/ping": reply(200, b"pong")}) as url:
        c = build(config(http=[{"name": "api", "url": f"{url}/ping"}]))
        try:
            for _ in range(3):
                f = families(c.collect())
                assert value(f, names.PROBE_SUCCESS, probe="api", type="http") == 1
            threads = {t.name for t in threading.enumerate() if t.name.startswith("probe-http")}
            assert len(threads) == 1
        finally:
            c.close()


def test_basic_auth_from_the_url():
    seen = {}

    def record(h: BaseHTTPRequestHandler) -> None:
        seen["auth"] = h.headers.get("Authorization")
        reply(200)(h)

    with http_server({"/": record}) as url:
        f = collect(http=[{"name": "auth", "url": url.replace("http://", "http://bot:p%40ss@") + "/"}])
    assert value(f, names.PROBE_SUCCESS, probe="auth", type="http") == 1
    assert seen["auth"] == "Basic " + base64.b64encode(b"bot:p@ss").decode()


def test_https_checks_the_certificate_unless_told_not_to():
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(ctx)
    with http_server({"/ping": reply(200, b"pong")}, ssl_context=ctx) as url:
        https = url.replace("http://", "https://") + "/ping"
        f = collect(http=[
            {"name": "strict", "url": https},
            {"name": "lax", "url": https, "verify_tls": False, "body_regex": "pong"},
        ])
    assert value(f, names.PROBE_SUCCESS, probe="strict", type="http") == 0  # unknown CA
    assert value(f, names.PROBE_HTTP_STATUS, probe="strict") == 0
    assert value(f, names.PROBE_SUCCESS, probe="lax", type="http") == 1
