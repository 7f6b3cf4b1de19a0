"""The host cards in Chromium at 1280 and 390 px with filesystems at 85, 94, 98 and 100 %
(real tmpfs mounts, a real exporter and Prometheus): values coloured by the configured
thresholds, every mount path readable in full, nothing past a card's edge, rates on one line.
Screenshots stay in tests/artifacts/ (dashboard-levels-desktop.png, dashboard-levels-phone.png).
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.support.dashboard import DashboardStack, chromium_page, dashboard_stack
from tests.support.tmpfs import fill, tmpfs

pytestmark = [pytest.mark.browser, pytest.mark.integration]

THRESHOLDS = {"disk_percent": {"warning": 80, "critical": 90, "emergency": 97}}
# mount name -> percent used; the names differ only at the end, after a long shared prefix
FILLS = {"orders-archive-primary": 85, "orders-archive-replica": 94, "orders-journal-a": 98,
         "orders-journal-b": 100}
EXPECTED = {85: "warning", 94: "critical", 98: "emergency", 100: "emergency"}
SIZE = 8 * 1024 * 1024


def _fill_to(path: Path, percent: int) -> None:
    if percent >= 100:
        fill(path)
        return
    (path / "filler").write_bytes(b"\0" * int(SIZE * percent / 100))


@pytest.fixture(scope="module")
def mounts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    root = tmp_path_factory.mktemp("mounts")
    with contextlib.ExitStack() as stack:
        paths = {}
        for name, percent in FILLS.items():
            path = stack.enter_context(tmpfs(root / name, "8m"))
            _fill_to(path, percent)
            paths[name] = path
        yield paths


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, mounts: dict[str, Path]) -> Iterator[DashboardStack]:
    with dashboard_stack(tmp_path_factory.mktemp("dashboard"), thresholds=THRESHOLDS) as s:
        yield s


@pytest.fixture(scope="module")
def page(stack: DashboardStack) -> Iterator[Any]:
    with chromium_page() as p:
        yield p


# every element of every host card inside the card; the page no wider than the window
OVERFLOW = """() => {
  const out = [];
  if (document.documentElement.scrollWidth > window.innerWidth) {
    out.push('page ' + document.documentElement.scrollWidth + ' > ' + window.innerWidth);
  }
  document.querySelectorAll('article.host').forEach((card) => {
    const box = card.getBoundingClientRect();
    card.querySelectorAll('*').forEach((e) => {
      const r = e.getBoundingClientRect();
      if (r.width && (r.right > box.right + 0.5 || r.left < box.left - 0.5)) {
        out.push((e.className.baseVal ?? e.className) + ' ' + (e.textContent || '').slice(0, 40)
                 + ': ' + r.left.toFixed(1) + '..' + r.right.toFixed(1) + ' outside '
                 + box.left.toFixed(1) + '..' + box.right.toFixed(1));
      }
    });
  });
  return out;
}"""

# values and mount names on the lines they need, nothing clipped
LINES = """() => {
  const out = [];
  document.querySelectorAll('article.host .metric').forEach((m) => {
    const v = m.querySelector('.value');
    const range = document.createRange();
    range.selectNodeContents(v);
    const lines = new Set(Array.from(range.getClientRects()).map((r) => Math.round(r.top)));
    if (lines.size > 1) { out.push('wraps: ' + v.textContent); }
    const dt = m.querySelector('dt');
    if (dt.scrollWidth > dt.clientWidth + 1 || dt.scrollHeight > dt.clientHeight + 1) {
      out.push('clipped: ' + dt.textContent);
    }
  });
  return out;
}"""


def _check(page: Any, stack: DashboardStack, mounts: dict[str, Path], width: int, shot: Path) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    host = page.locator(f'article.host[data-instance="{stack.instance}"]')
    for name, path in mounts.items():
        row = host.locator(f'[data-metric="filesystem"][data-mount="{path}"]')
        expect(row.locator("dt")).to_have_text(f"Disk {path}")
        expect(row.locator(".value")).to_have_class(f"value level-{EXPECTED[FILLS[name]]}")
        used = float(row.locator(".value").inner_text().rstrip("%"))
        assert abs(used - FILLS[name]) < 1.5, (name, used)
    # the widest rate the page writes must stay on one line: put it in every value cell
    page.screenshot(path=str(shot), full_page=True, animations="disabled")
    assert page.evaluate(OVERFLOW) == []
    assert page.evaluate(LINES) == []
    page.evaluate("() => document.querySelectorAll('article.host .value').forEach("
                  "(v) => { v.textContent = '1023.9 kB/s'; })")
    assert page.evaluate(OVERFLOW) == []
    assert page.evaluate(LINES) == []


def test_filesystems_by_threshold_and_nothing_overflows(page: Any, stack: DashboardStack,
                                                         mounts: dict[str, Path], artifacts: Path) -> None:
    page.goto(f"{stack.bridge.url}/?window=1m")
    expect(page.locator("#metrics-source")).to_contain_text("From Prometheus", timeout=30_000)
    host = page.locator(f'article.host[data-instance="{stack.instance}"]')
    # the card names the host (node_uname_info's nodename) with the address as detail
    expect(host.locator(".host-name")).to_have_text(socket.gethostname())
    expect(host.locator(".host-address")).to_have_text(stack.instance)
    # the refresh redraws the cards (the script's markup, not only the first paint)
    page.wait_for_function("() => document.querySelector('article.host path.spark-line') !== null")
    for width, name in ((1280, "desktop"), (390, "phone")):
        page.reload()
        page.wait_for_function("() => document.querySelector('article.host path.spark-line') !== null")
        _check(page, stack, mounts, width, artifacts / f"dashboard-levels-{name}.png")
