"""When may a dunning reminder reach a customer?  Pure send-window arithmetic (no Odoo).

Reminders must arrive at a decent hour in **the customer's** local time zone.  This module turns a
requested moment into the first moment that respects the policy's rules, and says why it moved as
**facts** (:class:`Fact`: a code and plain values), never as prose: the models word them in the
reader's language (``dunning.send.window._dunning_words``).

Rules (:class:`WindowRules`, every field has a default and can be set per policy):

* **Days** -- only ``allowed_weekdays`` (default Monday-Friday, Monday = 0), never a closed local
  date (public holidays of the customer's country/region, company and customer closures: the
  caller passes them in ``closed_days``).  ``preferred_weekdays`` (default Tuesday-Thursday) are
  used whenever possible: a non-preferred allowed day (Monday, Friday) is used only when the
  earliest allowed moment on a preferred day lies more than ``max_preference_delay_days`` (default
  2) *local calendar days* after the earliest allowed moment.  Friday 20:30 -> earliest allowed is
  Monday 09:00, first preferred is Tuesday 09:00, one day later -> Tuesday.  Friday 10:00 -> the
  first preferred day (Tuesday) is four days later -> Friday 10:00.  ``max_preference_delay_days=0``
  switches the preference off.  ``avoid_friday_afternoon`` / ``avoid_monday_morning`` keep a
  Friday to the window before ``midday`` (default 12:00) and a Monday to the window from
  ``midday`` on.
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

Facts of :func:`next_allowed_moment` (``values`` keys in brackets; ``at`` is an aware datetime in
the customer's zone ``tz``, days are local :class:`~datetime.date`, hours :class:`~datetime.time`,
weekdays Python numbers, Monday = 0):

* ``now`` (at, tz): the requested moment is inside the window -- the only fact then;
* ``at`` (at, tz): the moment chosen, followed by the reasons (in date order):
  ``before_window`` / ``after_window`` (start, end), ``meal`` (start, end: same day),
  ``meal_then_closed`` (start, end: the rest of the day is after the window), ``clock_change``
  (the minute is outside hours on a clock-change day), ``no_slot_left`` (no minute left that day
  after a clock change), ``no_slot`` (day: a day without any minute, clock change), ``weekend``
  (first, last: Saturday and/or Sunday skipped, the rules allowing neither) /
  ``not_sending_day`` (first, last: other skipped weekdays), ``closed`` (first, last, name: a run
  of closed days with the same name, ``name`` None when the caller gave none), ``more_closed``
  (count: closed days not listed), ``avoided`` (first, last, preferred), ``friday_afternoon``
  (day, midday: a Friday's afternoon avoided, nothing left of its morning) / ``monday_morning``
  (day, midday: the Monday chosen waits for its afternoon), ``more`` (count: further reasons not
  listed), ``first_allowed`` (no other reason);
* ``no_preferred`` (day, preferred, days): a non-preferred day is used because no preferred one
  comes within ``days``.

Facts of :func:`forcing_refused` (why even a manager's *send anyway* must wait):
``forced_after_limit`` (at, tz, limit) and ``forced_closed`` (at, tz, day, name).

Neighbours: :mod:`.send_caps` (spreading per hour, frequency caps), :mod:`.customer_calendar`
(the customer's time zone and public holidays).
"""
from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from .window_rules import (HARD_LIMIT_HOUR, HARD_LIMIT_MIN, Fact, WindowRules, fact, time_of,
                           to_minutes, weekday_set_words)

__all__ = [
    "HARD_LIMIT_HOUR",
    "Fact",
    "NoMomentError",
    "WindowRules",
    "fact",
    "forcing_refused",
    "is_allowed",
    "is_valid_tz",
    "local",
    "next_allowed_moment",
    "normalize_closed",
    "to_utc_naive",
    "zone",
]

_MINUTE = timedelta(minutes=1)
_DAY = timedelta(days=1)
_MAX_LISTED_CLOSED = 3  # runs of closed days listed in a reason before ``more_closed``
_MAX_PARTS = 6  # reasons listed before ``more``


