"""When may a dunning reminder reach a customer?  Pure send-window arithmetic (no Odoo).

Reminders must arrive at a decent hour in **the customer's** local time zone.  This module turns a
requested moment into the first moment that respects the policy's rules, and explains in short
English words why it moved.

Rules (:class:`WindowRules`, every field has a default and can be set per policy):

* **Days** -- only ``allowed_weekdays`` (default Monday-Friday, Monday = 0), never a closed local
  date (public holidays of the customer's country/region, company and customer closures: the
  caller passes them in ``closed_days``).  ``preferred_weekdays`` (default Tuesday-Thursday) are
  used whenever possible: a non-preferred allowed day (Monday, Friday) is used only when the
  earliest allowed moment on a preferred day lies more than ``max_preference_delay_days`` (default
  2) *local calendar days* after the earliest allowed moment.  Friday 20:30 -> earliest allowed is
  Monday 09:00, first preferred is Tuesday 09:00, one day later -> Tuesday.  Friday 10:00 -> the
  first preferred day (Tuesday) is four days later -> Friday 10:00.  ``max_preference_delay_days=0``
  switches the preference off.
* **Hours** -- local wall-clock window ``[start, end)`` (default 09:00-18:00) in decimal hours
  (9.5 = 09:30, rounded to the minute).  :data:`HARD_LIMIT_HOUR` (21:00) is a legal/courtesy hard
  limit: a window ending after it is refused, so nothing is ever sent at or after 21:00.  An
  optional meal blackout ``[meal_start, meal_end)`` (default 14:00-15:30, ``None`` = off) inside
  which nothing is sent.
* **Time zones** -- IANA names, handled with :mod:`zoneinfo`.  The search works on UTC instants
  and splits every local day into constant-offset stretches, so a wall time skipped by a
  spring-forward change is never produced (the first existing minute after the gap is used) and a
  wall time repeated by a fall-back change resolves to its *first* occurrence.

Results are naive UTC datetimes (Odoo's convention) at minute resolution: a moment with seconds is
rounded *up* to the next minute, never earlier than the request.

Helpers for the planner: :func:`spread_slot` (per-hour throttling), :func:`frequency_cap_date`
(at most N contacts in a rolling window), :func:`format_local`, :func:`public_holidays` (the
``holidays`` library), :func:`resolve_timezone` and :func:`country_timezones`.
"""
from __future__ import annotations

import bisect
import functools
import math
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

__all__ = [
    "HARD_LIMIT_HOUR",
    "WindowRules",
    "next_allowed_moment",
    "spread_slot",
    "frequency_cap_date",
    "format_local",
    "public_holidays",
    "resolve_timezone",
    "country_timezones",
]

HARD_LIMIT_HOUR = 21.0
"""No reminder may be sent at or after this local hour, whatever the policy says."""

_HARD_LIMIT_MIN = int(HARD_LIMIT_HOUR * 60)
_MINUTE = timedelta(minutes=1)
_HOUR = timedelta(hours=1)
_DAY = timedelta(days=1)
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MAX_LISTED_CLOSED = 3  # runs of closed days named in an explanation before "and N more"
_MAX_PARTS = 6  # reasons listed in an explanation before "and more"


# --------------------------------------------------------------------------- small formatters


def _to_minutes(hours: float) -> int:
    """Decimal local hour -> minutes after midnight (9.5 -> 570), rounded to the minute."""
    return int(round(hours * 60))


