"""The payer rating decided from a customer's figures (dunning_chain/tools/rating.py)."""
import pytest
from hypothesis import given, strategies as st

from conftest import load_tool

rating = load_tool("dunning_chain", "rating")
Figures, payer_rating = rating.Figures, rating.payer_rating

ORDER = {"A": 0, "B": 1, "C": 2, "D": 3}


def test_worked_cases():
    # ten invoices, all paid on time
    assert payer_rating(Figures(paid=10, on_time=10, invoices=10)) == ("A", "on_time")
    # 8 of 10 on time is still A; 7 of 10 is B
    assert payer_rating(Figures(paid=10, on_time=8, after_first=2, days_late=20)).rating == "A"
    assert payer_rating(Figures(paid=10, on_time=7, after_first=3, days_late=30)).rating == "B"
    # one invoice, paid 9 days late after the +7 e-mail
    assert payer_rating(Figures(paid=1, after_first=1, days_late=9)) == ("B", "reminded")
    # paid 12 days late without any reminder: pays by itself, a little late
    assert payer_rating(Figures(paid=1, days_late=12)) == ("B", "reminded")
    # one of four needed the call: C
    assert payer_rating(Figures(paid=4, on_time=3, after_later=1, days_late=20)) == (
        "C", "after_later")
    # paid on average 30 days late
    assert payer_rating(Figures(paid=2, after_first=2, days_late=60)) == ("C", "very_late")
    # a hand-off, whatever else
    assert payer_rating(Figures(paid=20, on_time=20, handoffs=1)) == ("D", "handoff")
    # two disputes out of three invoices; one dispute alone never makes D
    assert payer_rating(Figures(paid=1, on_time=1, invoices=3, disputes=2)) == ("D", "disputes")
    assert payer_rating(Figures(paid=1, on_time=1, invoices=1, disputes=1)).rating == "A"
    # two disputes out of twenty invoices: not often
    assert payer_rating(Figures(paid=20, on_time=20, invoices=20, disputes=2)).rating == "A"
    # nothing paid yet
    assert payer_rating(Figures(invoices=3)) == ("", "no_history")
    assert payer_rating(Figures()) == ("", "no_history")


def test_impossible_figures_are_refused():
    with pytest.raises(ValueError):
        payer_rating(Figures(paid=1, on_time=1, after_first=1))
    with pytest.raises(ValueError):
        payer_rating(Figures(paid=-1))


@st.composite
def figures(draw):
    paid = draw(st.integers(0, 60))
    on_time = draw(st.integers(0, paid))
    after_first = draw(st.integers(0, paid - on_time))
    after_later = draw(st.integers(0, paid - on_time - after_first))
    late = paid - on_time
    days_late = draw(st.integers(0, 120 * late)) + on_time * draw(st.integers(0, 3))
    invoices = draw(st.integers(paid, paid + 20))
    disputes = draw(st.integers(0, invoices))
    handoffs = draw(st.integers(0, 2))
    return Figures(paid, on_time, after_first, after_later, days_late, invoices, disputes,
                   handoffs)


@given(figures())
def test_every_history_gets_a_rating_matching_its_rule(f):
    result = payer_rating(f)
    assert result.rating in ("", *rating.RATINGS)
    if result.rating == "":
        assert f.paid == 0 and not f.handoffs
    if result.rating == "A":
        assert f.on_time >= rating.ON_TIME_SHARE * f.paid
        assert f.after_later < rating.LATER_SHARE * f.paid
        assert not f.handoffs
    if f.handoffs:
        assert result == ("D", "handoff")


@given(figures())
def test_more_trouble_never_improves_the_rating(f):
    """One more dispute, one invoice more that needed a call instead of being paid on time, or a
    hand-off never gives a better rating."""
    before = payer_rating(f)
    if not before.rating:
        return
    worse = [f._replace(handoffs=f.handoffs + 1),
             f._replace(disputes=min(f.disputes + 1, f.invoices))]
    if f.on_time:
        worse.append(f._replace(on_time=f.on_time - 1, after_later=f.after_later + 1,
                                days_late=f.days_late + 15))
    if f.after_first:
        worse.append(f._replace(after_first=f.after_first - 1, after_later=f.after_later + 1))
    for other in worse:
        after = payer_rating(other)
        assert ORDER[after.rating] >= ORDER[before.rating], (f, other, before, after)


@given(figures(), st.integers(1, 5))
def test_scale_free(f, k):
    """The same behaviour over k times as many invoices gives the same rating (shares and
    averages decide), hand-offs and the minimum number of disputes aside."""
    if f.handoffs or f.disputes:
        return
    scaled = Figures(*(value * k for value in f))
    assert payer_rating(scaled).rating == payer_rating(f).rating