class NoMomentError(ValueError):
    """No allowed moment within the horizon; ``fact`` is ``no_moment`` (days, at, tz, weekdays,
    start, end).  ``str()`` is an English message for logs and tests."""

    def __init__(self, message: str, fact: Fact):
        super().__init__(message)
        self.fact = fact


# --------------------------------------------------------------------------- time zone plumbing


def zone(tz_name: str | ZoneInfo) -> ZoneInfo:
    """IANA name -> ZoneInfo, or a ValueError naming the bad zone."""
    if isinstance(tz_name, ZoneInfo) and tz_name.key:
        return tz_name
    if not isinstance(tz_name, str) or not tz_name.strip():
        raise ValueError(f"A time zone name (IANA, e.g. 'Europe/Madrid') is required, got {tz_name!r}.")
    try:
        return ZoneInfo(tz_name.strip())
    except (KeyError, ValueError, OSError) as exc:  # ZoneInfoNotFoundError is a KeyError
        raise ValueError(f"Unknown time zone {tz_name!r}.") from exc


def is_valid_tz(tz_name: object) -> bool:
    """True for a time zone name :mod:`zoneinfo` knows."""
    try:
        zone(tz_name)  # type: ignore[arg-type]
    except ValueError:
        return False
    return True


def to_utc_naive(moment: datetime) -> datetime:
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


def local(utc_naive: datetime, tz: ZoneInfo) -> datetime:
    return utc_naive.replace(tzinfo=timezone.utc).astimezone(tz)


def _offset(tz: ZoneInfo, utc_naive: datetime) -> timedelta:
    return local(utc_naive, tz).utcoffset()  # type: ignore[return-value]


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


def normalize_closed(closed_days: Mapping[date, str] | Iterable[date] | None) -> dict[date, str | None]:
    """Closed local dates -> ``{date: name}`` (a plain iterable of dates, or an empty name: None)."""
    if not closed_days:
        return {}
    items = closed_days.items() if isinstance(closed_days, Mapping) else ((d, None) for d in closed_days)
    closed = {}
    for day, name in items:
        if isinstance(day, datetime):
            day = day.date()
        closed[day] = str(name) if name else None
    return closed


def is_allowed(moment: datetime, tz: ZoneInfo, rules: WindowRules, closed: Mapping[date, str]) -> bool:
    """True when the naive-UTC whole minute ``moment`` may be used (ignores the day preference)."""
    day = local(moment, tz).date()
    if day.weekday() not in rules.allowed_weekdays or day in closed:
        return False
    return _first_on_day(tz, day, rules.intervals(day.weekday()), moment) == moment


def forcing_refused(
    moment: datetime, tz_name: str, closed_days: Mapping[date, str] | Iterable[date] | None = None
) -> list[Fact]:
    """Why a message may not leave at ``moment`` even when a manager sends it outside the send
    window: at or after :data:`HARD_LIMIT_HOUR` local time (``forced_after_limit``), or on a
    closed local day (``forced_closed``: public holiday, company or customer closure).  ``[]``
    when it may leave: nothing else of the window binds a manager's explicit request."""
    tz = zone(tz_name)
    closed = normalize_closed(closed_days)
    at = local(to_utc_naive(moment).replace(second=0, microsecond=0), tz)
    facts = []
    if at.hour * 60 + at.minute >= HARD_LIMIT_MIN:
        facts.append(fact("forced_after_limit", at=at, tz=tz.key, limit=time_of(HARD_LIMIT_HOUR)))
    if at.date() in closed:
        facts.append(fact("forced_closed", at=at, tz=tz.key, day=at.date(),
                          name=closed[at.date()]))
    return facts




# --------------------------------------------------------------------------- the main search


