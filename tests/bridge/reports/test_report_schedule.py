"""Daily report schedule: time zones, DST days, missed runs, already sent, brand-new installs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from alert_bridge.reports.schedule import decide, exists_locally, local_date, next_send, send_time


def utc(*a: int) -> datetime:
    return datetime(*a, tzinfo=UTC)


def test_default_0900_utc():
    assert send_time(date(2026, 11, 25), "09:00", "UTC") == utc(2026, 11, 25, 9, 0)
    assert next_send(utc(2026, 11, 25, 8, 59), "09:00", "UTC") == utc(2026, 11, 25, 9, 0)
    assert next_send(utc(2026, 11, 25, 9, 0), "09:00", "UTC") == utc(2026, 11, 26, 9, 0)


def test_other_zone_and_local_date():
    # Tokyo is UTC+9 all year: 09:00 JST is 00:00 UTC
    assert send_time(date(2026, 6, 1), "09:00", "Asia/Tokyo") == utc(2026, 6, 1, 0, 0)
    # 23:30 UTC on May 31 is already June 1 in Tokyo
    assert local_date(utc(2026, 5, 31, 23, 30), "Asia/Tokyo") == date(2026, 6, 1)
    assert next_send(utc(2026, 5, 31, 23, 30), "09:00", "Asia/Tokyo") == utc(2026, 6, 1, 0, 0)


def test_london_dst_offsets_around_the_change():
    # winter (GMT) and summer (BST) both send at 09:00 local
    assert send_time(date(2026, 3, 28), "09:00", "Europe/London") == utc(2026, 3, 28, 9)
    assert send_time(date(2026, 3, 29), "09:00", "Europe/London") == utc(2026, 3, 29, 8)
    assert send_time(date(2026, 10, 25), "09:00", "Europe/London") == utc(2026, 10, 25, 9)
    # the day is 23 hours long on the spring change: next_send crosses it correctly
    assert next_send(utc(2026, 3, 28, 9, 0), "09:00", "Europe/London") == utc(2026, 3, 29, 8)


def test_london_nonexistent_and_ambiguous_times():
    # 01:30 does not exist on 2026-03-29 in London: sent at 02:30 BST (01:30 UTC)
    assert not exists_locally(date(2026, 3, 29), "01:30", "Europe/London")
    assert send_time(date(2026, 3, 29), "01:30", "Europe/London") == utc(2026, 3, 29, 1, 30)
    # 01:30 happens twice on 2026-10-25: the first one (BST, 00:30 UTC)
    assert exists_locally(date(2026, 10, 25), "01:30", "Europe/London")
    assert send_time(date(2026, 10, 25), "01:30", "Europe/London") == utc(2026, 10, 25, 0, 30)


def test_new_york_dst_day():
    # spring forward 2026-03-08 02:00 EST -> 03:00 EDT: 02:30 is shifted to 03:30 EDT
    assert not exists_locally(date(2026, 3, 8), "02:30", "America/New_York")
    assert send_time(date(2026, 3, 8), "02:30", "America/New_York") == utc(2026, 3, 8, 7, 30)
    assert send_time(date(2026, 3, 8), "09:00", "America/New_York") == utc(2026, 3, 8, 13)
    assert send_time(date(2026, 3, 7), "09:00", "America/New_York") == utc(2026, 3, 7, 14)
    # fall back 2026-11-01: 01:30 happens twice, the first (EDT) is used
    assert send_time(date(2026, 11, 1), "01:30", "America/New_York") == utc(2026, 11, 1, 5, 30)
    # exactly one send per local day across the change
    t = utc(2026, 10, 31, 12)
    sends = []
    for _ in range(4):
        t = next_send(t, "01:30", "America/New_York")
        sends.append(t)
    days = [local_date(s, "America/New_York") for s in sends]
    assert days == [date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3), date(2026, 11, 4)]


OLD_DB = utc(2026, 1, 1)


def test_not_yet_then_due():
    d = decide(utc(2026, 11, 25, 8, 59), "09:00", "UTC", already_sent=False, db_created_at=OLD_DB)
    assert not d.send and d.reason.startswith("not yet")
    d = decide(utc(2026, 11, 25, 9, 0), "09:00", "UTC", already_sent=False, db_created_at=OLD_DB,
               started_at=utc(2026, 11, 25, 1))
    assert d.send and not d.catch_up and d.day == date(2026, 11, 25)


def test_already_sent():
    d = decide(utc(2026, 11, 25, 9, 1), "09:00", "UTC", already_sent=True, db_created_at=OLD_DB)
    assert not d.send and d.reason == "already sent today"


def test_missed_run_catch_up_same_day():
    d = decide(utc(2026, 11, 25, 14), "09:00", "UTC", already_sent=False, db_created_at=OLD_DB,
               started_at=utc(2026, 11, 25, 13, 59))
    assert d.send and d.catch_up


def test_missed_run_not_sent_next_day():
    # down through yesterday's send time, back up today before today's send time: nothing now
    d = decide(utc(2026, 11, 26, 8), "09:00", "UTC", already_sent=False, db_created_at=OLD_DB,
               started_at=utc(2026, 11, 26, 7, 59))
    assert not d.send and d.day == date(2026, 11, 26)


def test_brand_new_install_does_not_catch_up():
    created = utc(2026, 11, 25, 10)
    d = decide(created + timedelta(seconds=5), "09:00", "UTC", already_sent=False,
               db_created_at=created, started_at=created)
    assert not d.send and "new install" in d.reason
    # ... and sends normally the next day
    d = decide(utc(2026, 11, 26, 9), "09:00", "UTC", already_sent=False, db_created_at=created,
               started_at=created)
    assert d.send and not d.catch_up


def test_install_before_send_time_sends_today():
    created = utc(2026, 11, 25, 8)
    d = decide(utc(2026, 11, 25, 9), "09:00", "UTC", already_sent=False, db_created_at=created,
               started_at=created)
    assert d.send


def test_catch_up_in_other_time_zone_uses_local_day():
    # 09:00 Tokyo = 00:00 UTC; at 14:00 UTC it is 23:00 in Tokyo, still the same local day
    d = decide(utc(2026, 6, 1, 14), "09:00", "Asia/Tokyo", already_sent=False, db_created_at=OLD_DB,
               started_at=utc(2026, 6, 1, 13))
    assert d.send and d.catch_up and d.day == date(2026, 6, 1)


def test_naive_datetimes_rejected():
    with pytest.raises(ValueError, match="timezone-aware"):
        decide(datetime(2026, 1, 1, 9), "09:00", "UTC", already_sent=False, db_created_at=OLD_DB)
