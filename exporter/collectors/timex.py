"""node_timex_*: the kernel's clock discipline state from adjtimex(2) (read-only: modes 0),
through ctypes and the C library, as node_exporter's timex collector computes each value
(offsets in ns or us by STA_NANO, frequencies in scaled ppm, sync_status 0 when adjtimex
returns TIME_ERROR).

Linux only: the BSDs and macOS have ntp_adjtime with another struct, Windows none."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

from exporter.families import counter, gauge
from exporter.metric import Metric

TIME_ERROR = 5
STA_NANO = 0x2000
NANO = 1e9
MICRO = 1e6
PPM16FRAC = 1000000.0 * 65536.0

SYNC = gauge("node_timex_sync_status", "Is clock synchronized to a reliable server (1 = yes, 0 = no).")
OFFSET = gauge("node_timex_offset_seconds", "Time offset in between local system and reference clock.")
FREQ = gauge("node_timex_frequency_adjustment_ratio", "Local clock frequency adjustment.")
MAXERROR = gauge("node_timex_maxerror_seconds", "Maximum error in seconds.")
ESTERROR = gauge("node_timex_estimated_error_seconds", "Estimated error in seconds.")
STATUS = gauge("node_timex_status", "Value of the status array bits.")
CONSTANT = gauge("node_timex_loop_time_constant", "Phase-locked loop time constant.")
TICK = gauge("node_timex_tick_seconds", "Seconds between clock ticks.")
PPSFREQ = gauge("node_timex_pps_frequency_hertz", "Pulse per second frequency.")
JITTER = gauge("node_timex_pps_jitter_seconds", "Pulse per second jitter.")
SHIFT = gauge("node_timex_pps_shift_seconds", "Pulse per second interval duration.")
STABIL = gauge("node_timex_pps_stability_hertz",
               "Pulse per second stability, average of recent frequency changes.")
JITCNT = counter("node_timex_pps_jitter_total", "Pulse per second count of jitter limit exceeded events.")
CALCNT = counter("node_timex_pps_calibration_total", "Pulse per second count of calibration intervals.")
ERRCNT = counter("node_timex_pps_error_total", "Pulse per second count of calibration errors.")
STBCNT = counter("node_timex_pps_stability_exceeded_total",
                 "Pulse per second count of stability limit exceeded events.")
TAI = gauge("node_timex_tai_offset_seconds", "International Atomic Time (TAI) offset.")


class Timex:
    """The fields of struct timex node_exporter reads (a plain record; see `adjtimex()`)."""

    __slots__ = ("calcnt", "constant", "errcnt", "esterror", "freq", "jitcnt", "jitter", "maxerror",
                 "offset", "ppsfreq", "shift", "stabil", "status", "stbcnt", "tai", "tick")

    def __init__(self, **fields: int):
        for name in self.__slots__:
            setattr(self, name, fields.get(name, 0))


def timex_families(state: int, t: Timex) -> list[Metric]:
    """node_exporter's arithmetic, as a pure function of adjtimex's return value and struct."""
    divisor = NANO if t.status & STA_NANO else MICRO
    return [
        SYNC.value(0.0 if state == TIME_ERROR else 1.0),
        OFFSET.value(t.offset / divisor),
        FREQ.value(1 + t.freq / PPM16FRAC),
        MAXERROR.value(t.maxerror / MICRO),
        ESTERROR.value(t.esterror / MICRO),
        STATUS.value(t.status),
        CONSTANT.value(t.constant),
        TICK.value(t.tick / MICRO),
        PPSFREQ.value(t.ppsfreq / PPM16FRAC),
        JITTER.value(t.jitter / divisor),
        SHIFT.value(t.shift),
        STABIL.value(t.stabil / PPM16FRAC),
        JITCNT.value(t.jitcnt),
        CALCNT.value(t.calcnt),
        ERRCNT.value(t.errcnt),
        STBCNT.value(t.stbcnt),
        TAI.value(t.tai),
    ]


class LibcAdjtimex:
    """adjtimex(2) through ctypes: built once (the struct type, the libc handle), called per scrape."""

    def __init__(self) -> None:
        import ctypes

        c_long, c_int = ctypes.c_long, ctypes.c_int

        class TimexStruct(ctypes.Structure):  # <sys/timex.h>, Linux
            _fields_ = [
                ("modes", ctypes.c_uint), ("offset", c_long), ("freq", c_long), ("maxerror", c_long),
                ("esterror", c_long), ("status", c_int), ("constant", c_long), ("precision", c_long),
                ("tolerance", c_long), ("time_sec", c_long), ("time_usec", c_long), ("tick", c_long),
                ("ppsfreq", c_long), ("jitter", c_long), ("shift", c_int), ("stabil", c_long),
                ("jitcnt", c_long), ("calcnt", c_long), ("errcnt", c_long), ("stbcnt", c_long),
                ("tai", c_int), ("_padding", c_int * 11),
            ]

        self._ctypes = ctypes
        self._struct = TimexStruct
        self._libc = ctypes.CDLL(None, use_errno=True)  # the process's own C library
        self._fn = self._libc.adjtimex
        self._fn.argtypes = [ctypes.POINTER(TimexStruct)]
        self._fn.restype = c_int

    def __call__(self) -> tuple[int, Timex]:
        buf = self._struct()  # modes 0: read only, no privilege needed
        state = self._fn(self._ctypes.byref(buf))
        if state == -1:
            err = self._ctypes.get_errno()
            import os

            raise OSError(err, f"adjtimex: {os.strerror(err)}")
        return state, Timex(**{name: getattr(buf, name) for name in Timex.__slots__})


class TimexCollector:
    name = "timex"
    inline = True  # one system call: run in the request thread (see exporter.scrape)

    def __init__(self, adjtimex: Any = None):
        self.adjtimex = adjtimex or LibcAdjtimex()

    def collect(self) -> Iterator[Metric]:
        state, t = self.adjtimex()
        yield from timex_families(state, t)


def build(config: Any) -> TimexCollector | None:
    if not sys.platform.startswith("linux"):
        return None
    return TimexCollector()