def next_allowed_moment(
    moment: datetime,
    tz_name: str,
    rules: WindowRules = WindowRules(),
    closed_days: Mapping[date, str] | Iterable[date] | None = None,
    horizon_days: int = 400,
) -> tuple[datetime, list[Fact]]:
    """First moment >= ``moment`` at which a reminder may reach a customer living in ``tz_name``.

    :param moment: aware datetime, or naive datetime in UTC (Odoo's convention).
    :param tz_name: IANA time zone of the customer.
    :param rules: sending rules; validated first (ValueError on bad rules).
    :param closed_days: ``{local date: name}`` of closed days (holidays and closures).
    :param horizon_days: how many local days to search before giving up with a
        :class:`NoMomentError`.
    :return: ``(naive UTC datetime at minute resolution, facts)``: the facts say why (see the
        module docstring): ``[now]``, or ``at`` followed by its reasons.

    The earliest allowed moment is used unless it falls on a non-preferred weekday and an allowed
    moment on a preferred weekday exists at most ``rules.max_preference_delay_days`` local calendar
    days later: then the earliest such preferred moment is used.
    """
    rules.validate()
    tz = zone(tz_name)
    closed = normalize_closed(closed_days)
    lower = _ceil_minute(to_utc_naive(moment))
    day0 = local(lower, tz).date()

    def no_slot(day: date) -> tuple[str, date, str | None]:
        """Why an allowed, open day has no minute left: its avoided half, else the hours."""
        if rules.avoids_part(day.weekday()) and _first_on_day(tz, day, rules.intervals(), lower):
            return ("part", day, None)
        return ("noslot", day, None)

    events: list[tuple[str, date, str | None]] = []  # (kind, local date, closure name), date order
    earliest: datetime | None = None
    day = day0
    while (day - day0).days <= horizon_days:
        if day.weekday() not in rules.allowed_weekdays:
            events.append(("weekday", day, None))
        elif day in closed:
            events.append(("closed", day, closed[day]))
        else:
            earliest = _first_on_day(tz, day, rules.intervals(day.weekday()), lower)
            if earliest is not None:
                break
            events.append(no_slot(day))
        day += _DAY
    if earliest is None:
        local_lower = local(lower, tz)
        raise NoMomentError(
            f"No allowed sending moment within {horizon_days} days after "
            f"{local_lower:%Y-%m-%d %H:%M} ({tz.key}): check the allowed weekdays "
            f"({weekday_set_words(rules.allowed_weekdays)}), the hours "
            f"({time_of(rules.start):%H:%M}-{time_of(rules.end):%H:%M}) and the closed days.",
            fact("no_moment", days=horizon_days, at=local_lower, tz=tz.key,
                 weekdays=tuple(sorted(rules.allowed_weekdays)),
                 start=time_of(rules.start), end=time_of(rules.end)),
        )

    result, note = earliest, None
    earliest_day = day
    preferred = rules.preferred_weekdays
    if preferred and earliest_day.weekday() not in preferred:
        extra: list[tuple[str, date, str | None]] = [("avoided", earliest_day, None)]
        chosen = None
        day = earliest_day + _DAY
        while (day - earliest_day).days <= rules.max_preference_delay_days:
            wd = day.weekday()
            if wd not in rules.allowed_weekdays:
                extra.append(("weekday", day, None))
            elif day in closed:
                extra.append(("closed", day, closed[day]))
            elif wd not in preferred:
                extra.append(("avoided", day, None))
            else:
                chosen = _first_on_day(tz, day, rules.intervals(wd), lower)
                if chosen is not None:
                    break
                extra.append(no_slot(day))
            day += _DAY
        if chosen is not None:
            result = chosen
            events.extend(extra)
        else:
            note = fact("no_preferred", day=earliest_day, preferred=tuple(sorted(preferred)),
                        days=rules.max_preference_delay_days)

    # The day chosen waits for its afternoon (Monday morning avoided) when, without that rule,
    # an earlier minute of it would have done.
    result_day = local(result, tz).date()
    if rules.avoids_part(result_day.weekday()) == "morning":
        plain = _first_on_day(tz, result_day, rules.intervals(), lower)
        if plain is not None and plain < result:
            events.append(("part", result_day, None))

    return result, _explain(lower, result, tz, rules, events, note, day0)


