"""Requests through a reverse proxy that terminates TLS (deploy/nginx/tradewatch.conf).

Who the client is (loopback or not, whose failed logins to throttle) and whether the request
came over https (the HSTS header) are read from `X-Forwarded-For` and `X-Forwarded-Proto` only
when the connection comes from an address in `security.trusted_proxies`; from anyone else those
headers are dropped, since any client can send them. Other forwarding headers (Host, Port,
Prefix, `Forwarded`) are never believed: the proxy passes the Host header itself.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator
from typing import Any

from flask import Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

HSTS = "max-age=31536000"  # a year; no includeSubDomains: the bridge does not own the parent domain
_BELIEVED = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO")
_DROPPED = ("HTTP_X_FORWARDED_HOST", "HTTP_X_FORWARDED_PORT", "HTTP_X_FORWARDED_PREFIX", "HTTP_FORWARDED")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def peer_trusted(addr: str | None, networks: Iterable[Network]) -> bool:
    """True when the connection's own address is one of the trusted proxies."""
    try:
        ip = ipaddress.ip_address((addr or "").split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in net for net in networks)


class TrustedProxies:
    """WSGI middleware: werkzeug's ProxyFix (one hop of X-Forwarded-For and -Proto) for requests
    from a trusted proxy; the forwarding headers removed from every other request."""

    def __init__(self, app: Any, trusted: Iterable[str]):
        self.app = app
        self.networks: tuple[Network, ...] = tuple(ipaddress.ip_network(n) for n in trusted)
        self.fixed = ProxyFix(app, x_for=1, x_proto=1, x_host=0, x_port=0, x_prefix=0)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        for key in _DROPPED:
            environ.pop(key, None)
        if self.networks and peer_trusted(environ.get("REMOTE_ADDR"), self.networks):
            return self.fixed(environ, start_response)
        for key in _BELIEVED:
            environ.pop(key, None)
        return self.app(environ, start_response)


def strict_transport(resp: Response) -> Response:
    """HSTS on every answer served over https (which, behind a proxy, only a trusted one can say)."""
    if request.is_secure:
        resp.headers.setdefault("Strict-Transport-Security", HSTS)
    return resp
