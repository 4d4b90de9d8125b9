"""Statutory interest and fixed compensation as arithmetic: worked examples a lawyer can check
by hand, and properties that hold for any schedule of payments and rates."""
from datetime import date, timedelta

from hypothesis import given, settings, strategies as st

from conftest import load_tool

charges = load_tool("dunning_chain", "charges")

# Spain, Ley 3/2004: ECB rate of the half-year + 8 points
SPAIN = [(date(2025, 1, 1), 3.15 + 8), (date(2025, 7, 1), 2.15 + 8), (date(2026, 1, 1), 2.15 + 8)]
UK_TIERS = [(0, 40), (1000, 70), (10000, 100)]


def total(segments):
    return round(sum(s.amount for s in segments), 2)


def test_one_rate_days_times_rate_times_amount_over_365():
    # 1,000.00 due 5 January 2026, charged on 4 February: 6 January..4 February = 30 days
    segs = charges.interest_segments(1000.0, date(2026, 1, 5), [], SPAIN,
                                     date(2026, 1, 6), date(2026, 2, 4))
    assert [(s.days, s.rate, s.base) for s in segs] == [(30, 10.15, 1000.0)]
    assert total(segs) == round(30 * 10.15 * 1000 / 36500, 2) == 8.34


def test_a_half_year_boundary_splits_the_rate():
    # due 20 June 2025, charged 21 July: 10 days at 11.15 % (2025 H1), 21 days at 10.15 % (H2)
    segs = charges.interest_segments(1000.0, date(2025, 6, 20), [], SPAIN,
                                     date(2025, 6, 21), date(2025, 7, 21))
    assert [(s.start, s.days, s.rate) for s in segs] == [
        (date(2025, 6, 21), 10, 11.15), (date(2025, 7, 1), 21, 10.15)]
    assert total(segs) == round(10 * 11.15 * 10 / 365 + 21 * 10.15 * 10 / 365, 2) == 8.89


def test_a_partial_payment_lowers_the_base_from_its_date():
    # 400.00 paid on 20 January: 14 days on 1,000.00, then 16 days on 600.00
    segs = charges.interest_segments(1000.0, date(2026, 1, 5), [(date(2026, 1, 20), 400.0)],
                                     SPAIN, date(2026, 1, 6), date(2026, 2, 4))
    assert [(s.days, s.base) for s in segs] == [(14, 1000.0), (16, 600.0)]
    assert total(segs) == 6.56


def test_a_full_payment_stops_the_interest():
    segs = charges.interest_segments(1000.0, date(2026, 1, 5), [(date(2026, 1, 16), 1000.0)],
                                     SPAIN, date(2026, 1, 6), date(2026, 2, 4))
    assert [(s.days, s.base) for s in segs] == [(10, 1000.0)]


def test_a_later_charge_starts_where_the_last_one_ended():
    first = charges.interest_segments(1000.0, date(2026, 1, 5), [], SPAIN,
                                      date(2026, 1, 6), date(2026, 2, 4))
    second = charges.interest_segments(1000.0, date(2026, 1, 5), [], SPAIN,
                                       date(2026, 2, 5), date(2026, 3, 6))
    whole = charges.interest_segments(1000.0, date(2026, 1, 5), [], SPAIN,
                                      date(2026, 1, 6), date(2026, 3, 6))
    assert sum(s.days for s in first + second) == sum(s.days for s in whole) == 60
    assert abs(sum(s.amount for s in first + second) - sum(s.amount for s in whole)) < 1e-9


def test_nothing_before_the_due_date_nor_without_a_rate():
    assert charges.interest_segments(1000.0, date(2026, 1, 5), [], SPAIN,
                                     date(2026, 1, 1), date(2026, 1, 5)) == []
    assert charges.interest_segments(1000.0, date(2020, 1, 5), [], SPAIN,
                                     date(2020, 1, 6), date(2020, 2, 4)) == []


def test_the_last_published_rate_applies_until_the_next():
    assert charges.rate_on(SPAIN, date(2026, 12, 2)) == 10.15
    assert charges.rate_on(SPAIN, date(2024, 12, 31)) is None
    assert charges.half_year(date(2026, 6, 30)) == date(2026, 1, 1)
    assert charges.half_year(date(2026, 7, 1)) == date(2026, 7, 1)


def test_uk_fixed_sums_by_debt_size():
    assert charges.tier_amount(UK_TIERS, 999.99) == 40
    assert charges.tier_amount(UK_TIERS, 1000) == 70
    assert charges.tier_amount(UK_TIERS, 9999.99) == 70
    assert charges.tier_amount(UK_TIERS, 10000) == 100
    assert charges.tier_amount([(100, 5)], 50) is None


@settings(max_examples=200, deadline=None)
@given(amount=st.floats(1, 1e6), due_offset=st.integers(0, 500), days=st.integers(0, 400),
       payments=st.lists(st.tuples(st.integers(0, 900), st.floats(0.01, 1e5)), max_size=4))
def test_properties(amount, due_offset, days, payments):
    due = date(2025, 1, 1) + timedelta(days=due_offset)
    end = due + timedelta(days=days)
    paid = [(date(2025, 1, 1) + timedelta(days=d), v) for d, v in payments]
    segs = charges.interest_segments(amount, due, paid, SPAIN, due + timedelta(days=1), end)
    # the segments tile the period without overlap, inside it
    assert sum(s.days for s in segs) <= days
    for a, b in zip(segs, segs[1:]):
        assert a.end < b.start
    for s in segs:
        assert due < s.start <= s.end <= end
        assert 0 < s.base <= amount
        # never more than a full year's interest at the highest rate on the whole amount
        assert s.amount <= s.days * max(r for _d, r in SPAIN) * amount / 36500 + 1e-9
    # paying never raises the interest
    unpaid = charges.interest_segments(amount, due, [], SPAIN, due + timedelta(days=1), end)
    assert sum(s.amount for s in segs) <= sum(s.amount for s in unpaid) + 1e-9
