"""Business hours: the part of each day in which a shop's service-level clock runs.

Pure time arithmetic, no database: ``BusinessHours`` is one daily window in a time zone
(default ``settings.DESK_BUSINESS_HOURS``, 09:00-24:00 Asia/Shanghai; a shop may have its
own, ``Shop.service_opens_at`` / ``service_closes_at``), ``add_business_time`` moves an aware
time forward by an amount of business time and ``business_time_between`` measures the
business time between two aware times. They are each other's inverse
(``business_time_between(t, add_business_time(t, d)) == d``). Outside the window the clock
stands still: the night shift's handover (夜班交接) carries the night's work to the morning
(issue 13 section 3; DOMAIN.md "The daily routine" 1).

Business hours are whole minutes, and a working day is at least ``MIN_WINDOW_MINUTES`` (one
hour) long: the shop's form, the database constraint ``shop_service_hours_valid`` and
``BusinessHours`` all hold that one rule, so a window that is stored is a window the clock
can run in (a 09:00:10-09:00:50 day had no minute in it, and a 23:59:30-00:00 one put a
72-hour resolution twelve years away).
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.conf import settings

DAY_MINUTES = 24 * 60
# The shortest working day a shop may have, in minutes: anything shorter is a typing mistake
# (seconds typed as minutes, a close one minute after the opening), not a way of working.
MIN_WINDOW_MINUTES = 60


def minute_of_day(value: time) -> int | None:
    """Minutes after midnight of a wall-clock time, or None when the time has seconds or
    microseconds (business hours are whole minutes)."""
    if value.second or value.microsecond:
        return None
    return value.hour * 60 + value.minute


@dataclass(frozen=True)
class BusinessHours:
    """A daily window ``[opens, closes)`` in whole minutes after local midnight, in ``tz``:
    0 <= opens, opens + MIN_WINDOW_MINUTES <= closes <= 1440 (1440 is 24:00, the midnight
    that ends the day). The same window every day of the week. Raises ``ValueError`` for any
    other window."""

    opens: int
    closes: int
    tz: tzinfo

    def __post_init__(self):
        if not (
            isinstance(self.opens, int)
            and isinstance(self.closes, int)
            and self.opens >= 0
            and self.opens + MIN_WINDOW_MINUTES <= self.closes <= DAY_MINUTES
        ):
            raise ValueError(
                "business hours must be whole minutes, 00:00 <= opens, and close at least "
                f"{MIN_WINDOW_MINUTES} minutes after opening, by 24:00: {self}"
            )

    @classmethod
    def from_times(cls, opens: time, closes: time, tz: tzinfo) -> "BusinessHours":
        """From two wall-clock times in whole minutes; ``closes`` 00:00 means midnight at the
        end of the day (24:00), so 00:00-00:00 is the whole day. Raises ``ValueError`` for a
        time with seconds (never rounded away: 09:00:10-09:00:50 is not a day of no
        minutes) and for a window the class refuses."""
        opens_minute, closes_minute = minute_of_day(opens), minute_of_day(closes)
        if opens_minute is None or closes_minute is None:
            raise ValueError(f"business hours are whole minutes: {opens}-{closes}")
        return cls(opens_minute, closes_minute or DAY_MINUTES, tz)

    def label(self) -> str:
        """ "09:00-24:00"."""
        return "-".join(f"{m // 60:02d}:{m % 60:02d}" for m in (self.opens, self.closes))

    def window(self, day: date) -> tuple[datetime, datetime]:
        """(opening, closing) of local calendar ``day``, aware, in UTC."""
        return _window(self, day)


@lru_cache(maxsize=8192)
def _window(hours: BusinessHours, day: date) -> tuple[datetime, datetime]:
    """``hours.window(day)``, worked out once per window and day: every due time and pause
    walks the days it spans, and ``seed_demo`` computes millions of them over the same few
    hundred days (about a fifth of a seed's Python time before this cache)."""
    midnight = datetime.combine(day, time.min, tzinfo=hours.tz)
    return (_wall(midnight, hours.opens), _wall(midnight, hours.closes))


def _wall(midnight: datetime, minutes: int) -> datetime:
    """``minutes`` of wall-clock time after local ``midnight`` (1440: the next midnight), in
    UTC: aware times in one zoneinfo zone subtract as wall times, so every sum and difference
    here is taken in UTC (exact in a zone with daylight saving too; Beijing has none)."""
    day = midnight.date() + timedelta(days=minutes // DAY_MINUTES)
    minutes %= DAY_MINUTES
    local = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=midnight.tzinfo)
    return local.astimezone(UTC)


def default_business_hours() -> BusinessHours:
    """``settings.DESK_BUSINESS_HOURS`` ((opens, closes) in minutes) in ``settings.TIME_ZONE``."""
    opens, closes = settings.DESK_BUSINESS_HOURS
    return BusinessHours(opens, closes, ZoneInfo(settings.TIME_ZONE))


def _require_aware(value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"an aware datetime is needed, got {value!r}")


def add_business_time(start: datetime, duration: timedelta, hours: BusinessHours) -> datetime:
    """The earliest aware time ``t >= start`` with ``business_time_between(start, t) ==
    duration``: ``start`` moved forward by ``duration`` of business time. A duration that
    ends outside the window carries on at the next opening, so for a positive duration the
    result lies inside a window, at most at its closing (a due landing after hours is due at
    the next opening plus what was left). Zero returns ``start`` itself.

    ``start`` aware (any zone; the result is in ``hours.tz``); ``duration`` >= 0. Raises
    ``ValueError`` for a naive ``start`` or a negative duration."""
    _require_aware(start)
    if duration < timedelta(0):
        raise ValueError(f"a business duration is never negative: {duration}")
    if not duration:
        return start
    moment = start.astimezone(UTC)
    day = start.astimezone(hours.tz).date() - timedelta(days=1)
    left = duration
    while True:
        opening, closing = hours.window(day)
        day += timedelta(days=1)
        if closing <= moment:
            continue
        begin = max(moment, opening)
        if left <= closing - begin:
            return (begin + left).astimezone(hours.tz)
        left -= closing - begin


def business_time_between(start: datetime, end: datetime, hours: BusinessHours) -> timedelta:
    """How much of ``[start, end)`` lies inside business hours, as a timedelta >= 0 (zero when
    ``end`` is not after ``start``). Both aware; ``ValueError`` for a naive time."""
    _require_aware(start)
    _require_aware(end)
    if end <= start:
        return timedelta(0)
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    day = start.astimezone(hours.tz).date() - timedelta(days=1)
    last = end.astimezone(hours.tz).date()
    total = timedelta(0)
    while day <= last:
        opening, closing = hours.window(day)
        overlap = min(end, closing) - max(start, opening)
        if overlap > timedelta(0):
            total += overlap
        day += timedelta(days=1)
    return total