def _hhmm_minutes(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _hhmm(hours: float) -> str:
    return _hhmm_minutes(_to_minutes(hours))


def _day_words(day: date) -> str:
    """``Thursday 26 Nov``."""
    return f"{WEEKDAY_NAMES[day.weekday()]} {day.day} {_MONTHS[day.month - 1]}"


def _weekday_set_words(days: Iterable[int]) -> str:
    """``{1, 2, 3}`` -> ``Tuesday-Thursday``; ``{0, 2}`` -> ``Monday, Wednesday``."""
    ordered = sorted(days)
    runs: list[list[int]] = []
    for wd in ordered:
        if runs and wd == runs[-1][-1] + 1:
            runs[-1].append(wd)
        else:
            runs.append([wd])
    words = []
    for run in runs:
        if len(run) >= 3:
            words.append(f"{WEEKDAY_NAMES[run[0]]}-{WEEKDAY_NAMES[run[-1]]}")
        else:
            words.extend(WEEKDAY_NAMES[wd] for wd in run)
    return ", ".join(words) or "none"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class WindowRules:
    """Sending rules of a policy, in the customer's local time (see the module docstring).

    Hours are decimal local hours (``9.5`` = 09:30), rounded to the minute.  Weekdays use
    Python's numbering (Monday = 0 ... Sunday = 6); any iterable is accepted and stored as a
    frozenset.  :meth:`validate` refuses inconsistent rules with a clear :class:`ValueError`.
    """

    start: float = 9.0
    end: float = 18.0
    meal_start: float | None = 14.0
    meal_end: float | None = 15.5
    allowed_weekdays: frozenset = frozenset({0, 1, 2, 3, 4})
    preferred_weekdays: frozenset = frozenset({1, 2, 3})
    max_preference_delay_days: int = 2

    def __post_init__(self) -> None:
        for name in ("allowed_weekdays", "preferred_weekdays"):
            value = getattr(self, name)
            if value is None:
                object.__setattr__(self, name, frozenset())
            elif not isinstance(value, frozenset):
                try:
                    object.__setattr__(self, name, frozenset(value))
                except TypeError:
                    pass  # left as is: validate() reports it

    def validate(self) -> None:
        """Raise :class:`ValueError` with a readable message when the rules cannot be used."""
        for label, value in (("start", self.start), ("end", self.end)):
            if not _is_number(value):
                raise ValueError(f"Window {label} must be a decimal hour (9.5 = 09:30), got {value!r}.")
        start, end = _to_minutes(self.start), _to_minutes(self.end)
        if start < 0:
            raise ValueError(f"Window start {self.start!r} is before 00:00.")
        if end > _HARD_LIMIT_MIN:
            raise ValueError(
                f"Window end {_hhmm_minutes(end)} is after 21:00, the legal/courtesy hard limit: "
                "no reminder may be sent at or after 21:00 local time."
            )
        if start >= end:
            raise ValueError(
                f"Window start ({_hhmm_minutes(start)}) must be before window end ({_hhmm_minutes(end)})."
            )
        if (self.meal_start is None) != (self.meal_end is None):
            raise ValueError("The meal blackout needs both a start and an end (or neither, to switch it off).")
        if self.meal_start is not None:
            for label, value in (("start", self.meal_start), ("end", self.meal_end)):
                if not _is_number(value):
                    raise ValueError(f"Meal blackout {label} must be a decimal hour, got {value!r}.")
            meal_start, meal_end = _to_minutes(self.meal_start), _to_minutes(self.meal_end)
            if meal_start < 0 or meal_end > 24 * 60:
                raise ValueError("The meal blackout must lie between 00:00 and 24:00.")
            if meal_start >= meal_end:
                raise ValueError(
                    f"Meal blackout start ({_hhmm_minutes(meal_start)}) must be before its end "
                    f"({_hhmm_minutes(meal_end)})."
                )
            if meal_start <= start and meal_end >= end:
                raise ValueError(
                    f"The meal blackout ({_hhmm_minutes(meal_start)}-{_hhmm_minutes(meal_end)}) covers the "
                    f"whole window ({_hhmm_minutes(start)}-{_hhmm_minutes(end)}): no time is left to send."
                )
        for label, days in (("Allowed", self.allowed_weekdays), ("Preferred", self.preferred_weekdays)):
            if not isinstance(days, frozenset) or any(
                isinstance(wd, bool) or not isinstance(wd, int) or not 0 <= wd <= 6 for wd in days
            ):
                raise ValueError(f"{label} weekdays must be numbers 0 (Monday) to 6 (Sunday), got {days!r}.")
        if not self.allowed_weekdays:
            raise ValueError("At least one weekday must be allowed for sending.")
        stray = self.preferred_weekdays - self.allowed_weekdays
        if stray:
            raise ValueError(
                f"Preferred weekdays must also be allowed weekdays: {_weekday_set_words(stray)} "
                "is preferred but not allowed."
            )
        delay = self.max_preference_delay_days
        if isinstance(delay, bool) or not isinstance(delay, int) or delay < 0:
            raise ValueError(f"max_preference_delay_days must be a whole number of days >= 0, got {delay!r}.")

    def intervals(self) -> tuple[tuple[int, int], ...]:
        """Allowed local wall-clock intervals ``[from, to)`` in minutes after midnight."""
        start, end = _to_minutes(self.start), min(_to_minutes(self.end), _HARD_LIMIT_MIN)
        if self.meal_start is None or self.meal_end is None:
            return ((start, end),)
        meal_start, meal_end = _to_minutes(self.meal_start), _to_minutes(self.meal_end)
        parts = ((start, min(end, meal_start)), (max(start, meal_end), end))
        return tuple((a, b) for a, b in parts if a < b)

    def window_words(self) -> str:
        """``09:00-18:00``."""
        return f"{_hhmm(self.start)}-{_hhmm(self.end)}"

    def meal_words(self) -> str:
        return f"{_hhmm(self.meal_start)}-{_hhmm(self.meal_end)}" if self.meal_start is not None else ""


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# --------------------------------------------------------------------------- time zone plumbing


def _zone(tz_name: str | ZoneInfo) -> ZoneInfo:
    """IANA name -> ZoneInfo, or a ValueError naming the bad zone."""
    if isinstance(tz_name, ZoneInfo) and tz_name.key:
        return tz_name
    if not isinstance(tz_name, str) or not tz_name.strip():
        raise ValueError(f"A time zone name (IANA, e.g. 'Europe/Madrid') is required, got {tz_name!r}.")
    try:
        return ZoneInfo(tz_name.strip())
    except (KeyError, ValueError, OSError) as exc:  # ZoneInfoNotFoundError is a KeyError
        raise ValueError(f"Unknown time zone {tz_name!r}.") from exc


def _is_valid_tz(tz_name: object) -> bool:
    try:
        _zone(tz_name)  # type: ignore[arg-type]
    except ValueError:
        return False
    return True


def _to_utc_naive(moment: datetime) -> datetime:
    """Aware datetime -> naive UTC; a naive datetime is already naive UTC (Odoo)."""
    if not isinstance(moment, datetime):
        raise TypeError(f"Expected a datetime, got {type(moment).__name__}.")
    if moment.tzinfo is None or moment.utcoffset() is None:
        return moment.replace(tzinfo=None)
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def _ceil_minute(moment: datetime) -> datetime:
    if moment.second or moment.microsecond:
        return moment.replace(second=0, microsecond=0) + _MINUTE
    return moment


def _local(utc_naive: datetime, tz: ZoneInfo) -> datetime:
    return utc_naive.replace(tzinfo=timezone.utc).astimezone(tz)


def _offset(tz: ZoneInfo, utc_naive: datetime) -> timedelta:
    return _local(utc_naive, tz).utcoffset()  # type: ignore[return-value]


def _segments(tz: ZoneInfo, lo: datetime, hi: datetime) -> list[tuple[datetime, datetime, timedelta]]:
    """Split the UTC span ``[lo, hi)`` into stretches of constant UTC offset.

    A transition is located by bisection to the second; two transitions that cancel out inside one
    stretch would go unseen, which no zone does within days.
    """
    segments = []
    while True:
        offset = _offset(tz, lo)
        if _offset(tz, hi) == offset:
            segments.append((lo, hi, offset))
            return segments
        a, b = lo, hi  # offset(a) == offset, offset(b) != offset
        while b - a > timedelta(seconds=1):
            mid = a + (b - a) / 2
            mid = mid.replace(microsecond=0)
            if mid <= a:
                mid = a + timedelta(seconds=1)
            if _offset(tz, mid) == offset:
                a = mid
            else:
                b = mid
        segments.append((lo, b, offset))
        lo = b


@functools.lru_cache(maxsize=8192)
def _day_ranges(
    tz_key: str, day: date, intervals: tuple[tuple[int, int], ...]
) -> tuple[tuple[datetime, datetime], ...]:
    """UTC ranges ``[lo, hi)`` of the instants whose local date is ``day`` and local wall time lies
    in one of ``intervals`` (minutes).  Wall times that do not exist on that day (DST gap) simply
    have no instant; repeated ones (fall-back) appear twice, in time order."""
    tz = ZoneInfo(tz_key)
    midnight = datetime.combine(day, time())
    ranges = []
    for seg_lo, seg_hi, offset in _segments(tz, midnight - _DAY, midnight + 2 * _DAY):
        for a, b in intervals:
            lo = max(seg_lo, midnight + timedelta(minutes=a) - offset)
            hi = min(seg_hi, midnight + timedelta(minutes=b) - offset)
            if lo < hi:
                ranges.append((lo, hi))
    ranges.sort()
    return tuple(ranges)


def _first_on_day(tz: ZoneInfo, day: date, intervals: tuple[tuple[int, int], ...], lower: datetime) -> datetime | None:
    """Earliest whole UTC minute >= ``lower`` inside the window of local date ``day``, or None."""
    for lo, hi in _day_ranges(tz.key, day, intervals):
        candidate = _ceil_minute(max(lo, lower))
        if candidate < hi:
            return candidate
    return None


def _normalize_closed(closed_days: Mapping[date, str] | Iterable[date] | None) -> dict[date, str]:
    """Closed local dates -> ``{date: name}`` (a plain iterable of dates gets the name "closed")."""
    if not closed_days:
        return {}
    items = closed_days.items() if isinstance(closed_days, Mapping) else ((d, "closed") for d in closed_days)
    closed = {}
    for day, name in items:
        if isinstance(day, datetime):
            day = day.date()
        closed[day] = str(name or "closed")
    return closed


def _is_allowed(moment: datetime, tz: ZoneInfo, rules: WindowRules, closed: Mapping[date, str]) -> bool:
    """True when the naive-UTC whole minute ``moment`` may be used (ignores the day preference)."""
    day = _local(moment, tz).date()
    if day.weekday() not in rules.allowed_weekdays or day in closed:
        return False
    return _first_on_day(tz, day, rules.intervals(), moment) == moment


# --------------------------------------------------------------------------- the main search


def next_allowed_moment(
    moment: datetime,
    tz_name: str,
    rules: WindowRules = WindowRules(),
    closed_days: Mapping[date, str] | Iterable[date] | None = None,
    horizon_days: int = 400,
) -> tuple[datetime, str]:
    """First moment >= ``moment`` at which a reminder may reach a customer living in ``tz_name``.

    :param moment: aware datetime, or naive datetime in UTC (Odoo's convention).
    :param tz_name: IANA time zone of the customer.
    :param rules: sending rules; validated first (ValueError on bad rules).
    :param closed_days: ``{local date: name}`` of closed days (holidays and closures).
    :param horizon_days: how many local days to search before giving up with a ValueError.
    :return: ``(naive UTC datetime at minute resolution, short English explanation)``.

    The earliest allowed moment is used unless it falls on a non-preferred weekday and an allowed
    moment on a preferred weekday exists at most ``rules.max_preference_delay_days`` local calendar
    days later: then the earliest such preferred moment is used.
    """
    rules.validate()
    tz = _zone(tz_name)
    closed = _normalize_closed(closed_days)
    lower = _ceil_minute(_to_utc_naive(moment))
    intervals = rules.intervals()
    day0 = _local(lower, tz).date()

    events: list[tuple[str, date, str]] = []  # (kind, local date, closure name) in date order
    earliest: datetime | None = None
    day = day0
    while (day - day0).days <= horizon_days:
        if day.weekday() not in rules.allowed_weekdays:
            events.append(("weekday", day, ""))
        elif day in closed:
            events.append(("closed", day, closed[day]))
        else:
            earliest = _first_on_day(tz, day, intervals, lower)
            if earliest is not None:
                break
            events.append(("noslot", day, ""))
        day += _DAY
    if earliest is None:
        raise ValueError(
            f"No allowed sending moment within {horizon_days} days after "
            f"{format_local(lower, tz.key)}: check the allowed weekdays "
            f"({_weekday_set_words(rules.allowed_weekdays)}), the hours ({rules.window_words()}) "
            "and the closed days."
        )

    result, note = earliest, ""
    earliest_day = day
    preferred = rules.preferred_weekdays
    if preferred and earliest_day.weekday() not in preferred:
        extra: list[tuple[str, date, str]] = [("avoided", earliest_day, "")]
        chosen = None
        day = earliest_day + _DAY
        while (day - earliest_day).days <= rules.max_preference_delay_days:
            wd = day.weekday()
            if wd not in rules.allowed_weekdays:
                extra.append(("weekday", day, ""))
            elif day in closed:
                extra.append(("closed", day, closed[day]))
            elif wd not in preferred:
                extra.append(("avoided", day, ""))
            else:
                chosen = _first_on_day(tz, day, intervals, lower)
                if chosen is not None:
                    break
                extra.append(("noslot", day, ""))
            day += _DAY
        if chosen is not None:
            result = chosen
            events.extend(extra)
        else:
            note = (
                f"{WEEKDAY_NAMES[earliest_day.weekday()]} used: no preferred day "
                f"({_weekday_set_words(preferred)}) within {_plural(rules.max_preference_delay_days, 'day')}"
            )

    return result, _explain(lower, result, tz, rules, events, note, day0)


def _explain(
    lower: datetime,
    result: datetime,
    tz: ZoneInfo,
    rules: WindowRules,
    events: list[tuple[str, date, str]],
    note: str,
    day0: date,
) -> str:
    local_result = _local(result, tz)
    if result == lower:
        return (
            f"Now ({WEEKDAY_NAMES[local_result.weekday()]} {local_result:%H:%M} {tz.key}) "
            "is inside the window"
        )
    local_lower = _local(lower, tz)
    wall = local_lower.hour * 60 + local_lower.minute
    parts: list[str] = []
    if local_result.date() == day0 and not events:
        # Same day, later minute: before the window or in the meal blackout.
        parts.append(_time_reason(wall, rules))
    # Group consecutive events of the same kind.
    groups: list[list[tuple[str, date, str]]] = []
    for event in events:
        if groups and groups[-1][-1][0] == event[0] and (event[1] - groups[-1][-1][1]).days == 1:
            groups[-1].append(event)
        else:
            groups.append([event])
    for group in groups:
        kind, first, last = group[0][0], group[0][1], group[-1][1]
        if kind == "weekday":
            names = (
                WEEKDAY_NAMES[first.weekday()]
                if first == last
                else f"{WEEKDAY_NAMES[first.weekday()]}-{WEEKDAY_NAMES[last.weekday()]}"
            )
            if all(d.weekday() >= 5 for _, d, _ in group):
                why = "weekend"
            else:
                why = "not a sending day" if first == last else "not sending days"
            parts.append(f"{names} skipped ({why})")
        elif kind == "closed":
            # Consecutive days with the same name read as one range: "Monday 3 Aug-Friday 7 Aug".
            runs: list[list[tuple[str, date, str]]] = []
            for event in group:
                if runs and runs[-1][-1][2] == event[2]:
                    runs[-1].append(event)
                else:
                    runs.append([event])
            listed = [
                f"{_day_words(run[0][1])}{'' if len(run) == 1 else '-' + _day_words(run[-1][1])} closed ({run[0][2]})"
                for run in runs[:_MAX_LISTED_CLOSED]
            ]
            more = sum(len(run) for run in runs[_MAX_LISTED_CLOSED:])
            if more:
                listed.append(f"and {_plural(more, 'more closed day')}")
            parts.append(", ".join(listed))
        elif kind == "avoided":
            days = _day_words(first) if first == last else f"{_day_words(first)}-{_day_words(last)}"
            parts.append(f"{days} avoided (preferred {_weekday_set_words(rules.preferred_weekdays)})")
        else:  # noslot
            for _, d, _ in group:
                if d == day0:
                    parts.append(_time_reason(wall, rules, same_day=False))
                else:
                    parts.append(f"{_day_words(d)} has no slot (clock change)")
    if len(parts) > _MAX_PARTS:
        parts = parts[: _MAX_PARTS - 1] + [f"and {len(parts) - _MAX_PARTS + 1} more skips"]
    if not parts:
        parts.append("first allowed time")
    text = (
        f"{_day_words(local_result.date())} {local_result:%H:%M} {tz.key}: " + ", ".join(parts)
    )
    return f"{text}; {note}" if note else text


def _time_reason(wall: int, rules: WindowRules, same_day: bool = True) -> str:
    """Why the requested local minute ``wall`` could not be used on its own day."""
    start, end = _to_minutes(rules.start), _to_minutes(rules.end)
    in_meal = rules.meal_start is not None and _to_minutes(rules.meal_start) <= wall < _to_minutes(rules.meal_end)
    if wall >= end:
        return f"after the window ({rules.window_words()})"
    if in_meal:
        return f"meal time ({rules.meal_words()})" + ("" if same_day else ", then the window closes")
    if wall < start and same_day:
        return f"before the window ({rules.window_words()})"
    return "no slot left that day (clock change)" if not same_day else "outside hours (clock change)"


# --------------------------------------------------------------------------- planner helpers


def spread_slot(
    moment: datetime,
    tz_name: str,
    rules: WindowRules = WindowRules(),
    closed_days: Mapping[date, str] | Iterable[date] | None = None,
    taken: Mapping[datetime, int] | None = None,
    per_hour: int = 0,
    horizon_days: int = 400,
) -> tuple[datetime, str]:
    """Throttle sending to ``per_hour`` messages per UTC hour.

    ``taken`` maps naive-UTC hour starts to the number of messages already planned in that hour.
    The first allowed moment (:func:`next_allowed_moment`) whose hour has room is used; inside the
    hour the message goes ``count * 60 / per_hour`` minutes after the hour start (60 per hour ->
    one minute apart) when that minute is allowed and not earlier than the allowed moment,
    otherwise at the allowed moment itself.  ``per_hour <= 0`` means unlimited.
    """
    slot, explanation = next_allowed_moment(moment, tz_name, rules, closed_days, horizon_days)
    if per_hour <= 0:
        return slot, explanation
    taken = taken or {}
    tz = _zone(tz_name)
    closed = _normalize_closed(closed_days)
    skipped = 0
    while True:
        bucket = slot.replace(minute=0, second=0, microsecond=0)
        count = taken.get(bucket, 0)
        if count < per_hour:
            break
        # Terminates: each round moves to a strictly later hour, and only hours in ``taken`` are full.
        skipped += 1
        slot, _ = next_allowed_moment(bucket + _HOUR, tz_name, rules, closed_days, horizon_days)
    target = bucket + timedelta(minutes=(count * 60) // per_hour)
    spread = target > slot and _is_allowed(target, tz, rules, closed)
    if spread:
        slot = target
    if skipped:
        explanation += f"; hour full, moved to {format_local(slot, tz.key)}"
        if skipped > 1:
            explanation += f" ({skipped} full hours skipped)"
    elif spread:
        explanation += f"; spread to {_local(slot, tz):%H:%M} ({count + 1}/{per_hour} in this hour)"
    return slot, explanation


def frequency_cap_date(
    moment: datetime,
    previous_contacts: Iterable[datetime],
    cap: int,
    days: int = 7,
    *,
    channel_label: str = "messages",
    tz_name: str | None = None,
) -> tuple[datetime, str | None]:
    """Earliest moment >= ``moment`` with fewer than ``cap`` contacts in the window ``(t - days, t]``.

    Returns ``(moment, None)`` unchanged when it fits (or ``cap <= 0``: no cap); otherwise the
    naive-UTC moment at which the blocking contact leaves the rolling window, and a reason such as
    ``"at most 2 SMS in 7 days: moved after the contact of 12 Mar"`` (the contact's date is shown
    in ``tz_name`` when given, else UTC).  The returned moment is not checked against the send
    window: pass it to :func:`next_allowed_moment` afterwards.
    """
    if cap <= 0:
        return moment, None
    if days <= 0:
        raise ValueError(f"The frequency window must be at least one day, got {days!r}.")
    start = _to_utc_naive(moment)
    contacts = sorted(_to_utc_naive(c) for c in previous_contacts)
    window = timedelta(days=days)

    def count(t: datetime) -> int:
        return bisect.bisect_right(contacts, t) - bisect.bisect_right(contacts, t - window)

    if count(start) < cap:
        return moment, None
    # The count only drops when a contact c leaves the window, at t = c + days: try those in order.
    for contact in contacts:
        candidate = contact + window
        if candidate > start and count(candidate) < cap:
            shown = _local(contact, _zone(tz_name)) if tz_name else contact
            reason = (
                f"at most {cap} {channel_label} in {_plural(days, 'day')}: "
                f"moved after the contact of {shown.day} {_MONTHS[shown.month - 1]}"
            )
            return candidate, reason
    raise AssertionError("unreachable: the window is empty after the last contact")  # pragma: no cover


def format_local(dt_utc_naive: datetime, tz_name: str) -> str:
    """``Tue 24 Nov 2026 09:00 (America/New_York)`` for a naive-UTC (or aware) datetime."""
    tz = _zone(tz_name)
    local = _local(_to_utc_naive(dt_utc_naive), tz)
    return (
        f"{WEEKDAY_NAMES[local.weekday()][:3]} {local.day} {_MONTHS[local.month - 1]} "
        f"{local.year} {local:%H:%M} ({tz.key})"
    )


# --------------------------------------------------------------------------- holidays, zones


def public_holidays(
    country_code: str | None,
    subdivision: str | None = None,
    years: int | Iterable[int] | None = None,
) -> dict[date, str]:
    """Public holidays ``{date: name}`` of a country (and subdivision) from the ``holidays`` library.

    Unknown or empty country -> ``{}``; unknown subdivision -> the national list.  A subdivision
    written ``"ES-MD"`` is accepted as ``"MD"``.  ``years`` defaults to this year and the next.
    """
    if not country_code or not str(country_code).strip():
        return {}
    import holidays as holidays_lib  # imported lazily: the rest of the module needs only the stdlib

    code = str(country_code).strip().upper()
    if years is None:
        this_year = date.today().year
        year_list = [this_year, this_year + 1]
    elif isinstance(years, int):
        year_list = [years]
    else:
        year_list = sorted(set(years))
    subdivs: list[str | None] = []
    if subdivision and str(subdivision).strip():
        sub = str(subdivision).strip()
        if sub.upper().startswith(code + "-"):
            sub = sub[len(code) + 1 :]
        subdivs += [sub] + ([sub.upper()] if sub.upper() != sub else [])
    subdivs.append(None)
    for subdiv in subdivs:
        try:
            table = holidays_lib.country_holidays(code, subdiv=subdiv, years=year_list)
        except (NotImplementedError, KeyError):
            if subdiv is None:
                return {}
            continue
        return dict(sorted(table.items()))
    return {}  # pragma: no cover


def _zone_table_lines() -> list[str]:
    """Lines of ``zone.tab`` (one zone per country row) or else ``zone1970.tab``, from the system
    time zone database or the ``tzdata`` package; empty when neither is available."""
    for filename in ("zone.tab", "zone1970.tab"):
        for directory in zoneinfo.TZPATH:
            path = Path(directory) / filename
            try:
                return path.read_text(encoding="utf-8").splitlines()
            except OSError:
                continue
        try:
            return resources.files("tzdata.zoneinfo").joinpath(filename).read_text(encoding="utf-8").splitlines()
        except (ImportError, OSError, ValueError):
            continue
    return []


@functools.lru_cache(maxsize=1)
def _zones_by_country() -> dict[str, tuple[str, ...]]:
    table: dict[str, list[str]] = {}
    for line in _zone_table_lines():
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) < 3:
            continue
        for code in fields[0].split(","):
            table.setdefault(code.strip().upper(), []).append(fields[2].strip())
    return {code: tuple(zones) for code, zones in table.items()}


def country_timezones(country_code: str | None) -> tuple[str, ...]:
    """IANA zones of a country (ISO 3166 alpha-2) from the tz database tables; () when unknown."""
    if not country_code:
        return ()
    zones = _zones_by_country().get(str(country_code).strip().upper(), ())
    return tuple(z for z in zones if _is_valid_tz(z))


def resolve_timezone(
    partner_tz: str | None,
    country_code: str | None,
    company_tz: str | None,
) -> tuple[str, str]:
    """Customer time zone to use: ``(tz_name, source_words)``.

    The partner's own zone when valid; else the country's zone when the country has exactly one;
    else the company's zone; else ``"UTC"``.
    """
    if _is_valid_tz(partner_tz):
        return _zone(partner_tz).key, "customer's time zone"  # type: ignore[arg-type]
    code = str(country_code).strip().upper() if country_code else ""
    zones = country_timezones(code)
    if len(zones) == 1:
        return zones[0], f"time zone of the customer's country ({code})"
    if _is_valid_tz(company_tz):
        why = f"country {code} has {len(zones)} time zones" if len(zones) > 1 else "customer has no time zone"
        return _zone(company_tz).key, f"company time zone ({why})"  # type: ignore[arg-type]
    return "UTC", "UTC (no valid customer, country or company time zone)"
