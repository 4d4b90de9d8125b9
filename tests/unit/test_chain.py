"""The level decision of the planner, checked against a direct reading of the rules."""
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import load_tool

level_reached = load_tool("dunning_chain", "chain").level_reached

CHAIN = [-3, 0, 7, 15, 30, 45, 60]


def reference(offsets, current, days, broken):
    """The rules as written in the README, one by one (no bisecting)."""
    if current and current[1]:
        return None
    later = [i for i, off in enumerate(offsets) if not current or off > current[0]]
    reached = [i for i, off in enumerate(offsets) if off <= days]
    target = reached[-1] if reached else None
    if broken:
        if target is None or (current and offsets[target] <= current[0]):
            target = later[0] if later else None
        return None if target is None else (target, False)
    if target is None or (current and offsets[target] <= current[0]):
        return None
    skipped = any(offsets[i] < offsets[target] for i in later)
    return target, skipped


def test_worked_cases():
    assert level_reached(CHAIN, None, -5, False) is None
    assert level_reached(CHAIN, None, -3, False) == (0, False)
    assert level_reached(CHAIN, None, 40, False) == (4, True), "40 days late: +30, skipping"
    assert level_reached(CHAIN, (30, False), 40, False) is None, "+30 sent already"
    assert level_reached(CHAIN, (30, False), 45, False) == (5, False)
    assert level_reached(CHAIN, (0, False), 3, True) == (2, False), "broken promise: +7 at once"
    assert level_reached(CHAIN, (60, True), 90, True) is None, "the chain ended"
    assert level_reached(CHAIN, (60, False), 90, True) is None, "no level after the last"
    assert level_reached([], None, 10, True) is None


# a busy CI machine can stall a draw: timing is not what this test is about
@settings(max_examples=300, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(offsets=st.lists(st.integers(-10, 90), max_size=8).map(sorted),
       current=st.one_of(st.none(), st.tuples(st.integers(-10, 90), st.booleans())),
       days=st.integers(-20, 120), broken=st.booleans())
def test_matches_the_rules(offsets, current, days, broken):
    assert level_reached(offsets, current, days, broken) == reference(offsets, current, days,
                                                                       broken)
