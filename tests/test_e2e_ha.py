"""End to end with an Alertmanager HA pair: two clustered instances, Prometheus alerting both,
both delivering to the bridge; still exactly one email per alert (firing and resolved).

The pair runs with a tiny `--cluster.peer-timeout`, so the second instance does not wait for
the first one's notification log to gossip over and delivers too: the bridge really receives
every notification twice and must deduplicate (the test checks both instances did deliver).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.support.procs import wait_until
from tests.support.stack import E2EStack, ProbeTarget, e2e_stack, text_of
from tradewatch import metric_names as mn

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2EStack]:
    probes = {"orders-api": ProbeTarget()}
    # the Watchdog repeats rarely here, so the instances' webhook counters count our alert
    with e2e_stack(tmp_path_factory.mktemp("e2e-ha"), probes, alertmanagers=2,
                   alerting={"watchdog_repeat_interval": "1h"}) as s:
        wait_until(lambda: all(len(s.am_get(i, "status")["cluster"]["peers"]) == 2 for i in (0, 1)), 30,
                   what="the two Alertmanagers to form a cluster")
        wait_until(lambda: s.query(f'{mn.PROBE_SUCCESS}{{probe="orders-api"}} == 1'), 30)
        yield s


def _sent(stack: E2EStack, i: int) -> float:
    return stack.am_metric(i, "alertmanager_notifications_total", integration="webhook")


def test_ha_pair_both_delivering_still_one_email_per_alert(stack: E2EStack) -> None:
    # quiet start: the first Watchdog notifications are out of the way
    time.sleep(2)
    sent_before = [_sent(stack, 0), _sent(stack, 1)]
    stack.probes["orders-api"].down()
    for i in (0, 1):
        wait_until(lambda i=i: _sent(stack, i) > sent_before[i], 30,
                   what=f"Alertmanager {i} to deliver the alert to the bridge")
    wait_until(lambda: [m for m in stack.emails("firing", "ProbeFailing") if "orders-api" in text_of(m)], 30)

    stack.probes["orders-api"].up()
    wait_until(lambda: [m for m in stack.emails("resolved", "ProbeFailing") if "orders-api" in text_of(m)],
               30, what="the resolved email")
    time.sleep(4)  # both instances flush again every group interval: nothing more may arrive

    firing = [m for m in stack.emails("firing", "ProbeFailing") if "orders-api" in text_of(m)]
    resolved = [m for m in stack.emails("resolved", "ProbeFailing") if "orders-api" in text_of(m)]
    assert len(firing) == 1 and len(resolved) == 1, [m["Subject"] for m in firing + resolved]
    assert resolved[0]["In-Reply-To"] == firing[0]["Message-ID"]
    # and the bridge really was sent each state by both instances
    delivered = [_sent(stack, i) - sent_before[i] for i in (0, 1)]
    assert all(d >= 2 for d in delivered), delivered
