"""The limits of the bridge's HTTP server, on a real waitress channel over a socketpair (the
clock is passed in; the slow-client integration test is tests/bridge/test_bridge_slow_clients.py)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from waitress.adjustments import Adjustments

from alert_bridge.web.server import (
    HEADER_TIMEOUT,
    IDLE_TIMEOUT,
    REQUEST_TIMEOUT,
    SEND_TIMEOUT,
    DeadlineChannel,
)


class _Server:
    """What a channel asks of its server: a place to register, a queue for complete requests."""

    def __init__(self) -> None:
        self.active_channels: dict[int, DeadlineChannel] = {}
        self.tasks: list[DeadlineChannel] = []

    def add_task(self, channel: DeadlineChannel) -> None:
        self.tasks.append(channel)

    def pull_trigger(self) -> None:
        pass


@pytest.fixture
def channel() -> Iterator[DeadlineChannel]:
    ours, theirs = socket.socketpair()
    ch = DeadlineChannel(_Server(), ours, ("127.0.0.1", 1), Adjustments(), map={})
    yield ch
    ch.close()
    for buf in ch.outbufs:
        buf.close()
    theirs.close()


HEAD = b"POST /api/monitoring/webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n"


def test_an_idle_connection_expires_after_the_idle_timeout(channel):
    start = channel.last_activity
    assert not channel.expired(start + IDLE_TIMEOUT - 0.1)
    assert channel.expired(start + IDLE_TIMEOUT + 0.1)


def test_headers_must_be_complete_within_the_header_deadline_however_they_trickle(channel):
    channel.received(HEAD[:20])
    start = channel.request_started
    for i in range(20, 30):  # a byte at a time keeps it from being idle, not from the deadline
        channel.received(HEAD[i:i + 1])
        channel.last_activity = start + (i - 19)
    assert channel.request_started == start
    assert not channel.expired(start + HEADER_TIMEOUT - 0.1)
    assert channel.expired(start + HEADER_TIMEOUT + 0.1)


def test_the_body_must_arrive_within_the_request_deadline(channel):
    channel.received(HEAD + b"{")
    start = channel.request_started
    channel.last_activity = start + REQUEST_TIMEOUT  # still trickling
    assert not channel.expired(start + HEADER_TIMEOUT + 0.1)
    assert channel.expired(start + REQUEST_TIMEOUT + 0.1)


def test_a_request_being_answered_never_expires_and_the_next_one_starts_its_own(channel):
    channel.received(HEAD + b"0123456789")
    assert channel.request_started is None and channel.server.tasks == [channel]
    assert not channel.expired(time.time() + 3600)  # a worker is answering it
    channel.requests.clear()  # the worker answered it
    channel.received(HEAD + b"0123456789" + HEAD[:5])  # one whole request and the start of another
    assert channel.request_started is not None
    assert not channel.expired(channel.request_started + 3600)  # a worker is still answering the first


def test_an_answer_a_slow_client_is_reading_is_not_idle(channel):
    channel.write_soon(b"x" * 20_000_000)  # far more than the socketpair takes: most stays queued
    assert channel.total_outbufs_len > 0
    sent = channel.last_activity  # the flush that got some of it out counts as activity
    assert not channel.expired(sent + IDLE_TIMEOUT + 1)
    assert channel.expired(sent + SEND_TIMEOUT + 0.1)  # ...until the client stops reading
