"""The sending rules of a policy (pure, no Odoo): hours, meal blackout, weekdays, preference,
Friday afternoons and Monday mornings.

:class:`WindowRules` holds them in the customer's local time and :meth:`WindowRules.validate`
refuses inconsistent ones; :mod:`.send_window` searches the moments they allow.  The rules are
documented in :mod:`.send_window`.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import time
from typing import NamedTuple

__all__ = ["HARD_LIMIT_HOUR", "WindowRules", "WindowRulesError", "to_minutes", "time_of"]

class Fact(NamedTuple):
    """One reason as data: ``code`` says what happened, ``values`` the plain values it needs
    (dates, times, zone names, holiday names, counts, channel codes; see send_window's
    docstring). The models word it (dunning.send.window)."""

    code: str
    values: dict


def fact(code: str, **values) -> Fact:
    return Fact(code, values)


HARD_LIMIT_HOUR = 21.0
"""No reminder may be sent at or after this local hour, whatever the policy says."""

HARD_LIMIT_MIN = int(HARD_LIMIT_HOUR * 60)
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class WindowRulesError(ValueError):
    """Rules that cannot be used (:meth:`WindowRules.validate`).  ``str()`` is an English message
    for logs and tests; ``fact`` (:class:`.send_window.Fact`) is what the models word
    (``dunning.send.window._dunning_words``).  Codes and values (hours as minutes after midnight,
    which may pass 24:00 in a wrong input; weekdays as Python numbers, Monday = 0):

    * ``window_not_hour`` / ``meal_not_hour`` (bound: ``'start'`` or ``'end'``, value): not a
      decimal hour;
    * ``window_start_negative`` (start: the decimal hour as given): before 00:00;
    * ``window_after_limit`` (end, limit): the window ends after the hard limit (21:00);
    * ``window_order`` / ``meal_order`` (start, end): the start is not before the end;
    * ``meal_incomplete``: a meal blackout start without an end, or the reverse;
    * ``meal_outside_day``: the meal blackout does not lie between 00:00 and 24:00;
    * ``meal_covers_window`` (meal_start, meal_end, start, end): no time left to send;
    * ``weekdays_invalid`` (which: ``'allowed'`` or ``'preferred'``, value): not weekday
      numbers 0-6;
    * ``no_allowed_weekday``: no weekday allowed;
    * ``preferred_not_allowed`` (weekdays: sorted tuple): preferred days that are not allowed;
    * ``delay_invalid`` (value): ``max_preference_delay_days`` is not a whole number >= 0;
    * ``midday_not_hour`` (value): the hour splitting morning from afternoon is not a decimal hour;
    * ``midday_outside_window`` (midday, start, end): Friday afternoons or Monday mornings are
      avoided but the splitting hour does not lie strictly inside the window (the switch would
      take the whole day, or nothing);
    * ``avoid_leaves_nothing`` (weekday: 0 or 4, midday, meal_start, meal_end): an allowed
      Monday or Friday keeps no minute once its avoided half and the meal blackout are taken out.
    """

    def __init__(self, message: str, code: str, **values):
        super().__init__(message)
        self.fact = fact(code, **values)


def to_minutes(hours: float) -> int:
    """Decimal local hour -> minutes after midnight (9.5 -> 570), rounded to the minute."""
    return int(round(hours * 60))


def time_of(hours: float) -> time:
    """Decimal local hour -> :class:`~datetime.time` at minute resolution (24:00 reads 00:00)."""
    minutes = to_minutes(hours) % (24 * 60)
    return time(minutes // 60, minutes % 60)


def _hhmm_minutes(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def weekday_groups(days: Iterable[int]) -> list[tuple[int, ...]]:
    """Weekdays as they are said: three or more in a row as a range ``(first, last)``, the
    others alone ``(day,)``: ``{0, 1, 2, 3, 5}`` -> ``[(0, 3), (5,)]``."""
    runs: list[list[int]] = []
    for wd in sorted(days):
        if runs and wd == runs[-1][-1] + 1:
            runs[-1].append(wd)
        else:
            runs.append([wd])
    groups: list[tuple[int, ...]] = []
    for run in runs:
        if len(run) >= 3:
            groups.append((run[0], run[-1]))
        else:
            groups.extend((wd,) for wd in run)
    return groups


def weekday_set_words(days: Iterable[int]) -> str:
    """English, for exception messages only: ``{1, 2, 3}`` -> ``Tuesday-Thursday`` (the models
    word weekdays in the customer's language from weekday_groups)."""
    return ", ".join("-".join(_WEEKDAYS[wd] for wd in group)
                     for group in weekday_groups(days)) or "none"


@dataclass(frozen=True)
class WindowRules:
    """Sending rules of a policy, in the customer's local time (see the module docstring).

    Hours are decimal local hours (``9.5`` = 09:30), rounded to the minute.  Weekdays use
    Python's numbering (Monday = 0 ... Sunday = 6); any iterable is accepted and stored as a
    frozenset.  ``avoid_friday_afternoon`` keeps Fridays to the part of the window before
    ``midday`` (default 12:00), ``avoid_monday_morning`` keeps Mondays to the part from
    ``midday`` on.  :meth:`validate` refuses inconsistent rules with a clear :class:`ValueError`.
    """

    start: float = 9.0
    end: float = 18.0
    meal_start: float | None = 14.0
    meal_end: float | None = 15.5
    allowed_weekdays: frozenset = frozenset({0, 1, 2, 3, 4})
    preferred_weekdays: frozenset = frozenset({1, 2, 3})
    max_preference_delay_days: int = 2
    avoid_friday_afternoon: bool = False
    avoid_monday_morning: bool = False
    midday: float = 12.0

    def __post_init__(self) -> None:
        for name in ("allowed_weekdays", "preferred_weekdays"):
            value = getattr(self, name)
            if value is None:
                object.__setattr__(self, name, frozenset())
            elif not isinstance(value, frozenset):
                try:
                    object.__setattr__(self, name, frozenset(value))
                except TypeError:
                    # not a collection of weekdays: kept as given, so that validate() refuses
                    # it with the weekdays_invalid fact instead of a bare TypeError here
                    pass

    def validate(self) -> None:
        """Raise :class:`WindowRulesError` (a :class:`ValueError` with a readable English message
        and a fact for the models) when the rules cannot be used."""
        for label, value in (("start", self.start), ("end", self.end)):
            if not _is_number(value):
                raise WindowRulesError(
                    f"Window {label} must be a decimal hour (9.5 = 09:30), got {value!r}.",
                    "window_not_hour", bound=label, value=value)
        start, end = to_minutes(self.start), to_minutes(self.end)
        if start < 0:
            raise WindowRulesError(f"Window start {self.start!r} is before 00:00.",
                                   "window_start_negative", start=self.start)
        if end > HARD_LIMIT_MIN:
            raise WindowRulesError(
                f"Window end {_hhmm_minutes(end)} is after {_hhmm_minutes(HARD_LIMIT_MIN)}, the "
                f"legal/courtesy hard limit: no reminder may be sent at or after "
                f"{_hhmm_minutes(HARD_LIMIT_MIN)} local time.",
                "window_after_limit", end=end, limit=HARD_LIMIT_MIN)
        if start >= end:
            raise WindowRulesError(
                f"Window start ({_hhmm_minutes(start)}) must be before window end ({_hhmm_minutes(end)}).",
                "window_order", start=start, end=end)
        if (self.meal_start is None) != (self.meal_end is None):
            raise WindowRulesError(
                "The meal blackout needs both a start and an end (or neither, to switch it off).",
                "meal_incomplete")
        if self.meal_start is not None:
            for label, value in (("start", self.meal_start), ("end", self.meal_end)):
                if not _is_number(value):
                    raise WindowRulesError(
                        f"Meal blackout {label} must be a decimal hour, got {value!r}.",
                        "meal_not_hour", bound=label, value=value)
            meal_start, meal_end = to_minutes(self.meal_start), to_minutes(self.meal_end)
            if meal_start < 0 or meal_end > 24 * 60:
                raise WindowRulesError("The meal blackout must lie between 00:00 and 24:00.",
                                       "meal_outside_day")
            if meal_start >= meal_end:
                raise WindowRulesError(
                    f"Meal blackout start ({_hhmm_minutes(meal_start)}) must be before its end "
                    f"({_hhmm_minutes(meal_end)}).",
                    "meal_order", start=meal_start, end=meal_end)
            if meal_start <= start and meal_end >= end:
                raise WindowRulesError(
                    f"The meal blackout ({_hhmm_minutes(meal_start)}-{_hhmm_minutes(meal_end)}) covers the "
                    f"whole window ({_hhmm_minutes(start)}-{_hhmm_minutes(end)}): no time is left to send.",
                    "meal_covers_window", meal_start=meal_start, meal_end=meal_end, start=start,
                    end=end)
        for label, days in (("allowed", self.allowed_weekdays), ("preferred", self.preferred_weekdays)):
            if not isinstance(days, frozenset) or any(
                isinstance(wd, bool) or not isinstance(wd, int) or not 0 <= wd <= 6 for wd in days
            ):
                raise WindowRulesError(
                    f"{label.capitalize()} weekdays must be numbers 0 (Monday) to 6 (Sunday), "
                    f"got {days!r}.",
                    "weekdays_invalid", which=label, value=days)
        if not self.allowed_weekdays:
            raise WindowRulesError("At least one weekday must be allowed for sending.",
                                   "no_allowed_weekday")
        stray = self.preferred_weekdays - self.allowed_weekdays
        if stray:
            raise WindowRulesError(
                f"Preferred weekdays must also be allowed weekdays: {weekday_set_words(stray)} "
                "is preferred but not allowed.",
                "preferred_not_allowed", weekdays=tuple(sorted(stray)))
        delay = self.max_preference_delay_days
        if isinstance(delay, bool) or not isinstance(delay, int) or delay < 0:
            raise WindowRulesError(
                f"max_preference_delay_days must be a whole number of days >= 0, got {delay!r}.",
                "delay_invalid", value=delay)
        if not _is_number(self.midday):
            raise WindowRulesError(
                f"The hour splitting morning from afternoon must be a decimal hour, got "
                f"{self.midday!r}.", "midday_not_hour", value=self.midday)
        if self.avoid_friday_afternoon or self.avoid_monday_morning:
            midday = to_minutes(self.midday)
            if not start < midday < end:
                raise WindowRulesError(
                    f"The hour splitting morning from afternoon ({_hhmm_minutes(midday)}) must lie "
                    f"inside the window ({_hhmm_minutes(start)}-{_hhmm_minutes(end)}).",
                    "midday_outside_window", midday=midday, start=start, end=end)
            for weekday, avoided in ((4, self.avoid_friday_afternoon),
                                     (0, self.avoid_monday_morning)):
                if avoided and weekday in self.allowed_weekdays and not self.intervals(weekday):
                    raise WindowRulesError(
                        f"{_WEEKDAYS[weekday]} keeps no time to send: the meal blackout covers "
                        f"what avoiding its {'afternoon' if weekday == 4 else 'morning'} leaves.",
                        "avoid_leaves_nothing", weekday=weekday, midday=midday,
                        meal_start=to_minutes(self.meal_start or 0),
                        meal_end=to_minutes(self.meal_end or 0))

    def intervals(self, weekday: int | None = None) -> tuple[tuple[int, int], ...]:
        """Allowed local wall-clock intervals ``[from, to)`` in minutes after midnight; of a
        given ``weekday`` (Monday = 0) when it says so: an avoided Friday afternoon or Monday
        morning is taken out (without a weekday: the window of any other day)."""
        start, end = to_minutes(self.start), min(to_minutes(self.end), HARD_LIMIT_MIN)
        if weekday == 4 and self.avoid_friday_afternoon:
            end = min(end, to_minutes(self.midday))
        elif weekday == 0 and self.avoid_monday_morning:
            start = max(start, to_minutes(self.midday))
        if start >= end:
            return ()
        if self.meal_start is None or self.meal_end is None:
            return ((start, end),)
        meal_start, meal_end = to_minutes(self.meal_start), to_minutes(self.meal_end)
        parts = ((start, min(end, meal_start)), (max(start, meal_end), end))
        return tuple((a, b) for a, b in parts if a < b)

    def avoids_part(self, weekday: int) -> str | None:
        """``'afternoon'`` (Friday), ``'morning'`` (Monday) when that half of the day is avoided."""
        if weekday == 4 and self.avoid_friday_afternoon:
            return "afternoon"
        if weekday == 0 and self.avoid_monday_morning:
            return "morning"
        return None


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)

