"""Late-payment charges as plain arithmetic: no env, no records, no prose.

Statutory interest accrues day by day on what is still due of an instalment, from the day after
its due date to the charge date, at the rate in force that day (a reference rate per half-year
plus the rule's margin): ``days x rate x base / 365`` per segment where rate and base stay the
same. A payment lowers the base from its date (the day it was paid bears interest on the lower
amount), a full payment stops the interest. The models round the sum once, per currency.
"""
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Segment:
    """Days ``start``..``end`` (both included) at ``rate`` percent a year on ``base``."""

    start: date
    end: date
    days: int
    rate: float
    base: float
    amount: float  # not rounded: the caller rounds the total in the currency


def rate_on(rates, day):
    """The rate in force on ``day``: ``rates`` is a sorted list of ``(date_from, rate)``, each
    valid until the next one. None before the first."""
    index = bisect_right([start for start, _rate in rates], day) - 1
    return rates[index][1] if index >= 0 else None


def interest_segments(amount, due_date, payments, rates, start, end, days_in_year=365):
    """Interest on one instalment of ``amount`` due on ``due_date``, for the days ``start`` to
    ``end`` (both included; ``start`` is at least the day after the due date).

    ``payments``: ``(date, amount)`` received on it, in any order; from its date a payment lowers
    the base. ``rates``: sorted ``(date_from, annual rate in percent)`` with the margin already
    added. Days without a rate (before the first) bear nothing. Returns the segments, oldest
    first; days with no base (paid in full) are left out.
    """
    start = max(start, due_date + timedelta(days=1))
    if end < start or amount <= 0:
        return []
    paid = sorted(payments)
    cuts = {start, end + timedelta(days=1)}
    cuts.update(day for day, _amount in paid if start < day <= end)
    cuts.update(day for day, _rate in rates if start < day <= end)
    bounds = sorted(cuts)
    segments = []
    for seg_start, seg_next in zip(bounds, bounds[1:]):
        base = amount - sum(value for day, value in paid if day <= seg_start)
        rate = rate_on(rates, seg_start)
        if base <= 0 or not rate:
            continue
        days = (seg_next - seg_start).days
        segments.append(Segment(seg_start, seg_next - timedelta(days=1), days, rate, base,
                                days * rate * base / (100.0 * days_in_year)))
    return segments


def half_year(day):
    """The first day of the half-year ``day`` falls in (reference rates change then)."""
    return date(day.year, 1 if day.month <= 6 else 7, 1)


def tier_amount(tiers, debt):
    """A fixed compensation by debt size: ``tiers`` is ``[(minimum debt, amount), ...]``; the
    highest tier whose minimum the debt reaches. None when the debt reaches none."""
    reached = [(minimum, value) for minimum, value in tiers if debt >= minimum]
    return max(reached)[1] if reached else None
