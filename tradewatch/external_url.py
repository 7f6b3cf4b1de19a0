"""The address links in emails point to (`bridge.external_url`), and whether a phone can follow it.

Left empty (the default), it is derived when the bridge starts: listening beyond loopback, from
the listen address, or this host's name (`socket.getfqdn()`) for a wildcard address; on loopback
it can only be `http://localhost:PORT`, which is useless from a phone, so the dashboard and
`/health` warn while links point to a loopback host. Pure functions; the host name is passed in.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

WILDCARDS = frozenset({"0.0.0.0", "::", ""})


@dataclass(frozen=True)
class ExternalUrl:
    url: str
    derived: bool  # not set in the config: worked out from the listen address
    problem: str  # why links would not work from another device ("" when they can)


def is_loopback_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _split_listen(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    return host.strip("[]"), int(port) if port.isdigit() else 8080


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host


@functools.cache
def host_name() -> str:
    """This host's fully qualified name (asked once: it may need DNS)."""
    return socket.getfqdn()


def resolve(configured: str, listen: str, fqdn: str | None = None) -> ExternalUrl:
    """The external URL to use: the configured one, else derived from `listen` (and `fqdn`)."""
    if configured:
        url, derived = configured.rstrip("/"), False
    else:
        host, port = _split_listen(listen)
        if host in WILDCARDS:
            host = fqdn if fqdn is not None else host_name()
        url, derived = f"http://{_bracket(host) if not is_loopback_host(host) else 'localhost'}:{port}", True
    link_host = urlsplit(url).hostname or ""
    problem = ""
    if is_loopback_host(link_host):
        how = "bridge.external_url is not set and the bridge listens on loopback" if derived else \
            "bridge.external_url names this machine's loopback"
        problem = (f"Links in emails point to {url}, which only works on this machine ({how}): set "
                   "bridge.external_url (or TRADEWATCH_EXTERNAL_URL) to the address a phone reaches.")
    return ExternalUrl(url, derived, problem)
