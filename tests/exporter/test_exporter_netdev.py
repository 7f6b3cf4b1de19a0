"""The netdev collector on Linux: /proc/net/dev from recorded kernels and a network namespace,
against what node_exporter 1.5 served at the same moment, plus malformed files."""

from __future__ import annotations

from pathlib import Path

import pytest

from exporter.collectors.netdev import COLUMNS, NetdevCollector, parse_net_dev
from exporter.filters import NameFilter
from exporter.settings import COLLECTOR_DEFAULTS
from tests.support import prom_text

SYSFS = Path(__file__).resolve().parents[1] / "fixtures" / "exporter" / "sysfs"


def collect(case: str, **kw) -> prom_text.Families:
    root = SYSFS / case
    return prom_text.of(NetdevCollector(proc_net_dev=str(root / "proc/net/dev"),
                                        sys_class_net=str(root / "class/net"), **kw).collect())


def expected(case: str) -> prom_text.Families:
    fams = prom_text.parse((SYSFS / case / "node_exporter-1.5.prom").read_text())
    return {n: f for n, f in fams.items()
            if n.startswith(("node_network_receive_", "node_network_transmit_")) and f[0] == "counter"}


def test_a_network_namespace_matches_node_exporter_exactly_but_for_its_own_scrape():
    # in the namespace only lo moved between node_exporter's scrape and the recording: the
    # scrape itself went over lo
    ours, theirs = collect("linux-6.18-netns"), expected("linux-6.18-netns")
    assert len(theirs) == 17
    lo = (("device", "lo"),)
    for name, (_, _, series) in theirs.items():
        assert ours[name][2][lo] >= series.pop(lo)
        del ours[name][2][lo]
    assert prom_text.differences(ours, theirs) == []


def test_the_vm_matches_node_exporter_with_counters_that_only_moved_forward():
    ours, theirs = collect("linux-6.18-vm"), expected("linux-6.18-vm")
    assert set(ours) == set(theirs)
    for name, (typ, help_text, series) in theirs.items():
        assert (ours[name][0], ours[name][1]) == (typ, help_text)
        assert set(ours[name][2]) == set(series), name
        # the recording was taken just after node_exporter's scrape
        assert all(ours[name][2][k] >= v for k, v in series.items()), name


def test_every_column_with_node_exporter_names_and_values():
    got = collect("linux-4.9-handwritten")
    assert set(got) == {f"node_network_{c}" for c in COLUMNS} | {"node_network_receive_nohandler"}
    eth0 = (("device", "eth0"),)
    want = dict(zip(COLUMNS, (98765432101, 71234567, 3, 7, 1, 2, 0, 123456,
                              12345678901, 9876543, 4, 5, 6, 8, 9, 0), strict=True))
    for column, value in want.items():
        assert got[f"node_network_{column}"][2][eth0] == value, column
    assert got["node_network_receive_bytes"][2][(("device", "wlan0"),)] == 2.0**64 - 1
    devices = {dict(k)["device"] for k in got["node_network_receive_bytes"][2]}
    assert devices == {"eth0", "lo", "docker0", "wlan0"}
    assert all(typ == "counter" for typ, _, _ in got.values())
    # rx_nohandler from sysfs, where the device has the file (docker0 has none here)
    assert got["node_network_receive_nohandler"][2] == {eth0: 17, (("device", "lo"),): 0,
                                                        (("device", "wlan0"),): 0}


def test_without_sysfs_there_is_no_nohandler_family_and_the_rest_is_served():
    got = prom_text.of(NetdevCollector(proc_net_dev=str(SYSFS / "linux-6.18-vm/proc/net/dev"),
                                       sys_class_net=str(SYSFS / "nonexistent")).collect())
    assert set(got) == {f"node_network_{c}" for c in COLUMNS}


def test_no_device_is_excluded_by_default_as_upstream_1_5():
    assert COLLECTOR_DEFAULTS["netdev_device_exclude"] == ""
    got = collect("linux-6.18-vm", device_filter=NameFilter(COLLECTOR_DEFAULTS["netdev_device_include"],
                                                            COLLECTOR_DEFAULTS["netdev_device_exclude"]))
    assert (("device", "lo"),) in got["node_network_receive_bytes"][2]


def test_debians_exclusion_of_lo_as_a_flag():
    got = collect("linux-6.18-vm", device_filter=NameFilter(exclude="^lo$"))
    assert {dict(k)["device"] for k in got["node_network_receive_bytes"][2]} == {"eth0", "ifb0", "ifb1"}


@pytest.mark.parametrize(("name", "message"), [
    ("net-dev-short", "line 3: 10 fields, 16 expected"),
    ("net-dev-letters", "line 3: not an unsigned integer"),
    ("net-dev-no-colon", "line 3: no colon"),
])
def test_a_malformed_file_fails_naming_the_file_and_line(name, message):
    path = str(SYSFS / "malformed/proc" / name)
    with pytest.raises(ValueError, match=message) as err:
        list(NetdevCollector(proc_net_dev=path).collect())
    assert path in str(err.value)


def test_a_truncated_file_has_no_interfaces():
    assert parse_net_dev((SYSFS / "malformed/proc/net-dev-truncated").read_text()) == []


def test_a_missing_file_fails_the_collector():
    with pytest.raises(FileNotFoundError):
        list(NetdevCollector(proc_net_dev=str(SYSFS / "nonexistent")).collect())