def _explain(
    lower: datetime,
    result: datetime,
    tz: ZoneInfo,
    rules: WindowRules,
    events: list[tuple[str, date, str | None]],
    note: Fact | None,
    day0: date,
) -> list[Fact]:
    """The facts of a search: ``[now]``, or ``at``, its reasons (at most ``_MAX_PARTS`` groups,
    then ``more``) and the ``no_preferred`` note when there is one."""
    local_result = local(result, tz)
    if result == lower:
        return [fact("now", at=local_result, tz=tz.key)]
    local_lower = local(lower, tz)
    wall = local_lower.hour * 60 + local_lower.minute
    parts: list[list[Fact]] = []  # one entry per reason; a run of closed days may hold several
    if local_result.date() == day0 and not events:
        # Same day, later minute: before the window or in the meal blackout.
        parts.append([_time_reason(wall, rules)])
    # Group consecutive events of the same kind.
    groups: list[list[tuple[str, date, str | None]]] = []
    for event in events:
        if groups and groups[-1][-1][0] == event[0] and (event[1] - groups[-1][-1][1]).days == 1:
            groups[-1].append(event)
        else:
            groups.append([event])
    # "weekend" while the rules send on neither Saturday nor Sunday; else a skipped Saturday
    # is only "not a sending day" of these rules
    weekend = not rules.allowed_weekdays & {5, 6}
    midday = time_of(rules.midday)
    for group in groups:
        kind, first, last = group[0][0], group[0][1], group[-1][1]
        if kind == "weekday":
            code = ("weekend" if weekend and all(d.weekday() >= 5 for _, d, _ in group)
                    else "not_sending_day")
            parts.append([fact(code, first=first, last=last)])
        elif kind == "part":
            for _, d, _ in group:
                code = "friday_afternoon" if d.weekday() == 4 else "monday_morning"
                parts.append([fact(code, day=d, midday=midday)])
        elif kind == "closed":
            # Consecutive days with the same name make one run: "Monday 3 Aug-Friday 7 Aug".
            runs: list[list[tuple[str, date, str | None]]] = []
            for event in group:
                if runs and runs[-1][-1][2] == event[2]:
                    runs[-1].append(event)
                else:
                    runs.append([event])
            listed = [fact("closed", first=run[0][1], last=run[-1][1], name=run[0][2])
                      for run in runs[:_MAX_LISTED_CLOSED]]
            more = sum(len(run) for run in runs[_MAX_LISTED_CLOSED:])
            if more:
                listed.append(fact("more_closed", count=more))
            parts.append(listed)
        elif kind == "avoided":
            parts.append([fact("avoided", first=first, last=last,
                               preferred=tuple(sorted(rules.preferred_weekdays)))])
        else:  # noslot
            for _, d, _ in group:
                if d == day0:
                    parts.append([_time_reason(wall, rules, same_day=False)])
                else:
                    parts.append([fact("no_slot", day=d)])
    if len(parts) > _MAX_PARTS:
        parts = parts[: _MAX_PARTS - 1] + [[fact("more", count=len(parts) - _MAX_PARTS + 1)]]
    facts = [fact("at", at=local_result, tz=tz.key)]
    facts += [f for part in parts for f in part] or [fact("first_allowed")]
    if note:
        facts.append(note)
    return facts


def _time_reason(wall: int, rules: WindowRules, same_day: bool = True) -> Fact:
    """Why the requested local minute ``wall`` could not be used on its own day."""
    start, end = to_minutes(rules.start), to_minutes(rules.end)
    in_meal = rules.meal_start is not None and to_minutes(rules.meal_start) <= wall < to_minutes(rules.meal_end)
    window = {"start": time_of(rules.start), "end": time_of(rules.end)}
    if wall >= end:
        return fact("after_window", **window)
    if in_meal:
        meal = {"start": time_of(rules.meal_start), "end": time_of(rules.meal_end)}
        return fact("meal" if same_day else "meal_then_closed", **meal)
    if wall < start and same_day:
        return fact("before_window", **window)
    return fact("clock_change" if same_day else "no_slot_left")
