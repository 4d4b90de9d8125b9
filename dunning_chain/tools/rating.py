"""The payer rating: how a customer pays, from the figures of its history. Plain Python, no ORM
(the nightly computation decides for tens of thousands of customers; ``dunning.payer.rating``
gathers the figures in SQL and words the result).

The figures cover a period (``PERIOD_DAYS``, the last 12 months): the customer invoices paid
in it (by the day of their last payment), each classified by what it took:

* **on time**: paid at most ``ON_TIME_GRACE_DAYS`` days after its due date (a transfer takes a
  few days), whatever notice was sent before the due date;
* **after the first reminder**: paid later, after exactly one reminder step (a step of an
  overdue chain counted from the due date, after it: +7 e-mail...) sent by e-mail, SMS or
  letter;
* **after a call or later steps**: paid after a call, a certified letter or a hand-off, or
  after a second (or later) reminder step;
* paid late without any reminder (counted in none of the shares above, in the average days
  late).

A step is counted when one of its messages was sent before the day of the payment ended. The
invoices issued in the period, those the customer disputed (whatever came of the dispute) and
the customer's hand-offs to a collection agency or lawyer in the period are counted too.

The rules, first that applies:

* **D**: handed off at least once, or disputes often: at least ``DISPUTES_MIN`` disputed
  invoices making at least ``DISPUTE_SHARE`` of the invoices issued in the period;
* not rated: no paid invoice in the period (a new customer, or one who never paid);
* **C**: at least ``LATER_SHARE`` of the paid invoices needed a call or later steps, or paid
  on average ``VERY_LATE_DAYS`` days late or more;
* **A**: at least ``ON_TIME_SHARE`` of the paid invoices on time;
* **B**: the others (pays, usually after the first reminder or a little late by itself).
"""
from collections import namedtuple

#: The ratings, best first ("" is not rated).
RATINGS = ("A", "B", "C", "D")
PERIOD_DAYS = 365
ON_TIME_GRACE_DAYS = 3
ON_TIME_SHARE = 0.8
LATER_SHARE = 0.25
VERY_LATE_DAYS = 30
DISPUTES_MIN = 2
DISPUTE_SHARE = 0.2

#: The figures of one customer in one company over the period.
#: paid: invoices paid; on_time / after_first / after_later: how many of them were paid on
#: time, after the first reminder, after a call or later steps; days_late: the sum of their
#: days late (0 when paid before the due date); invoices: invoices issued; disputes: invoices
#: disputed; handoffs: hand-offs to a collection agency or lawyer.
Figures = namedtuple("Figures", ["paid", "on_time", "after_first", "after_later", "days_late",
                                 "invoices", "disputes", "handoffs"],
                     defaults=[0, 0, 0, 0, 0, 0, 0, 0])
#: The decision: the rating ("" when not rated) and the rule that gave it (a code:
#: ``handoff``, ``disputes``, ``no_history``, ``after_later``, ``very_late``, ``on_time``,
#: ``reminded``), for the words of ``dunning.payer.rating``.
Rating = namedtuple("Rating", ["rating", "rule"])


def share(part, whole):
    """``part / whole`` (0.0 when ``whole`` is 0)."""
    return part / whole if whole else 0.0


def average_days_late(figures):
    return share(figures.days_late, figures.paid)


def check(figures):
    """Raise ValueError when the figures cannot describe a history."""
    if min(figures) < 0:
        raise ValueError(f"negative figures: {figures}")
    if figures.on_time + figures.after_first + figures.after_later > figures.paid:
        raise ValueError(f"more invoices classified than paid: {figures}")


def payer_rating(figures):
    """The rating of a customer from its figures (see the module): a Rating."""
    check(figures)
    if figures.handoffs:
        return Rating("D", "handoff")
    if (figures.disputes >= DISPUTES_MIN
            and figures.disputes >= DISPUTE_SHARE * max(figures.invoices, figures.disputes)):
        return Rating("D", "disputes")
    if not figures.paid:
        return Rating("", "no_history")
    if share(figures.after_later, figures.paid) >= LATER_SHARE:
        return Rating("C", "after_later")
    if average_days_late(figures) >= VERY_LATE_DAYS:
        return Rating("C", "very_late")
    if share(figures.on_time, figures.paid) >= ON_TIME_SHARE:
        return Rating("A", "on_time")
    return Rating("B", "reminded")
