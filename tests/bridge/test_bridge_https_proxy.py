"""HTTPS beyond loopback, the supported way: Debian's nginx running deploy/nginx/tradewatch.conf
(its values filled in) in front of a real bridge, with a throw-away CA (trustme).

What must hold: TLS with the CA's certificate, HSTS on https answers, a plain-http redirect,
`Secure` session cookies, the client address nginx saw believed (sessions.created_by) while an
X-Forwarded-For a client sends itself is not, and the links in emails use the external https URL
and work through the proxy."""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import secrets
import shutil
import socket
import sqlite3
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.bridge import alert, bridge_process, config_data, webhook
from tests.support.procs import REPO, Proc, binary, free_port, wait_until
from tests.support.smtp import smtp_server

pytestmark = pytest.mark.integration

SAMPLE = REPO / "deploy" / "nginx" / "tradewatch.conf"
CLIENT = "127.0.0.3"  # a client that is not the proxy (every 127/8 address is this machine)


def nginx_binary() -> str:
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin") or binary("nginx")


def render(sample: str, values: dict[str, str]) -> str:
    text = sample
    for name, value in values.items():
        text = text.replace("{{" + name + "}}", value)
    left = re.findall(r"^[^#]*\{\{(\w+)\}\}", text, re.M)
    assert not left, f"{SAMPLE}: no value for {left}"
    return text


@contextlib.contextmanager
def nginx(tmp: Path, values: dict[str, str]) -> Iterator[Proc]:
    """nginx in the foreground, one process, everything under tmp; stopped when the block ends."""
    (tmp / "logs").mkdir(parents=True)
    site = tmp / "tradewatch.conf"
    site.write_text(render(SAMPLE.read_text(), values))
    main = tmp / "nginx.conf"
    main.write_text(f"""
daemon off;
master_process off;
pid {tmp}/nginx.pid;
error_log {tmp}/logs/error.log info;
events {{ worker_connections 128; }}
http {{
    access_log {tmp}/logs/access.log;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {site};
}}
""")
    proc = Proc([nginx_binary(), "-p", str(tmp), "-e", f"{tmp}/logs/error.log", "-c", str(main)],
                tmp / "logs" / "stdout.log")
    try:
        def listening() -> bool:
            if not proc.alive():
                pytest.fail(f"nginx exited:\n{proc.output()}\n{(tmp / 'logs' / 'error.log').read_text()}")
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", int(values["https_listen"].rsplit(":", 1)[1]))) == 0

        wait_until(listening, 15, what="nginx listening")
        yield proc
    finally:
        proc.stop()


def call(port: int, method: str, path: str, *, tls: ssl.SSLContext | None, body: Any = None,
         headers: dict[str, str] | None = None, source: str = CLIENT,
         host: str = "localhost") -> tuple[int, http.client.HTTPMessage, bytes]:
    """One request from `source` to 127.0.0.1:port, over TLS (verified, for `host`) when tls is set."""
    kw: dict[str, Any] = {"timeout": 10, "source_address": (source, 0)}
    conn = (http.client.HTTPSConnection(host, port, context=tls, **kw) if tls
            else http.client.HTTPConnection("127.0.0.1", port, **kw))
    if tls:  # resolve `host` ourselves: the certificate names it, the socket goes to 127.0.0.1
        conn.sock = tls.wrap_socket(socket.create_connection(("127.0.0.1", port), 10, (source, 0)),
                                    server_hostname=host)
    data = json.dumps(body).encode() if body is not None else None
    hdrs = {"Host": f"{host}:{port}", **({"Content-Type": "application/json"} if data else {}),
            **(headers or {})}
    try:
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read()
    finally:
        conn.close()


