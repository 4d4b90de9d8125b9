"""How many reminders, how close together?  Spreading per hour and frequency caps (pure, no Odoo).

* :func:`spread_slot` -- at most N messages per UTC hour, spread over the hour;
* :func:`frequency_cap_date` -- at most N contacts of a customer through a channel in any rolling
  window of days.

Both return the moment and **facts** (:class:`.send_window.Fact`), never words:

* ``hour_full`` (at, tz, skipped): the hour was full, moved to ``at`` after ``skipped`` full hours;
* ``spread`` (at, tz, position, per_hour): spread inside the hour (``position``/``per_hour``);
* ``cap`` (cap, channel, days, contact): at most ``cap`` contacts through ``channel`` (a channel
  code, or None) in ``days`` days: moved after the contact of the local date ``contact``.
"""
from __future__ import annotations

import bisect
from collections.abc import Hashable, Iterable, Mapping
from datetime import date, datetime, timedelta

from .send_window import (
    Fact, WindowRules, fact, is_allowed, local, next_allowed_moment, normalize_closed,
    to_utc_naive, zone,
)

__all__ = ["spread_slot", "frequency_cap_date"]

_HOUR = timedelta(hours=1)


def spread_slot(
    moment: datetime,
    tz_name: str,
    rules: WindowRules = WindowRules(),
    closed_days: Mapping[date, str] | Iterable[date] | None = None,
    taken: Mapping[datetime, int] | None = None,
    per_hour: int = 0,
    horizon_days: int = 400,
    memo: dict | None = None,
    memo_key: Hashable = None,
) -> tuple[datetime, list[Fact]]:
    """Throttle sending to ``per_hour`` messages per UTC hour.

    ``taken`` maps naive-UTC hour starts to the number of messages already planned in that hour.
    The first allowed moment (:func:`.send_window.next_allowed_moment`) whose hour has room is
    used; inside the hour the message goes ``count * 60 / per_hour`` minutes after the hour start
    (60 per hour -> one minute apart) when that minute is allowed and not earlier than the allowed
    moment, otherwise at the allowed moment itself.  ``per_hour <= 0`` means unlimited.

    ``memo``: a dict kept by the caller over many calls (a planning run), with ``memo_key``
    naming the time zone, rules and closed days of this call: the allowed moments found are
    reused by the calls with the same key (thousands of customers of one country and policy).

    :return: ``(naive UTC moment, facts)``: the facts of the first allowed moment, then
        ``hour_full`` or ``spread`` when throttling moved it.
    """
    def allowed(start):
        if memo is None:
            return next_allowed_moment(start, tz_name, rules, closed_days, horizon_days)
        key = (memo_key, start, horizon_days)
        if key not in memo:
            memo[key] = next_allowed_moment(start, tz_name, rules, closed_days, horizon_days)
        found, found_facts = memo[key]
        return found, list(found_facts)

    slot, facts = allowed(moment)
    if per_hour <= 0:
        return slot, facts
    # hours only fill up over the calls sharing ``taken``: the next search from the same moment
    # resumes where this one found room (else a run of N messages would cost N^2/per_hour)
    resume = None if memo is None or taken is None else (memo_key, "resume", id(taken),
                                                          per_hour, moment)
    taken = taken or {}
    tz = zone(tz_name)
    if memo is None:
        closed = normalize_closed(closed_days)
    else:
        closed = memo.get((memo_key, "closed"))
        if closed is None:
            closed = memo[(memo_key, "closed")] = normalize_closed(closed_days)
    skipped = 0
    if resume is not None and resume in memo:
        slot, skipped = memo[resume]
    while True:
        bucket = slot.replace(minute=0, second=0, microsecond=0)
        count = taken.get(bucket, 0)
        if count < per_hour:
            break
        # Terminates: each round moves to a strictly later hour, and only hours in ``taken`` are full.
        skipped += 1
        slot, _ = allowed(bucket + _HOUR)
    if resume:
        memo[resume] = (slot, skipped)
    target = bucket + timedelta(minutes=(count * 60) // per_hour)
    spread = target > slot and is_allowed(target, tz, rules, closed)
    if spread:
        slot = target
    if skipped:
        facts = facts + [fact("hour_full", at=local(slot, tz), tz=tz.key, skipped=skipped)]
    elif spread:
        facts = facts + [fact("spread", at=local(slot, tz), tz=tz.key, position=count + 1,
                              per_hour=per_hour)]
    return slot, facts


def frequency_cap_date(
    moment: datetime,
    previous_contacts: Iterable[datetime],
    cap: int,
    days: int = 7,
    *,
    channel: str | None = None,
    tz_name: str | None = None,
) -> tuple[datetime, list[Fact]]:
    """Earliest moment >= ``moment`` with fewer than ``cap`` contacts in the window ``(t - days, t]``.

    Returns ``(moment, [])`` unchanged when it fits (or ``cap <= 0``: no cap); otherwise the
    naive-UTC moment at which the blocking contact leaves the rolling window and one ``cap`` fact
    (the contact's date is the local date in ``tz_name`` when given, else the UTC date).  The
    returned moment is not checked against the send window: pass it to
    :func:`.send_window.next_allowed_moment` afterwards.
    """
    if cap <= 0:
        return moment, []
    if days <= 0:
        raise ValueError(f"The frequency window must be at least one day, got {days!r}.")
    contacts = list(previous_contacts)
    if len(contacts) < cap:  # fewer contacts than the cap at all: it fits (most customers)
        return moment, []
    start = to_utc_naive(moment)
    contacts = sorted(to_utc_naive(c) for c in contacts)
    window = timedelta(days=days)

    def count(t: datetime) -> int:
        return bisect.bisect_right(contacts, t) - bisect.bisect_right(contacts, t - window)

    if count(start) < cap:
        return moment, []
    # The count only drops when a contact c leaves the window, at t = c + days: try those in order.
    for contact in contacts:
        candidate = contact + window
        if candidate > start and count(candidate) < cap:
            shown = local(contact, zone(tz_name)) if tz_name else contact
            return candidate, [fact("cap", cap=cap, channel=channel, days=days, contact=shown.date())]
    raise AssertionError("unreachable: the window is empty after the last contact")  # pragma: no cover
