"""Unit tests of ``dunning_chain/tools/send_window.py`` and ``send_caps.py`` (pure, no Odoo).

Worked examples first (DST, half-hour zones, the date line, Spanish Christmas, Thanksgiving, ...),
then hypothesis properties checked against a brute-force minute-by-minute reference.  Reasons are
facts (a code and plain values), checked as such: the models word them.
"""
import dataclasses
import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as hs

from conftest import load_tool

sw = load_tool("dunning_chain", "send_window")
caps = load_tool("dunning_chain", "send_caps")
cal = load_tool("dunning_chain", "customer_calendar")
F = sw.fact
WINDOW = {"start": time(9), "end": time(18)}
TUE_THU = (1, 2, 3)

UTC = timezone.utc
MADRID, NEW_YORK = "Europe/Madrid", "America/New_York"
ZONES = [
    "Europe/Madrid",
    "America/New_York",
    "Asia/Kolkata",
    "Pacific/Auckland",
    "Australia/Lord_Howe",
    "America/St_Johns",
    "UTC",
    "Pacific/Chatham",
    "Asia/Kathmandu",
    "America/Santiago",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
]
HYPO = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def local(text, tz):
    """Aware datetime from a local wall time ``YYYY-MM-DD HH:MM``."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz))


def utc(text):
    """Naive UTC datetime (Odoo convention)."""
    return datetime.fromisoformat(text)


def to_local(utc_naive, tz):
    return utc_naive.replace(tzinfo=UTC).astimezone(ZoneInfo(tz))


def codes(facts):
    return [f.code for f in facts]


def at(result, tz, code="at"):
    """The first fact of a search that ends at ``result``."""
    return F(code, at=to_local(result, tz), tz=tz)


def madrid_closures():
    closed = cal.public_holidays("ES", "MD", years=[2026, 2027])
    closed[date(2026, 12, 24)] = "Christmas Eve closure"
    closed[date(2026, 12, 31)] = "New Year's Eve closure"
    return closed


# --------------------------------------------------------------------------- worked examples: days


def test_friday_evening_goes_to_tuesday_monday_avoided():
    # Fri 6 Mar 2026 20:30: earliest allowed Mon 09:00, preferred Tue 09:00 is 1 day later (<= 2).
    result, why = sw.next_allowed_moment(local("2026-03-06 20:30", MADRID), MADRID)
    assert result == utc("2026-03-10 08:00")  # Tue 09:00 CET
    assert why == [
        at(result, MADRID),
        F("after_window", **WINDOW),
        F("weekend", first=date(2026, 3, 7), last=date(2026, 3, 8)),
        F("avoided", first=date(2026, 3, 9), last=date(2026, 3, 9), preferred=TUE_THU),
    ]


def test_friday_evening_without_preference_delay_goes_to_monday():
    rules = sw.WindowRules(max_preference_delay_days=0)
    result, why = sw.next_allowed_moment(local("2026-03-06 20:30", MADRID), MADRID, rules)
    assert result == utc("2026-03-09 08:00")  # Mon 09:00
    assert why[-1] == F("no_preferred", day=date(2026, 3, 9), preferred=TUE_THU, days=0)


def test_friday_morning_is_used_when_tuesday_is_too_far():
    result, why = sw.next_allowed_moment(local("2026-03-06 10:00", MADRID), MADRID)
    assert result == utc("2026-03-06 09:00")
    assert why == [at(result, MADRID, "now")]
    assert why[0].values["at"].strftime("%A %H:%M") == "Friday 10:00"


def test_monday_morning_moves_to_tuesday():
    result, why = sw.next_allowed_moment(local("2026-03-02 10:00", MADRID), MADRID)
    assert result == utc("2026-03-03 08:00")
    assert F("avoided", first=date(2026, 3, 2), last=date(2026, 3, 2), preferred=TUE_THU) in why


def test_inside_window_is_now_and_seconds_round_up():
    result, why = sw.next_allowed_moment(local("2026-03-04 10:12", MADRID), MADRID)
    assert result == utc("2026-03-04 09:12")
    assert why == [at(result, MADRID, "now")]
    assert why[0].values["at"].strftime("%A %H:%M") == "Wednesday 10:12"
    result, _ = sw.next_allowed_moment(utc("2026-03-04 09:12:30"), MADRID)
    assert result == utc("2026-03-04 09:13")
    assert result.tzinfo is None


def test_aware_and_naive_utc_inputs_agree():
    aware = local("2026-03-04 07:10", "Asia/Tokyo")
    naive = aware.astimezone(UTC).replace(tzinfo=None)
    assert sw.next_allowed_moment(aware, MADRID) == sw.next_allowed_moment(naive, MADRID)


def test_before_window_and_meal_time():
    result, why = sw.next_allowed_moment(local("2026-03-04 07:10", MADRID), MADRID)
    assert result == utc("2026-03-04 08:00") and why == [at(result, MADRID), F("before_window", **WINDOW)]
    result, why = sw.next_allowed_moment(local("2026-03-04 14:10", MADRID), MADRID)
    assert to_local(result, MADRID).strftime("%a %H:%M") == "Wed 15:30"
    assert result == utc("2026-03-04 14:30")
    assert why == [at(result, MADRID), F("meal", start=time(14), end=time(15, 30))]


def test_meal_blackout_can_be_switched_off():
    rules = sw.WindowRules(meal_start=None, meal_end=None)
    result, _ = sw.next_allowed_moment(local("2026-03-04 14:10", MADRID), MADRID, rules)
    assert result == utc("2026-03-04 13:10")


# --------------------------------------------------------------------------- worked examples: the policy's days

MON_SAT = frozenset(range(6))
MON_FRI = frozenset(range(5))
NOON = time(12)


def test_monday_to_saturday_sends_on_saturday():
    # A B2C shop: Monday-Saturday all preferred. Friday 20:30 -> Saturday 09:00.
    rules = sw.WindowRules(allowed_weekdays=MON_SAT, preferred_weekdays=MON_SAT)
    result, why = sw.next_allowed_moment(local("2026-03-06 20:30", MADRID), MADRID, rules)
    assert result == utc("2026-03-07 08:00")
    assert why == [at(result, MADRID), F("after_window", **WINDOW)]
    # Saturday 19:00 -> Monday: only Sunday skipped, and it is still the weekend
    result, why = sw.next_allowed_moment(local("2026-03-07 19:00", MADRID), MADRID, rules)
    assert result == utc("2026-03-09 08:00")
    assert why == [at(result, MADRID), F("after_window", **WINDOW),
                   F("not_sending_day", first=date(2026, 3, 8), last=date(2026, 3, 8))]


def test_saturday_is_not_the_weekend_of_a_policy_sending_on_sunday():
    rules = sw.WindowRules(allowed_weekdays={0, 1, 2, 3, 6}, preferred_weekdays={6})
    result, why = sw.next_allowed_moment(local("2026-03-05 19:00", MADRID), MADRID, rules)
    assert result == utc("2026-03-08 08:00")  # Thursday 19:00 -> Sunday 09:00
    assert F("not_sending_day", first=date(2026, 3, 6), last=date(2026, 3, 7)) in why


def test_every_weekday_preferred_sends_on_monday():
    # A restaurant supplier: Monday to Friday all preferred. Friday 20:30 -> Monday 09:00.
    rules = sw.WindowRules(preferred_weekdays=MON_FRI)
    result, why = sw.next_allowed_moment(local("2026-03-06 20:30", MADRID), MADRID, rules)
    assert result == utc("2026-03-09 08:00")
    assert why == [at(result, MADRID), F("after_window", **WINDOW),
                   F("weekend", first=date(2026, 3, 7), last=date(2026, 3, 8))]


def test_friday_afternoon_avoided():
    rules = sw.WindowRules(avoid_friday_afternoon=True)
    assert rules.intervals(4) == ((540, 720),) and rules.intervals(3) == ((540, 840), (930, 1080))
    # Friday 11:59 still goes; Friday 12:00 waits for Tuesday (Monday avoided: not preferred)
    result, why = sw.next_allowed_moment(local("2026-03-06 11:59", MADRID), MADRID, rules)
    assert why == [at(result, MADRID, "now")]
    result, why = sw.next_allowed_moment(local("2026-03-06 12:00", MADRID), MADRID, rules)
    assert result == utc("2026-03-10 08:00")
    assert why == [
        at(result, MADRID),
        F("friday_afternoon", day=date(2026, 3, 6), midday=NOON),
        F("weekend", first=date(2026, 3, 7), last=date(2026, 3, 8)),
        F("avoided", first=date(2026, 3, 9), last=date(2026, 3, 9), preferred=TUE_THU),
    ]
    # after the window it is the window that says why
    result, why = sw.next_allowed_moment(local("2026-03-06 18:30", MADRID), MADRID, rules)
    assert why[1] == F("after_window", **WINDOW)


def test_monday_morning_avoided():
    rules = sw.WindowRules(avoid_monday_morning=True, midday=12.5, preferred_weekdays=MON_FRI)
    assert rules.intervals(0) == ((750, 840), (930, 1080))
    result, why = sw.next_allowed_moment(local("2026-03-09 10:00", MADRID), MADRID, rules)
    assert result == utc("2026-03-09 11:30")  # Monday 12:30
    assert why == [at(result, MADRID), F("monday_morning", day=date(2026, 3, 9), midday=time(12, 30))]
    # from the weekend: Monday 12:30, saying both why
    result, why = sw.next_allowed_moment(local("2026-03-07 10:00", MADRID), MADRID, rules)
    assert result == utc("2026-03-09 11:30")
    assert why == [at(result, MADRID), F("weekend", first=date(2026, 3, 7), last=date(2026, 3, 8)),
                   F("monday_morning", day=date(2026, 3, 9), midday=time(12, 30))]
    # in the meal blackout of a Monday afternoon the meal says why
    result, why = sw.next_allowed_moment(local("2026-03-09 14:10", MADRID), MADRID, rules)
    assert why == [at(result, MADRID), F("meal", start=time(14), end=time(15, 30))]


def test_both_switches_with_the_default_preference():
    rules = sw.WindowRules(avoid_monday_morning=True, avoid_friday_afternoon=True,
                           max_preference_delay_days=0)
    # Friday 13:00 -> Monday 12:00 (no preference: the first allowed moment)
    result, why = sw.next_allowed_moment(local("2026-03-06 13:00", MADRID), MADRID, rules)
    assert result == utc("2026-03-09 11:00")
    assert codes(why) == ["at", "friday_afternoon", "weekend", "monday_morning", "no_preferred"]


def test_forcing_refused_after_21_and_on_closed_days():
    assert sw.forcing_refused(local("2026-03-07 20:59", MADRID), MADRID) == []  # a Saturday
    assert sw.forcing_refused(local("2026-03-07 21:00", MADRID), MADRID) == [
        F("forced_after_limit", at=local("2026-03-07 21:00", MADRID), tz=MADRID, limit=time(21))]
    closed = madrid_closures()
    assert sw.forcing_refused(utc("2026-12-25 09:00"), MADRID, closed) == [
        F("forced_closed", at=local("2026-12-25 10:00", MADRID), tz=MADRID, day=date(2026, 12, 25),
          name=closed[date(2026, 12, 25)])]
    # New York's Thanksgiving evening is 01:30 UTC the day after: the local day counts
    thanks = cal.public_holidays("US", years=2026)
    refused = sw.forcing_refused(utc("2026-11-27 01:30"), NEW_YORK, thanks)
    assert codes(refused) == ["forced_closed"] and refused[0].values["day"] == date(2026, 11, 26)


# --------------------------------------------------------------------------- worked examples: zones


@pytest.mark.parametrize(
    "request_local, expected_utc",
    [
        ("2026-03-28 22:00", "2026-03-31 07:00"),  # spring forward Sun 29 Mar: Tue is UTC+2
        ("2026-10-24 22:00", "2026-10-27 08:00"),  # fall back Sun 25 Oct: Tue is UTC+1
    ],
)
def test_madrid_dst_weekends(request_local, expected_utc):
    result, why = sw.next_allowed_moment(local(request_local, MADRID), MADRID)
    assert result == utc(expected_utc)
    assert to_local(result, MADRID).strftime("%A %H:%M") == "Tuesday 09:00"
    assert codes(why) == ["at", "weekend", "avoided"]  # Saturday 22:00
    assert why[2].values["first"].weekday() == 0  # Monday avoided


def test_madrid_spring_forward_gap_is_never_produced():
    # 02:00-02:59 does not exist on Sun 29 Mar 2026: the first existing minute is 03:00 CEST.
    rules = sw.WindowRules(start=2.0, meal_start=None, meal_end=None,
                           allowed_weekdays=range(7), preferred_weekdays=())
    result, _ = sw.next_allowed_moment(local("2026-03-29 00:30", MADRID), MADRID, rules)
    assert result == utc("2026-03-29 01:00")
    assert to_local(result, MADRID).strftime("%H:%M %z") == "03:00 +0200"


def test_madrid_fall_back_ambiguous_time_uses_first_occurrence():
    rules = sw.WindowRules(start=2.5, meal_start=None, meal_end=None,
                           allowed_weekdays=range(7), preferred_weekdays=())
    result, _ = sw.next_allowed_moment(local("2026-10-25 00:00", MADRID), MADRID, rules)
    assert result == utc("2026-10-25 00:30")  # 02:30 CEST, the first of the two 02:30s
    # A request during the second 02:xx hour (CET) is simply "now" once past 02:30 ...
    result, why = sw.next_allowed_moment(utc("2026-10-25 01:40"), MADRID, rules)
    assert result == utc("2026-10-25 01:40") and why == [at(result, MADRID, "now")]
    assert why[0].values["at"].strftime("%A %H:%M") == "Sunday 02:40"
    # ... and before 02:30 it waits for the second 02:30 (CET, 01:30 UTC).
    result, why = sw.next_allowed_moment(utc("2026-10-25 01:10"), MADRID, rules)
    assert result == utc("2026-10-25 01:30")


def test_lord_howe_half_hour_spring_forward():
    # Sun 4 Oct 2026 02:00 +10:30 -> 02:30 +11:00.
    rules = sw.WindowRules(start=2.0, meal_start=None, meal_end=None,
                           allowed_weekdays=range(7), preferred_weekdays=())
    tz = "Australia/Lord_Howe"
    result, _ = sw.next_allowed_moment(local("2026-10-04 01:50", tz), tz, rules)
    assert to_local(result, tz).strftime("%H:%M %z") == "02:30 +1100"
    assert result == utc("2026-10-03 15:30")


def test_kolkata_half_hour_offset():
    # Wed 4 Mar 2026 03:00 UTC = 08:30 IST -> 09:00 IST = 03:30 UTC.
    result, why = sw.next_allowed_moment(utc("2026-03-04 03:00"), "Asia/Kolkata")
    assert result == utc("2026-03-04 03:30")
    assert codes(why) == ["at", "before_window"]


def test_auckland_across_the_date_line_is_already_tuesday():
    # Mon 2 Mar 2026 22:00 UTC = Tue 3 Mar 11:00 NZDT.
    moment = utc("2026-03-02 22:00")
    result, why = sw.next_allowed_moment(moment, "Pacific/Auckland")
    assert result == moment
    assert why == [at(result, "Pacific/Auckland", "now")]
    assert why[0].values["at"].strftime("%A %H:%M") == "Tuesday 11:00"


def test_madrid_and_new_york_differ_for_the_same_utc_moment():
    moment = utc("2026-03-04 06:00")  # Wednesday; 07:00 in Madrid, 01:00 in New York (EST)
    madrid, _ = sw.next_allowed_moment(moment, MADRID)
    new_york, _ = sw.next_allowed_moment(moment, NEW_YORK)
    assert madrid == utc("2026-03-04 08:00")
    assert new_york == utc("2026-03-04 14:00")  # 09:00 EST
    summer, _ = sw.next_allowed_moment(utc("2026-06-10 06:00"), NEW_YORK)
    assert summer == utc("2026-06-10 13:00")  # 09:00 EDT


# --------------------------------------------------------------------------- worked examples: holidays


def test_spanish_christmas_run():
    closed = madrid_closures()
    # Wed 23 Dec 19:00: Thu 24 closure, Fri 25 Christmas, weekend, Mon 28 avoided -> Tue 29 09:00.
    result, why = sw.next_allowed_moment(local("2026-12-23 19:00", MADRID), MADRID, closed_days=closed)
    assert result == utc("2026-12-29 08:00")
    assert why == [
        at(result, MADRID),
        F("after_window", **WINDOW),
        F("closed", first=date(2026, 12, 24), last=date(2026, 12, 24), name="Christmas Eve closure"),
        F("closed", first=date(2026, 12, 25), last=date(2026, 12, 25), name="Christmas Day"),
        F("weekend", first=date(2026, 12, 26), last=date(2026, 12, 27)),
        F("avoided", first=date(2026, 12, 28), last=date(2026, 12, 28), preferred=TUE_THU),
    ]
    # Wed 30 Dec 19:00: Thu 31 closure, Fri 1 Jan, weekend, Mon 4 avoided -> Tue 5 Jan 09:00.
    result, why = sw.next_allowed_moment(local("2026-12-30 19:00", MADRID), MADRID, closed_days=closed)
    assert result == utc("2027-01-05 08:00")
    names = [f.values["name"] for f in why if f.code == "closed"]
    assert names == ["New Year's Eve closure", "New Year's Day"]
    # Tue 5 Jan 19:00: Wed 6 Jan Epiphany -> Thu 7 Jan 09:00.
    result, why = sw.next_allowed_moment(local("2027-01-05 19:00", MADRID), MADRID, closed_days=closed)
    assert result == utc("2027-01-07 08:00")
    assert F("closed", first=date(2027, 1, 6), last=date(2027, 1, 6), name="Epiphany") in why


def test_thanksgiving_keeps_friday():
    closed = cal.public_holidays("US", years=2026)
    assert closed[date(2026, 11, 26)] == "Thanksgiving Day"
    # Wed 25 Nov 19:00: Thu holiday; earliest is Fri 27 09:00, the next preferred day (Tue 1 Dec)
    # is 4 days later > 2 -> Friday 09:00 EST = 14:00 UTC.
    result, why = sw.next_allowed_moment(local("2026-11-25 19:00", NEW_YORK), NEW_YORK, closed_days=closed)
    assert result == utc("2026-11-27 14:00")
    thanksgiving = F("closed", first=date(2026, 11, 26), last=date(2026, 11, 26), name="Thanksgiving Day")
    assert thanksgiving in why
    assert why[-1] == F("no_preferred", day=date(2026, 11, 27), preferred=TUE_THU, days=2)
    # With a longer tolerance the preferred Tuesday wins.
    rules = sw.WindowRules(max_preference_delay_days=4)
    result, why = sw.next_allowed_moment(local("2026-11-25 19:00", NEW_YORK), NEW_YORK, rules, closed)
    assert result == utc("2026-12-01 14:00")
    assert F("avoided", first=date(2026, 11, 27), last=date(2026, 11, 27), preferred=TUE_THU) in why
    assert F("weekend", first=date(2026, 11, 28), last=date(2026, 11, 29)) in why
    assert F("avoided", first=date(2026, 11, 30), last=date(2026, 11, 30), preferred=TUE_THU) in why


def test_closed_days_accept_plain_dates_and_datetimes():
    result, why = sw.next_allowed_moment(local("2026-03-03 19:00", MADRID), MADRID,
                                         closed_days={datetime(2026, 3, 4)})
    assert result == utc("2026-03-05 08:00")
    assert F("closed", first=date(2026, 3, 4), last=date(2026, 3, 4), name=None) in why


def test_long_closure_reads_as_ranges():
    closed = {date(2026, 8, 3) + timedelta(days=i): "Summer closure" for i in range(12)}
    result, why = sw.next_allowed_moment(local("2026-08-01 10:00", MADRID), MADRID, closed_days=closed)
    assert result == utc("2026-08-18 07:00")  # Tue 18 Aug 09:00 CEST (Mon 17 Aug avoided)
    assert F("closed", first=date(2026, 8, 3), last=date(2026, 8, 7), name="Summer closure") in why
    assert F("closed", first=date(2026, 8, 10), last=date(2026, 8, 14), name="Summer closure") in why
    assert codes(why) == ["at", "weekend", "closed", "weekend", "closed", "weekend", "avoided"]


def test_many_reasons_are_summed_up():
    # Five closures with five names: three are listed, the other two counted.
    closed = {date(2026, 3, 2) + timedelta(days=i): f"closure {i}" for i in range(5)}
    result, why = sw.next_allowed_moment(local("2026-03-02 08:00", MADRID), MADRID, closed_days=closed)
    assert result == utc("2026-03-10 08:00")  # Tue 10 Mar (Mon 9 avoided)
    assert codes(why) == ["at", "closed", "closed", "closed", "more_closed", "weekend", "avoided"]
    assert why[4] == F("more_closed", count=2)
    # Alternating closed and open-but-avoided days make more than six reasons: the rest counted.
    rules = sw.WindowRules(allowed_weekdays=range(7), preferred_weekdays={0}, max_preference_delay_days=6)
    closed = {date(2026, 3, 3): "a", date(2026, 3, 5): "b", date(2026, 3, 7): "c"}
    result, why = sw.next_allowed_moment(local("2026-03-02 19:00", MADRID), MADRID, rules, closed)
    assert to_local(result, MADRID).strftime("%A %d %H:%M") == "Monday 09 09:00"
    assert codes(why) == ["at", "after_window", "closed", "avoided", "closed", "avoided", "more"]
    assert why[-1] == F("more", count=2)


def test_no_allowed_moment_within_horizon():
    start = date(2026, 3, 2)
    closed = {start + timedelta(days=i): "closure" for i in range(20)}
    with pytest.raises(ValueError, match="No allowed sending moment within 10 days") as info:
        sw.next_allowed_moment(local("2026-03-02 08:00", MADRID), MADRID, closed_days=closed, horizon_days=10)
    assert info.value.fact == F("no_moment", days=10, at=local("2026-03-02 08:00", MADRID), tz=MADRID,
                                weekdays=(0, 1, 2, 3, 4), start=time(9), end=time(18))


# --------------------------------------------------------------------------- rules validation


def test_window_end_after_hard_limit_is_refused():
    assert sw.HARD_LIMIT_HOUR == 21.0
    with pytest.raises(ValueError, match="21:00") as info:
        sw.next_allowed_moment(utc("2026-03-04 10:00"), MADRID, sw.WindowRules(end=22.0))
    assert "hard limit" in str(info.value)


def test_window_end_at_hard_limit_is_allowed_strictly_before():
    rules = sw.WindowRules(end=21.0, preferred_weekdays=())
    result, _ = sw.next_allowed_moment(local("2026-03-04 20:59", MADRID), MADRID, rules)
    assert result == utc("2026-03-04 19:59")
    result, why = sw.next_allowed_moment(local("2026-03-04 21:00", MADRID), MADRID, rules)
    assert result == utc("2026-03-05 08:00") and F("after_window", start=time(9), end=time(21)) in why


@pytest.mark.parametrize(
    "kwargs, words, error",
    [
        ({"start": 18.0, "end": 9.0}, "must be before window end", F("window_order", start=1080, end=540)),
        ({"start": 9.0, "end": 9.0}, "must be before window end", F("window_order", start=540, end=540)),
        ({"start": -1.0}, "before 00:00", F("window_start_negative", start=-1.0)),
        ({"start": "9"}, "decimal hour", F("window_not_hour", bound="start", value="9")),
        ({"end": 22.0}, "hard limit", F("window_after_limit", end=1320, limit=1260)),
        ({"meal_start": 14.0, "meal_end": None}, "both a start and an end", F("meal_incomplete")),
        ({"meal_start": 14.0, "meal_end": "x"}, "decimal hour", F("meal_not_hour", bound="end", value="x")),
        ({"meal_start": -1.0, "meal_end": 10.0}, "between 00:00 and 24:00", F("meal_outside_day")),
        (
            {"meal_start": 15.0, "meal_end": 14.0},
            "must be before its end",
            F("meal_order", start=900, end=840),
        ),
        (
            {"meal_start": 8.0, "meal_end": 19.0},
            "covers the whole window",
            F("meal_covers_window", meal_start=480, meal_end=1140, start=540, end=1080),
        ),
        ({"allowed_weekdays": frozenset()}, "At least one weekday", F("no_allowed_weekday")),
        (
            {"allowed_weekdays": {0, 7}},
            "0 (Monday) to 6 (Sunday)",
            F("weekdays_invalid", which="allowed", value=frozenset({0, 7})),
        ),
        (
            {"preferred_weekdays": {5}},
            "Saturday is preferred but not allowed",
            F("preferred_not_allowed", weekdays=(5,)),
        ),
        ({"max_preference_delay_days": -1}, "max_preference_delay_days", F("delay_invalid", value=-1)),
        ({"midday": "noon"}, "decimal hour", F("midday_not_hour", value="noon")),
        (
            {"avoid_friday_afternoon": True, "midday": 9.0},
            "must lie inside the window (09:00-18:00)",
            F("midday_outside_window", midday=540, start=540, end=1080),
        ),
        (
            {"avoid_monday_morning": True, "midday": 18.0},
            "must lie inside the window",
            F("midday_outside_window", midday=1080, start=540, end=1080),
        ),
        (
            {"avoid_friday_afternoon": True, "meal_start": 8.0, "meal_end": 12.0},
            "Friday keeps no time to send",
            F("avoid_leaves_nothing", weekday=4, midday=720, meal_start=480, meal_end=720),
        ),
        (
            {"avoid_monday_morning": True, "meal_start": 12.0, "meal_end": 18.0},
            "Monday keeps no time to send",
            F("avoid_leaves_nothing", weekday=0, midday=720, meal_start=720, meal_end=1080),
        ),
    ],
)
def test_invalid_rules(kwargs, words, error):
    with pytest.raises(ValueError, match=re.escape(words)) as info:
        sw.WindowRules(**kwargs).validate()
    assert info.value.fact == error  # WindowRulesError: the fact the models word


def test_default_rules_and_intervals():
    rules = sw.WindowRules()
    rules.validate()
    assert rules.intervals() == ((540, 840), (930, 1080))
    assert all(rules.intervals(wd) == rules.intervals() for wd in range(7))  # switches off
    # a switch on a day that is not allowed is harmless; a midday outside the window is fine
    # while both switches are off
    sw.WindowRules(allowed_weekdays={1, 2, 3}, preferred_weekdays=(), avoid_friday_afternoon=True,
                   meal_start=8.0, meal_end=12.0).validate()
    sw.WindowRules(midday=7.0).validate()
    assert sw.WindowRules(start=9.5, meal_start=None, meal_end=None).intervals() == ((570, 1080),)
    assert isinstance(sw.WindowRules(allowed_weekdays=[1, 2]).allowed_weekdays, frozenset)


def test_unknown_time_zone():
    with pytest.raises(ValueError, match="Unknown time zone"):
        sw.next_allowed_moment(utc("2026-03-04 10:00"), "Mars/Olympus")


# --------------------------------------------------------------------------- time zone resolution


# --------------------------------------------------------------------------- planner helpers


def test_spread_slot_fills_hours_in_turn():
    moment = local("2026-03-04 09:00", MADRID)  # Wednesday, 08:00 UTC
    first, why = caps.spread_slot(moment, MADRID, sw.WindowRules(), None, {}, 2)
    assert first == utc("2026-03-04 08:00") and why == [at(first, MADRID, "now")]
    second, why = caps.spread_slot(moment, MADRID, sw.WindowRules(), None, {first: 1}, 2)
    assert second == utc("2026-03-04 08:30")
    assert why == [at(first, MADRID, "now"),
                   F("spread", at=to_local(second, MADRID), tz=MADRID, position=2, per_hour=2)]
    assert why[-1].values["at"].strftime("%H:%M") == "09:30"
    third, why = caps.spread_slot(moment, MADRID, sw.WindowRules(), None, {first: 2}, 2)
    assert third == utc("2026-03-04 09:00")
    assert why[-1] == F("hour_full", at=to_local(third, MADRID), tz=MADRID, skipped=1)
    # 60 per hour: one minute apart.
    fifth, _ = caps.spread_slot(moment, MADRID, sw.WindowRules(), None, {first: 5}, 60)
    assert fifth == utc("2026-03-04 08:05")
    # Unlimited.
    assert caps.spread_slot(moment, MADRID, sw.WindowRules(), None, {first: 99}, 0)[0] == first


def test_spread_slot_skips_full_hours_and_the_meal():
    moment = local("2026-03-04 12:00", MADRID)  # 11:00 UTC
    taken = {utc("2026-03-04 11:00"): 3, utc("2026-03-04 12:00"): 3}
    result, why = caps.spread_slot(moment, MADRID, sw.WindowRules(), None, taken, 3)
    assert result == utc("2026-03-04 14:30")  # 13:00-14:00 UTC is the meal hour, then 15:30 local
    assert why[-1] == F("hour_full", at=local("2026-03-04 15:30", MADRID), tz=MADRID, skipped=2)


def test_frequency_cap_date():
    now = utc("2026-03-12 10:00")
    contacts = [utc("2026-03-06 10:00"), utc("2026-03-10 10:00")]
    moved, why = caps.frequency_cap_date(now, contacts, 2, channel="sms")
    assert moved == utc("2026-03-13 10:00")  # when the 6 Mar contact is 7 days old
    assert why == [F("cap", cap=2, channel="sms", days=7, contact=date(2026, 3, 6))]
    assert caps.frequency_cap_date(now, contacts, 3) == (now, [])
    assert caps.frequency_cap_date(now, contacts, 0) == (now, [])
    assert caps.frequency_cap_date(now, [], 1) == (now, [])
    moved, why = caps.frequency_cap_date(now, contacts, 1, days=3, tz_name="Pacific/Auckland")
    assert moved == utc("2026-03-13 10:00")
    # 10 Mar 10:00 UTC is 10 Mar 23:00 in Auckland
    assert why == [F("cap", cap=1, channel=None, days=3, contact=date(2026, 3, 10))]
    _, why = caps.frequency_cap_date(now, [utc("2026-03-10 12:00")], 1, days=3, tz_name="Pacific/Auckland")
    assert why[0].values["contact"] == date(2026, 3, 11)  # 11 Mar 01:00 in Auckland


# --------------------------------------------------------------------------- brute-force reference


def ref_allowed(t, tz, rules, closed):
    """Is the naive-UTC minute ``t`` allowed?  Written straight from the rules."""
    loc = t.replace(tzinfo=UTC).astimezone(tz)
    if loc.weekday() not in rules.allowed_weekdays or loc.date() in closed:
        return False
    minute = loc.hour * 60 + loc.minute
    if not round(rules.start * 60) <= minute < round(rules.end * 60) or minute >= 21 * 60:
        return False
    midday = round(rules.midday * 60)
    if rules.avoid_friday_afternoon and loc.weekday() == 4 and minute >= midday:
        return False
    if rules.avoid_monday_morning and loc.weekday() == 0 and minute < midday:
        return False
    if rules.meal_start is not None and round(rules.meal_start * 60) <= minute < round(rules.meal_end * 60):
        return False
    return True


REF_DAYS = 16
UNKNOWN = object()


def reference(moment, tz_name, rules, closed):
    """Expected result by scanning minute by minute (UNKNOWN when beyond ``REF_DAYS``)."""
    tz = ZoneInfo(tz_name)
    t = moment.replace(second=0, microsecond=0)
    if t < moment:
        t += timedelta(minutes=1)
    stop = t + timedelta(days=REF_DAYS)
    step = timedelta(minutes=1)
    while not ref_allowed(t, tz, rules, closed):
        t += step
        if t >= stop:
            return UNKNOWN
    earliest = t
    earliest_date = earliest.replace(tzinfo=UTC).astimezone(tz).date()
    if not rules.preferred_weekdays or earliest_date.weekday() in rules.preferred_weekdays:
        return earliest
    while True:
        t += step
        loc = t.replace(tzinfo=UTC).astimezone(tz)
        if (loc.date() - earliest_date).days > rules.max_preference_delay_days:
            return earliest
        if t >= stop:
            return UNKNOWN
        if loc.weekday() in rules.preferred_weekdays and ref_allowed(t, tz, rules, closed):
            return t


def _transitions():
    """UTC instants of the offset changes of ``ZONES`` in 2024-2030 (to aim moments at them)."""
    found = []
    for name in ZONES:
        tz = ZoneInfo(name)

        def offset(t, tz=tz):
            return t.replace(tzinfo=UTC).astimezone(tz).utcoffset()

        day = datetime(2024, 1, 1)
        while day.year < 2031:
            nxt = day + timedelta(days=1)
            if offset(day) != offset(nxt):
                lo, hi = day, nxt
                while hi - lo > timedelta(minutes=1):
                    mid = lo + (hi - lo) / 2
                    lo, hi = (mid, hi) if offset(mid) == offset(lo) else (lo, mid)
                found.append((name, hi))
            day = nxt
    return found


TRANSITIONS = _transitions()


@hs.composite
def moments_and_zones(draw):
    if TRANSITIONS and draw(hs.booleans()):
        zone, instant = draw(hs.sampled_from(TRANSITIONS))
        moment = instant + timedelta(seconds=draw(hs.integers(-4 * 86400, 86400)))
    else:
        zone = draw(hs.sampled_from(ZONES))
        moment = draw(hs.datetimes(datetime(2024, 1, 1), datetime(2030, 12, 31)))
    return moment.replace(microsecond=0), zone


@hs.composite
def valid_rules(draw):
    start = draw(hs.integers(0, 20 * 12)) * 5
    end = draw(hs.integers(start // 5 + 1, 21 * 12)) * 5
    meal_start = meal_end = None
    if draw(hs.booleans()):
        meal_start = draw(hs.integers(0, 23 * 12)) * 5
        meal_end = draw(hs.integers(meal_start // 5 + 1, 24 * 12)) * 5
        assume(not (meal_start <= start and meal_end >= end))
    allowed = draw(hs.frozensets(hs.integers(0, 6), min_size=1))
    preferred = draw(hs.frozensets(hs.sampled_from(sorted(allowed))))
    rules = sw.WindowRules(
        start=start / 60,
        end=end / 60,
        meal_start=None if meal_start is None else meal_start / 60,
        meal_end=None if meal_end is None else meal_end / 60,
        allowed_weekdays=allowed,
        preferred_weekdays=preferred,
        max_preference_delay_days=draw(hs.integers(0, 4)),
    )
    rules.validate()
    return rules


@hs.composite
def closed_days_near(draw, around):
    offsets = draw(hs.lists(hs.integers(-1, 12), max_size=4, unique=True))
    return {around.date() + timedelta(days=o): f"holiday {o}" for o in offsets}


@HYPO
@given(mz=moments_and_zones(), rules=valid_rules(), data=hs.data())
def test_next_allowed_moment_matches_brute_force(mz, rules, data):
    moment, zone = mz
    closed = data.draw(closed_days_near(moment))
    tz = ZoneInfo(zone)
    result, why = sw.next_allowed_moment(moment, zone, rules, closed)
    # Guarantees that hold whatever the horizon.
    assert result.tzinfo is None and result.second == 0 and result.microsecond == 0
    assert result >= moment and result - moment < timedelta(days=60)
    loc = result.replace(tzinfo=UTC).astimezone(tz)
    assert loc.replace(tzinfo=None).replace(tzinfo=tz, fold=loc.fold).astimezone(UTC).replace(tzinfo=None) == result
    assert ref_allowed(result, tz, rules, closed)
    assert (loc.hour, loc.minute) < (21, 0)
    assert why and all(isinstance(f, sw.Fact) and isinstance(f.code, str) for f in why)
    assert why[0] == at(result, zone, "now" if result == _ceil(moment) else "at")
    assert len(why) <= 1 + 6 + 3 + 1  # at, six reasons (a run of closed days lists four), a note
    # Minimality (earliest allowed, or the earliest preferred one within the tolerance).
    expected = reference(moment, zone, rules, closed)
    if expected is UNKNOWN:
        assert result - moment >= timedelta(days=REF_DAYS - 1)
    else:
        assert result == expected, (result, expected, why)


@HYPO
@given(
    mz=moments_and_zones(),
    rules=valid_rules(),
    per_hour=hs.integers(1, 4),
    counts=hs.lists(hs.integers(0, 5), max_size=30),
)
def test_spread_slot_properties(mz, rules, per_hour, counts):
    moment, zone = mz
    tz = ZoneInfo(zone)
    base, _ = sw.next_allowed_moment(moment, zone, rules)
    hour0 = base.replace(minute=0)
    taken = {hour0 + timedelta(hours=i): n for i, n in enumerate(counts)}
    result, why = caps.spread_slot(moment, zone, rules, None, taken, per_hour)
    assert result >= base
    assert ref_allowed(result, tz, rules, {})
    bucket = result.replace(minute=0)
    assert taken.get(bucket, 0) < per_hour
    if bucket != hour0:
        assert why[-1].code == "hour_full" and why[-1].values["at"] == to_local(result, zone)
        assert taken.get(hour0, 0) >= per_hour
    else:
        assert result >= hour0 + timedelta(minutes=taken.get(hour0, 0) * 60 // per_hour) or result == base


@HYPO
@given(
    start=hs.integers(0, 5000),
    offsets=hs.lists(hs.integers(-4000, 4000), max_size=6),
    cap=hs.integers(0, 4),
    days=hs.integers(1, 2),
)
def test_frequency_cap_matches_brute_force(start, offsets, cap, days):
    origin = datetime(2026, 3, 1)
    moment = origin + timedelta(minutes=start)
    contacts = [moment + timedelta(minutes=o) for o in offsets]
    result, why = caps.frequency_cap_date(moment, contacts, cap, days, channel="email")
    window = timedelta(days=days)

    def fits(t):
        return cap <= 0 or sum(1 for c in contacts if t - window < c <= t) < cap

    assert fits(result) and result >= moment
    t = moment
    while t < result:  # brute force: no earlier minute fits
        assert not fits(t)
        t += timedelta(minutes=1)
    assert (not why) == (result == moment)
    if why:
        assert why == [F("cap", cap=cap, channel="email", days=days, contact=(result - window).date())]


@hs.composite
def rules_with_days(draw):
    """Rules as a policy sets them: any sending and preferred days, either switch, a midday
    inside the window; the meal blackout and hours as in :func:`valid_rules`."""
    base = draw(valid_rules())
    start, end = round(base.start * 60), round(base.end * 60)
    assume(end - start >= 10)
    rules = dataclasses.replace(
        base,
        avoid_friday_afternoon=draw(hs.booleans()),
        avoid_monday_morning=draw(hs.booleans()),
        midday=draw(hs.integers(start // 5 + 1, (end - 1) // 5)) * 5 / 60,
    )
    try:
        rules.validate()
    except ValueError:  # WindowRulesError: a switch and the meal blackout leave a day empty
        assume(False)
    return rules


@HYPO
@given(mz=moments_and_zones(), rules=rules_with_days(), data=hs.data())
def test_switches_match_brute_force(mz, rules, data):
    """The brute-force reference (minute by minute) agrees with the search for every
    combination of days, preference and switches."""
    moment, zone = mz
    closed = data.draw(closed_days_near(moment))
    result, why = sw.next_allowed_moment(moment, zone, rules, closed)
    assert ref_allowed(result, ZoneInfo(zone), rules, closed)
    expected = reference(moment, zone, rules, closed)
    if expected is UNKNOWN:
        assert result - moment >= timedelta(days=REF_DAYS - 1)
    else:
        assert result == expected, (result, expected, why)


KNOWN_CODES = {
    "now", "at", "before_window", "after_window", "meal", "meal_then_closed", "clock_change",
    "no_slot_left", "no_slot", "weekend", "not_sending_day", "closed", "more_closed", "avoided",
    "friday_afternoon", "monday_morning", "more", "first_allowed", "no_preferred",
}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rules=rules_with_days(),
    zone=hs.sampled_from(ZONES),
    first=hs.dates(date(2024, 1, 1), date(2030, 12, 1)),
    step=hs.integers(97, 420),
    closed_offsets=hs.lists(hs.integers(0, 34), max_size=8, unique=True),
)
def test_a_month_of_requests_keeps_to_the_policy(rules, zone, first, step, closed_offsets):
    """Over a simulated month (a request every ``step`` minutes), every moment returned is on a
    sending day of the rules, before 21:00, on no closed day, inside that day's hours (Friday
    afternoon and Monday morning left out when switched on), and on a preferred day unless
    waiting for one would cost more than the tolerance."""
    tz = ZoneInfo(zone)
    closed = {first + timedelta(days=o): f"closed {o}" for o in closed_offsets}
    anywhere = dataclasses.replace(rules, preferred_weekdays=frozenset())
    midday = round(rules.midday * 60)
    moment = datetime.combine(first, time())
    while moment < datetime.combine(first, time()) + timedelta(days=31):
        result, why = sw.next_allowed_moment(moment, zone, rules, closed)
        loc = to_local(result, zone)
        minute = loc.hour * 60 + loc.minute
        assert result >= moment
        assert loc.weekday() in rules.allowed_weekdays, why
        assert minute < 21 * 60
        assert loc.date() not in closed
        assert ref_allowed(result, tz, rules, closed)
        if rules.avoid_friday_afternoon and loc.weekday() == 4:
            assert minute < midday
        if rules.avoid_monday_morning and loc.weekday() == 0:
            assert minute >= midday
        assert set(codes(why)) <= KNOWN_CODES
        # the preference: the earliest allowed moment, unless a preferred day comes within the
        # tolerance; then the first moment of the first such day
        earliest, _ = sw.next_allowed_moment(moment, zone, anywhere, closed)
        earliest_day = to_local(earliest, zone).date()
        if not rules.preferred_weekdays or earliest_day.weekday() in rules.preferred_weekdays:
            assert result == earliest
        else:
            for days in range(1, rules.max_preference_delay_days + 1):
                day = earliest_day + timedelta(days=days)
                if day.weekday() not in rules.preferred_weekdays:
                    continue
                start = datetime.combine(day, time()).replace(tzinfo=tz)
                first_of_day, _ = sw.next_allowed_moment(start, zone, anywhere, closed)
                if to_local(first_of_day, zone).date() == day:
                    assert result == first_of_day, (result, first_of_day, why)
                    assert codes(why)[-1] != "no_preferred"
                    break
            else:
                assert result == earliest, why
                assert codes(why) == ["now"] or codes(why)[-1] == "no_preferred", why
        # the reasons name the half days that were skipped
        if "friday_afternoon" in codes(why):
            assert rules.avoid_friday_afternoon
        if "monday_morning" in codes(why):
            assert rules.avoid_monday_morning and loc.weekday() == 0 and minute >= midday
        moment += timedelta(minutes=step)


def _ceil(moment):
    return moment if not moment.second else moment.replace(second=0) + timedelta(minutes=1)