def created_by(db: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return [r[0] for r in conn.execute("SELECT created_by FROM sessions ORDER BY rowid")]


def test_the_bridge_behind_nginx_with_tls(tmp_path):
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("localhost")
    (tmp_path / "tls").mkdir()
    cert.cert_chain_pems[0].write_to_path(tmp_path / "tls" / "chain.pem")
    for extra in cert.cert_chain_pems[1:]:
        extra.write_to_path(tmp_path / "tls" / "chain.pem", append=True)
    cert.private_key_pem.write_to_path(tmp_path / "tls" / "key.pem")
    tls = ssl.create_default_context()
    ca.configure_trust(tls)

    token = secrets.token_urlsafe(32)
    bridge_port, https_port, http_port = free_port(), free_port(), free_port()
    external = f"https://localhost:{https_port}"
    with smtp_server() as smtp:
        data = config_data(
            tmp_path,
            bridge={"api_token": token, "external_url": external},
            email={"smtp_server": "127.0.0.1", "smtp_port": smtp.port, "security": "none"},
            security={"trusted_proxies": ["127.0.0.1/32"]},
        )
        values = {"https_listen": f"127.0.0.1:{https_port}", "http_listen": f"127.0.0.1:{http_port}",
                  "server_name": "localhost", "certificate": str(tmp_path / "tls" / "chain.pem"),
                  "certificate_key": str(tmp_path / "tls" / "key.pem"), "bridge": f"127.0.0.1:{bridge_port}"}
        with bridge_process(tmp_path, data, port=bridge_port) as bridge, nginx(tmp_path / "nginx", values):
            # TLS with the CA's certificate; HSTS; plain http redirected
            status, headers, _ = call(https_port, "GET", "/health", tls=tls)
            assert status in (200, 503) and headers["Strict-Transport-Security"] == "max-age=31536000"
            status, headers, _ = call(http_port, "GET", "/api/monitoring/alerts?x=1", tls=None)
            assert status == 301 and headers["Location"] == "https://localhost/api/monitoring/alerts?x=1"
            with pytest.raises(ssl.SSLCertVerificationError):
                call(https_port, "GET", "/health", tls=ssl.create_default_context())  # not the system's CAs

            # a login through the proxy: Secure cookie; the address nginx saw, not the one claimed
            login = {"password": token}
            status, headers, _ = call(https_port, "POST", "/api/auth/login", tls=tls, body=login,
                                      headers={"X-Forwarded-For": "203.0.113.7"})
            cookie = headers["Set-Cookie"]
            assert status == 200
            assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
            # the same claims sent to the bridge directly by a client that is not the proxy
            claims = {"X-Forwarded-For": "203.0.113.8", "X-Forwarded-Proto": "https"}
            status, headers, _ = call(bridge_port, "POST", "/api/auth/login", tls=None, source="127.0.0.2",
                                      body=login, headers=claims)
            assert status == 200 and "Strict-Transport-Security" not in headers
            assert created_by(bridge.db_path) == [f"login@{CLIENT}", "login@127.0.0.2"]

            # through the proxy, the token still rules the webhook
            payload = webhook(alert("DiskFull", severity="critical"))
            assert call(https_port, "POST", "/api/monitoring/webhook", tls=tls, body=payload)[0] == 401
            status, _, raw = call(https_port, "POST", "/api/monitoring/webhook", tls=tls, body=payload,
                                  headers={"Authorization": f"Bearer {token}"})
            assert status == 200, raw

            # the email's links use the external https URL, and its ack link works through nginx
            [msg] = smtp.mailbox.wait_for(1, timeout=30)
            text = msg.get_body(("plain",)).get_content()
            links = re.findall(r"https?://\S+", text)
            ack = next(link for link in links if "/ack/" in link)
            assert ack.startswith(f"{external}/ack/")
            ours = [link for link in links if "localhost" in link or "127.0.0.1" in link]
            assert all(link.startswith(external) for link in ours)
            path = ack.removeprefix(external)
            status, _, page = call(https_port, "GET", path, tls=tls)
            assert status == 200 and b"Acknowledge this alert?" in page and b"DiskFull" in page
            status, _, page = call(https_port, "POST", path, tls=tls)
            assert status == 200 and b"Acknowledged" in page
