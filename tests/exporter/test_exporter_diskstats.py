"""The diskstats collector on Linux: /proc/diskstats of several kernel generations, udev data,
node_exporter 1.5's default exclusion, and malformed files, against what node_exporter 1.5
served at the moment of recording."""

from __future__ import annotations

from pathlib import Path

import pytest

from exporter.collectors.diskstats import COLUMNS, DiskstatsCollector
from exporter.filters import NameFilter
from exporter.settings import COLLECTOR_DEFAULTS
from tests.support import prom_text

SYSFS = Path(__file__).resolve().parents[1] / "fixtures" / "exporter" / "sysfs"
DEFAULT = NameFilter(COLLECTOR_DEFAULTS["diskstats_device_include"],
                     COLLECTOR_DEFAULTS["diskstats_device_exclude"])
NAMES = [name.removesuffix("_total") for name, *_ in COLUMNS]


def collect(case: str, keep: NameFilter = DEFAULT) -> prom_text.Families:
    root = SYSFS / case
    return prom_text.of(DiskstatsCollector(keep, proc_diskstats=str(root / "proc/diskstats"),
                                           udev_data=str(root / "udev/data")).collect())


def devices(fams: prom_text.Families, name: str = "node_disk_info") -> set[str]:
    return {dict(k)["device"] for k in fams[name][2]}


def test_the_vm_matches_node_exporter_with_counters_that_only_moved_forward():
    ours = collect("linux-6.18-vm")
    recorded = prom_text.parse((SYSFS / "linux-6.18-vm/node_exporter-1.5.prom").read_text())
    theirs = {n: f for n, f in recorded.items() if n.startswith("node_disk_")}
    assert set(ours) == set(theirs) == {*NAMES, "node_disk_info"}
    assert ours["node_disk_info"] == theirs["node_disk_info"]  # major, minor and empty udev labels
    for name, (typ, help_text, series) in theirs.items():
        assert (ours[name][0], ours[name][1]) == (typ, help_text), name
        assert set(ours[name][2]) == set(series), name
        if typ == "counter":  # recorded just after node_exporter's scrape
            assert all(ours[name][2][k] >= v for k, v in series.items()), name


def test_units_sectors_to_bytes_milliseconds_to_seconds_discarded_sectors_stay_sectors():
    got = collect("linux-6.18-vm")
    vda = (("device", "vda"),)
    # 254 0 vda 47063 10621 4686370 13211 52828 176684 15845232 110623 0 14892 127647
    #           23746 34 2458072 2935 9753 876
    assert got["node_disk_reads_completed"][2][vda] == 47063
    assert got["node_disk_read_bytes"][2][vda] == 4686370 * 512
    assert got["node_disk_read_time_seconds"][2][vda] == pytest.approx(13.211)
    assert got["node_disk_written_bytes"][2][vda] == 15845232 * 512
    assert got["node_disk_io_now"][0] == "gauge" and got["node_disk_io_now"][2][vda] == 0
    assert got["node_disk_io_time_weighted_seconds"][2][vda] == pytest.approx(127.647)
    assert got["node_disk_discarded_sectors"][2][vda] == 2458072
    assert got["node_disk_discard_time_seconds"][2][vda] == pytest.approx(2.935)
    assert got["node_disk_flush_requests"][2][vda] == 9753
    assert got["node_disk_flush_requests_time_seconds"][2][vda] == pytest.approx(0.876)


def test_the_default_exclusion_is_1_5s_partitions_loop_and_ram_but_not_zram():
    assert devices(collect("linux-6.18-vm")) == {"vda", "zram0"}
    assert devices(collect("linux-4.19-handwritten")) == {"nvme0n1", "zram0"}
    assert devices(collect("linux-4.9-handwritten")) == {"sda", "dm-0", "sr0"}


def test_the_families_follow_the_kernels_field_count():
    # kernel < 4.18: 11 counters, no discards, no flushes
    old = collect("linux-4.9-handwritten")
    assert set(old) - {"node_disk_info", "node_disk_filesystem_info", "node_disk_device_mapper_info"} - {
        "node_disk_ata_write_cache", "node_disk_ata_write_cache_enabled", "node_disk_ata_rotation_rate_rpm"
    } == set(NAMES[:11])
    # 4.18 - 5.4: discards but no flushes
    assert set(collect("linux-4.19-handwritten")) == {*NAMES[:15], "node_disk_info"}
    # the 4-counter partition line of old kernels is skipped, not an error
    keep_all = NameFilter()
    assert "sda2" not in devices(collect("linux-4.9-handwritten", keep_all))
    assert "sda1" in devices(collect("linux-4.9-handwritten", keep_all))


def test_udev_properties_fill_info_filesystem_device_mapper_and_ata():
    got = collect("linux-4.9-handwritten")
    assert got["node_disk_info"][2][(
        ("device", "sda"), ("major", "8"), ("minor", "0"), ("model", "Samsung_SSD_850_EVO_250GB"),
        ("path", "pci-0000:00:1f.2-ata-1"), ("revision", "EMT02B6Q"), ("serial", "S21PNXAG123456X"),
        ("wwn", "0x5002538d00000000"))] == 1
    assert (("device", "sr0"), ("major", "11"), ("minor", "0"), ("model", ""), ("path", ""),
            ("revision", ""), ("serial", ""), ("wwn", "")) in got["node_disk_info"][2]
    assert got["node_disk_filesystem_info"][2] == {(
        ("device", "dm-0"), ("type", "ext4"), ("usage", "filesystem"),
        ("uuid", "0b0c5a8e-1d2f-4c57-9b8e-6a7f1c2d3e4f"), ("version", "1.0")): 1}
    assert got["node_disk_device_mapper_info"][2] == {(
        ("device", "dm-0"), ("lv_layer", ""), ("lv_name", "root"), ("name", "vg0-root"),
        ("uuid", "LVM-abcdefabcdefabcdefabcdefabcdefabcdefabcdef"), ("vg_name", "vg0")): 1}
    sda = (("device", "sda"),)
    assert got["node_disk_ata_write_cache"][2] == {sda: 1}
    assert got["node_disk_ata_write_cache_enabled"][2] == {sda: 1}
    assert got["node_disk_ata_rotation_rate_rpm"][2] == {sda: 0}


def test_a_non_numeric_field_fails_naming_the_file_and_line():
    path = str(SYSFS / "malformed/proc/diskstats")
    with pytest.raises(ValueError, match="line 2: not an unsigned integer") as err:
        list(DiskstatsCollector(proc_diskstats=path).collect())
    assert path in str(err.value)


def test_a_missing_file_fails_the_collector():
    with pytest.raises(FileNotFoundError):
        list(DiskstatsCollector(proc_diskstats=str(SYSFS / "nonexistent")).collect())
