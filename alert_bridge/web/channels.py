"""The push channels for the operator: what is configured, how its last delivery went, a test.

`GET /api/monitoring/channels` lists them (URLs with their secrets masked) with the last
delivery's result and the backlog; `POST /api/monitoring/channels/<name>/test` queues a test
message through the outbox and tries it at once, answering with the outcome (502 when not sent).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from alert_bridge.notify import fanout
from alert_bridge.notify.context import iso_time
from alert_bridge.store import outbox
from alert_bridge.web import models as m
from alert_bridge.web.contract import Auth, contract
from alert_bridge.web.errors import ApiError
from alert_bridge.web.runtime import bridge
from tradewatch.config import Config, mask_channel_url

bp = Blueprint("channels", __name__)


def channel_list(config: Config, conn: Any) -> list[dict[str, Any]]:
    """Each configured channel for people (API and dashboard): masked URL, filters, last, backlog."""
    last = outbox.last_by_channel(conn)
    backlog = outbox.backlog_by_channel(conn)
    out = []
    for c in config.channels:
        row = last.get(c.name)
        out.append({
            "name": c.name, "service": mask_channel_url(c.url), "severities": list(c.severities),
            "categories": list(c.categories), "send_resolved": c.send_resolved,
            "daily_report": c.daily_report,
            "backlog": backlog.get(c.name, 0),
            "last": None if row is None else {"status": row["status"], "kind": row["kind"],
                                              "at": iso_time(row["at"]), "error": row["error"]},
        })
    return out


@bp.get("/api/monitoring/channels")
@contract(summary="Push channels: masked URL, filters, last delivery and backlog", auth=Auth.READ,
          replies={200: m.ChannelList}, errors=(503,))
def list_channels() -> Any:
    b = bridge()
    return m.ChannelList(channels=channel_list(b.config, b.db.connection())).model_dump(mode="json")


@bp.post("/api/monitoring/channels/<name>/test")
@contract(summary="Send a test message to one channel now; answers with the delivery result",
          auth=Auth.WRITE, path=m.ChannelPath, body=m.ChannelTestRequest, replies={200: m.ChannelTestResult},
          errors=(404, 502, 503),
          description="Queued through the outbox like every notification. 502: not delivered; the "
          "detail is the delivery result with the service's error (secrets masked).")
def send_test(name: str, body: m.ChannelTestRequest) -> Any:
    b = bridge()
    if b.config.channel(name) is None:
        configured = [c.name for c in b.config.channels]
        raise ApiError(404, "no such channel", {"name": name, "configured": configured})
    if b.sender is None:
        raise ApiError(503, "sender not available", "the bridge extra is not installed")
    with b.db.transaction() as conn:
        ids = fanout.enqueue_tests(conn, b.config, now=b.clock(), only=name, note=body.note)
    nid = ids[name]
    result = b.sender.deliver_now(nid)
    out = m.ChannelTestResult(id=nid, channel=name, status=result.status, error=result.error).model_dump(
        mode="json")
    if result.status != "sent":
        raise ApiError(502, "test message not delivered", out)
    return out
