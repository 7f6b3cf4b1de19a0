"""The request deadlines of the bridge's HTTP server, on a real waitress channel over a socketpair
(the clock is passed in; the slow-client integration test is tests/bridge/test_bridge_slow_clients.py)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from waitress.adjustments import Adjustments

from alert_bridge.web.server import HEADER_TIMEOUT, REQUEST_TIMEOUT, DeadlineChannel


class _Server:
    """What a channel asks of its server: a place to register, a queue for complete requests."""

    def __init__(self) -> None:
        self.active_channels: dict[int, DeadlineChannel] = {}
        self.tasks: list[DeadlineChannel] = []

    def add_task(self, channel: DeadlineChannel) -> None:
        self.tasks.append(channel)


@pytest.fixture
def channel() -> Iterator[DeadlineChannel]:
    ours, theirs = socket.socketpair()
    ch = DeadlineChannel(_Server(), ours, ("127.0.0.1", 1), Adjustments(), map={})
    yield ch
    ch.close()
    theirs.close()


HEAD = b"POST /api/monitoring/webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n"


def test_headers_must_be_complete_within_the_header_deadline(channel):
    assert not channel.overdue(time.monotonic() + 3600)  # nothing read yet: the idle timeout's business
    channel.received(HEAD[:20])
    start = channel.request_started
    channel.received(HEAD[20:30])  # more bytes do not move the start
    assert channel.request_started == start
    assert not channel.overdue(start + HEADER_TIMEOUT - 0.1)
    assert channel.overdue(start + HEADER_TIMEOUT + 0.1)


def test_the_body_must_arrive_within_the_request_deadline(channel):
    channel.received(HEAD + b"{")
    start = channel.request_started
    assert not channel.overdue(start + HEADER_TIMEOUT + 0.1)
    assert channel.overdue(start + REQUEST_TIMEOUT + 0.1)


def test_a_complete_request_has_no_deadline_and_the_next_one_starts_its_own(channel):
    channel.received(HEAD + b"0123456789")
    assert channel.request_started is None and channel.server.tasks == [channel]
    assert not channel.overdue(time.monotonic() + 3600)
    channel.requests.clear()  # the worker answered it
    channel.received(HEAD + b"0123456789" + HEAD[:5])  # one whole request and the start of another
    assert channel.request_started is not None
    assert not channel.overdue(channel.request_started + 3600)  # a worker is still answering the first
