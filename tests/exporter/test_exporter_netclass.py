"""The netclass collector: /sys/class/net recorded on this VM and in a network namespace (with
the attribute reads that failed replayed as the same errors), compared with what node_exporter
1.5 served at the same moment; older kernels; malformed values; unreadable attributes."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from exporter.collectors.netclass import (
    NUMERIC_ATTRIBUTES,
    NetclassCollector,
    PsutilNetclassCollector,
    parse_go_int,
    read_attribute,
)
from exporter.filters import NameFilter
from exporter.settings import COLLECTOR_DEFAULTS
from tests.support import prom_text
from tests.support.sysfs_fixture import replay_raw

SYSFS = Path(__file__).resolve().parents[1] / "fixtures" / "exporter" / "sysfs"
DEFAULT = NameFilter(exclude=COLLECTOR_DEFAULTS["netclass_ignored_devices"])
NETDEV = ("node_network_receive_", "node_network_transmit_")  # the netdev collector's, not ours


def collect(case: str, keep: NameFilter = DEFAULT) -> prom_text.Families:
    return prom_text.of(NetclassCollector(str(SYSFS / case / "class/net"), keep, raw=replay_raw).collect())


def expected(case: str) -> prom_text.Families:
    fams = prom_text.parse((SYSFS / case / "node_exporter-1.5.prom").read_text())
    return {n: f for n, f in fams.items() if n.startswith("node_network_") and not
            (n.startswith(NETDEV) and f[0] == "counter" and n != "node_network_transmit_queue_length")}


@pytest.mark.parametrize("case", ["linux-6.18-vm", "linux-6.18-netns"])
def test_recorded_sysfs_gives_what_node_exporter_served(case):
    # names, types, help texts, label sets and values: speed EINVAL on lo and ifb, -1 on the VM's
    # virtio NIC (-125000), duplex/carrier/dormant unreadable on devices that are down
    assert prom_text.differences(collect(case), expected(case)) == []


def test_the_vm_recording_covers_every_family():
    got = collect("linux-6.18-vm")
    assert set(got) == {"node_network_up", "node_network_info",
                        *(spec.name for _, spec in NUMERIC_ATTRIBUTES)}


def test_an_older_kernel_physical_nics_and_unreadable_attributes():
    got = collect("linux-4.9-handwritten")
    # bonding_masters is a regular file, not an interface
    assert {dict(k)["device"] for k in got["node_network_up"][2]} == {"eth0", "eth1", "lo", "wlan0"}

    def value(name: str, device: str) -> float | None:
        return got[name][2].get((("device", device),)) if name in got else None

    assert value("node_network_speed_bytes", "eth0") == 125_000_000  # 1000 Mbit/s
    assert value("node_network_speed_bytes", "eth1") == -125_000  # -1: unknown, still exported by 1.5
    assert value("node_network_speed_bytes", "lo") is None  # EINVAL
    assert value("node_network_speed_bytes", "wlan0") is None
    assert value("node_network_carrier", "wlan0") is None
    assert value("node_network_flags", "eth0") == 0x1003
    assert value("node_network_up", "eth0") == 1 and value("node_network_up", "wlan0") == 0
    assert value("node_network_name_assign_type", "lo") is None
    # before 4.16 there are no carrier up/down counts: no family at all
    assert "node_network_carrier_up_changes" not in got
    assert "node_network_carrier_down_changes" not in got
    assert got["node_network_carrier_changes"][0] == "counter"
    assert got["node_network_info"][2][(
        ("address", "00:1b:21:3a:4f:5f"), ("broadcast", "ff:ff:ff:ff:ff:ff"), ("device", "eth1"),
        ("duplex", "unknown"), ("ifalias", "spare port"), ("operstate", "down"))] == 1
    assert (("address", "60:57:18:aa:bb:cc"), ("broadcast", "ff:ff:ff:ff:ff:ff"), ("device", "wlan0"),
            ("duplex", ""), ("ifalias", ""), ("operstate", "dormant")) in got["node_network_info"][2]


def test_values_go_cannot_parse_are_skipped_like_unreadable_ones():
    got = collect("malformed")
    eth0 = (("device", "eth0"),)
    for family in ("node_network_mtu_bytes", "node_network_speed_bytes", "node_network_flags",
                   "node_network_transmit_queue_length"):
        assert family not in got  # abc, empty, 0x, 2**63
    assert got["node_network_protocol_type"][2] == {eth0: 8}  # 010 is octal for Go's ParseInt(s, 0, 64)
    assert got["node_network_device_id"][2] == {eth0: 31}
    assert got["node_network_up"][2] == {eth0: 1}
    assert got["node_network_info"][2] == {(("address", ""), ("broadcast", ""), ("device", "eth0"),
                                            ("duplex", ""), ("ifalias", ""), ("operstate", "up")): 1}


def test_an_unexpected_read_error_fails_the_collector_naming_the_file():
    with pytest.raises(OSError, match=r"cannot read .*malformed-eio/class/net/eth9/carrier") as err:
        collect("malformed-eio")
    assert err.value.errno == errno.EIO


def test_a_missing_class_net_fails_the_collector_naming_it():
    with pytest.raises(OSError, match=r"cannot list .*nonexistent"):
        list(NetclassCollector(str(SYSFS / "nonexistent")).collect())


def test_the_ignored_devices_pattern():
    got = collect("linux-4.9-handwritten", NameFilter(exclude="^(lo|wlan.*)$"))
    assert {dict(k)["device"] for k in got["node_network_up"][2]} == {"eth0", "eth1"}


@pytest.mark.parametrize(("text", "value"), [
    ("0", 0), ("1500", 1500), ("-1", -1), ("+7", 7), ("0x1003", 4099), ("0X1f", 31), ("010", 8),
    ("0o17", 15), ("0b101", 5), ("9223372036854775807", 2**63 - 1), ("-9223372036854775808", -2**63),
    ("9223372036854775808", None), ("", None), ("abc", None), ("0x", None), ("08", None),
    ("1_000", None), (" 1", None), ("1.5", None), ("--1", None), ("٣", None),
])
def test_parse_go_int_is_strconv_parseint_base_0(text, value):
    assert parse_go_int(text) == value


@pytest.mark.parametrize("code", [errno.ENOENT, errno.EACCES, errno.EPERM, errno.EINVAL, errno.EOPNOTSUPP])
def test_the_errors_node_exporter_skips(code):
    def raw(path: str) -> bytes:
        raise OSError(code, "x")

    assert read_attribute("/sys/class/net/x/speed", raw) is None


def test_the_real_sysfs_on_this_machine_reads_without_error():
    got = prom_text.of(NetclassCollector().collect())
    assert (("device", "lo"),) in got["node_network_up"][2]
    assert got["node_network_mtu_bytes"][2][(("device", "lo"),)] == 65536


def test_off_linux_psutil_gives_mtu_and_known_speeds_only():
    from collections import namedtuple
    from types import SimpleNamespace

    stats = namedtuple("snicstats", "isup duplex speed mtu flags")
    ps = SimpleNamespace(net_if_stats=lambda: {"en0": stats(True, 2, 1000, 1500, "up"),
                                               "lo0": stats(True, 0, 0, 16384, "up,loopback")})
    got = prom_text.of(PsutilNetclassCollector(ps).collect())
    assert got == {
        "node_network_mtu_bytes": ("gauge", "Network device property: mtu_bytes",
                                   {(("device", "en0"),): 1500, (("device", "lo0"),): 16384}),
        "node_network_speed_bytes": ("gauge", "Network device property: speed_bytes",
                                     {(("device", "en0"),): 125_000_000}),  # lo0's 0 is "unknown"
    }
