"""When the daily report is due: pure functions over (now, time zone, HH:MM, what was sent).

Semantics (docs/report.md):
- The report is scheduled at `intervals.daily_report` local time of `report.timezone` each
  local day. On a DST day the wall-clock time may not exist (spring forward: 02:30 in
  America/New_York on the March change day) -> the send time is the local time
  shifted forward by the size of the gap (02:30 local
  becomes 03:30). When it is ambiguous (fall back, it happens twice) -> the first occurrence
  (fold=0). Both rules are deterministic.
- A report is "due" when now is at or after today's send time and today's scheduled report has
  not been claimed yet; the claim itself (store/reports.py) guarantees one per local date.
- Catch-up after downtime: on start, if today's send time has passed, today's report was not
  sent, and the database already existed before today's send time, one catch-up is sent. A
  brand-new install (database created after the send time) waits for tomorrow.
- Yesterday's missed report is never sent late on another day: it would be stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def parse_hhmm(text: str) -> time:
    hh, mm = text.split(":")
    return time(int(hh), int(mm))


def _exists(local: datetime) -> bool:
    """A naive local time exists in tz when a UTC round trip gives it back."""
    back = local.astimezone(UTC).astimezone(local.tzinfo)
    return back.replace(tzinfo=None) == local.replace(tzinfo=None)


def send_time(day: date, at: str | time, tz: str | ZoneInfo) -> datetime:
    """The scheduled send instant (aware, UTC) of the local date `day`."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    t = parse_hhmm(at) if isinstance(at, str) else at
    # PEP 495: with fold=0 a time inside a spring-forward gap is mapped with the offset before
    # the change, which lands after the gap (02:30 -> 03:30 local); an ambiguous time maps to
    # its first occurrence. Both are exactly the documented rules.
    local = datetime.combine(day, t, tzinfo=zone).replace(fold=0)
    return local.astimezone(UTC)


def exists_locally(day: date, at: str | time, tz: str | ZoneInfo) -> bool:
    """False when `at` falls in the day's spring-forward gap (for messages and tests)."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    t = parse_hhmm(at) if isinstance(at, str) else at
    return _exists(datetime.combine(day, t, tzinfo=zone))


def local_date(now: datetime, tz: str | ZoneInfo) -> date:
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    return _aware(now).astimezone(zone).date()


def _aware(dt: datetime) -> datetime:
    if dt.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware")
    return dt


def next_send(now: datetime, at: str | time, tz: str | ZoneInfo) -> datetime:
    """The first scheduled send instant strictly after `now` (UTC)."""
    day = local_date(now, tz)
    for offset in range(3):
        candidate = send_time(day + timedelta(days=offset), at, tz)
        if candidate > _aware(now):
            return candidate
    raise AssertionError("unreachable: a send time exists within three days")


@dataclass(frozen=True)
class Decision:
    send: bool
    day: date  # the local report date concerned
    reason: str
    catch_up: bool = False


def decide(
    now: datetime,
    at: str | time,
    tz: str | ZoneInfo,
    *,
    already_sent: bool,
    db_created_at: datetime | None,
    started_at: datetime | None = None,
) -> Decision:
    """Whether the scheduled report of today's local date should be sent now.

    `already_sent`: today's scheduled claim exists. `db_created_at`: when the bridge's
    database was first created (None: unknown, treated as brand new). `started_at`: when this
    process started; a send found due by a process that started after the send time is a
    catch-up, and needs the database to predate the send time.
    """
    now = _aware(now)
    day = local_date(now, tz)
    due_at = send_time(day, at, tz)
    if now < due_at:
        return Decision(False, day, f"not yet: scheduled for {due_at.isoformat()}")
    if already_sent:
        return Decision(False, day, "already sent today")
    catch_up = started_at is not None and _aware(started_at) > due_at
    if db_created_at is None or _aware(db_created_at) >= due_at:
        return Decision(False, day, "new install: the database did not exist at today's send time")
    if catch_up:
        return Decision(True, day, "catch-up: the bridge was down at the send time", catch_up=True)
    return Decision(True, day, "scheduled")


def date_problem(day: date | None, today: date, max_days_back: int) -> str | None:
    """Why a requested report date cannot be reported on (future, or older than the metrics)."""
    if day is None:
        return None
    if day > today:
        return f"date is in the future (today is {today.isoformat()})"
    if (today - day).days > max_days_back:
        return (f"date is more than {max_days_back} days ago (retention.metrics_days): "
                "Prometheus no longer has its data")
    return None
