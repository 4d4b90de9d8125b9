"""Which level of the chain an invoice has reached: plain Python, no ORM (the planner decides
for tens of thousands of invoices per run)."""
from bisect import bisect_left, bisect_right


def level_reached(offsets, current, days, broken=False):
    """Index in ``offsets`` of the level to send now, or None.

    :param offsets: the eligible levels' offsets in days from the due date, ascending
    :param current: (offset, is_final) of the level the invoice already got for this due
        date, or None
    :param days: days since the due date (negative before it)
    :param broken: the customer broke a commitment (promise, instalment): the next level goes
        at once even if its day has not come
    :return: (index, skipped) with ``skipped`` true when earlier levels were passed over (an
        invoice found 40 days late gets the +30 level, not every earlier one in a burst), or
        None when nothing is due
    """
    if current and current[1]:
        return None  # the chain ended for this due date
    after = bisect_right(offsets, current[0]) if current else 0  # first level not sent yet
    reached = bisect_right(offsets, days)  # levels whose day has come: offsets[:reached]
    if broken:
        index = reached - 1 if reached > after else after
        return (index, False) if index < len(offsets) else None
    if reached <= after:
        return None
    target = reached - 1
    return target, bisect_left(offsets, offsets[target]) > after
