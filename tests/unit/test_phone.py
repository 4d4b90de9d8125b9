"""Unit tests of ``dunning_sms/tools/phone.py`` (pure, no Odoo).

Every expectation below was checked against ``phonenumbers`` (9.0.x) metadata.
"""

import phonenumbers
import pytest

from conftest import load_tool

ph = load_tool("dunning_sms", "phone")

MADRID = ("Atlantic/Canary", "Europe/Madrid")

# raw, default_region, e164, number_type, region
ACCEPTED = [
    # Spain: mobile in every usual spelling
    ("612 34 56 78", "ES", "+34612345678", "mobile", "ES"),
    ("612345678", "ES", "+34612345678", "mobile", "ES"),
    ("+34 612345678", "ES", "+34612345678", "mobile", "ES"),
    ("0034 612 345 678", "ES", "+34612345678", "mobile", "ES"),
    ("612.34.56.78", "ES", "+34612345678", "mobile", "ES"),
    ("(+34) 612-34-56-78", "ES", "+34612345678", "mobile", "ES"),
    ("612345678", "es", "+34612345678", "mobile", "ES"),  # lower-case region
    # an ES number with a foreign default region but an international prefix
    ("+34 612 345 678", "DE", "+34612345678", "mobile", "ES"),
    ("0034 612 345 678", "US", "+34612345678", "mobile", "ES"),  # US IDD is 011, not 00
    ("0034 612 345 678", None, "+34612345678", "mobile", "ES"),
    ("+34612345678", False, "+34612345678", "mobile", "ES"),
    # United States: every number is FIXED_LINE_OR_MOBILE and must be accepted
    ("+1 212 555 0123", "US", "+12125550123", "fixed_line_or_mobile", "US"),
    ("(201) 555-0123", "US", "+12015550123", "fixed_line_or_mobile", "US"),
    ("212-555-0123", "US", "+12125550123", "fixed_line_or_mobile", "US"),
    # Germany
    ("0151 23456789", "DE", "+4915123456789", "mobile", "DE"),
    ("+49 151 23456789", None, "+4915123456789", "mobile", "DE"),
    # France
    ("06 12 34 56 78", "FR", "+33612345678", "mobile", "FR"),
    ("+33 6 12 34 56 78", "ES", "+33612345678", "mobile", "FR"),
    # Mexico: no mobile/landline distinction -> FIXED_LINE_OR_MOBILE
    ("55 1234 5678", "MX", "+525512345678", "fixed_line_or_mobile", "MX"),
    ("+52 55 1234 5678", None, "+525512345678", "fixed_line_or_mobile", "MX"),
    # obsolete mobile '1' after +52: dropped (see test_mexican_legacy_mobile_prefix)
    ("+52 1 55 1234 5678", "MX", "+525512345678", "fixed_line_or_mobile", "MX"),
    ("+52 1 55 1234 5678", None, "+525512345678", "fixed_line_or_mobile", "MX"),
]


@pytest.mark.parametrize(("raw", "region", "e164", "number_type", "number_region"), ACCEPTED)
def test_accepted_numbers(raw, region, e164, number_type, number_region):
    check = ph.normalise_mobile(raw, region)
    assert check.ok, check.reason
    assert check.reason is None
    assert check.typed == raw.strip()
    assert check.e164 == e164
    assert check.number_type == number_type
    assert check.region == number_region
    assert check.time_zones
    assert "Etc/Unknown" not in check.time_zones


# raw, default_region, e164, number_type (also the reason's code)
REFUSED_VALID = [
    ("91 123 45 67", "ES", "+34911234567", "fixed_line"),
    ("+34 915 123 456", "ES", "+34915123456", "fixed_line"),
    ("030 1234567", "DE", "+49301234567", "fixed_line"),
    ("01 23 45 67 89", "FR", "+33123456789", "fixed_line"),
    ("900 123 456", "ES", "+34900123456", "toll_free"),
    ("+1 800 555 0199", None, "+18005550199", "toll_free"),
    ("+34 901 123 456", None, "+34901123456", "shared_cost"),
    ("+44 56 1234 5678", None, "+445612345678", "voip"),
    ("+44 7640 123456", None, "+447640123456", "pager"),
    ("+34 51 123 4567", None, "+34511234567", "uan"),
]


@pytest.mark.parametrize(("raw", "region", "e164", "number_type"), REFUSED_VALID)
def test_refused_valid_numbers(raw, region, e164, number_type):
    check = ph.normalise_mobile(raw, region)
    assert not check.ok
    assert check.e164 == e164  # still normalised, for display
    assert check.number_type == number_type
    assert check.reason == number_type  # a code: the models word it
    assert check.typed == raw  # the number as typed, for the words


# raw, default_region, reason (a code), region
INVALID = [
    ("abc", "ES", "not_a_number", None),
    ("", "ES", "no_number", None),
    ("   ", "ES", "no_number", None),
    (None, "ES", "no_number", None),
    (False, False, "no_number", None),
    ("123", "ES", "invalid_for_region", "ES"),
    ("+1 555 0100", "US", "invalid_for_region", "US"),
    ("+34 612 345 678 9", "ES", "invalid_for_region", "ES"),
    ("12345678901234567890", "ES", "too_long", None),
    ("+999 123456", None, "unknown_country_code", None),
    ("612345678", None, "no_country", None),
    ("612345678", "XX", "no_country", None),
]


@pytest.mark.parametrize(("raw", "region", "reason", "number_region"), INVALID)
def test_invalid_input(raw, region, reason, number_region):
    check = ph.normalise_mobile(raw, region)
    typed = raw.strip() or None if isinstance(raw, str) else None
    assert check == ph.PhoneCheck(ok=False, region=number_region, reason=reason, typed=typed)
    assert check.e164 is None
    assert check.number_type == "unknown"
    assert check.time_zones == ()


def test_too_short_and_invalid_codes():
    assert ph.normalise_mobile("+34 6", "ES").reason == "too_short"
    check = ph.normalise_mobile("+800 123", None)
    assert (check.ok, check.region, check.reason) == (False, None, "invalid")


def test_mexican_legacy_mobile_prefix():
    # phonenumbers itself refuses the pre-2020 '+52 1' mobile spelling...
    raw = phonenumbers.parse("+52 1 55 1234 5678", None)
    assert not phonenumbers.is_valid_number(raw)
    # ...normalise_mobile drops the '1' because the remaining number is valid.
    check = ph.normalise_mobile("+52 1 55 1234 5678", "MX")
    assert check.ok and check.e164 == "+525512345678"
    assert ph.mobile_time_zone(check) == "America/Mexico_City"


def test_time_zones():
    us = ph.normalise_mobile("+1 212 555 0123", "US")
    assert us.time_zones == ("America/New_York",)
    assert ph.mobile_time_zone(us) == "America/New_York"
    de = ph.normalise_mobile("0151 23456789", "DE")
    assert ph.mobile_time_zone(de) == "Europe/Berlin"
    fr = ph.normalise_mobile("06 12 34 56 78", "FR")
    assert ph.mobile_time_zone(fr) == "Europe/Paris"
    # Spanish mobiles span the Peninsula and the Canaries: no single zone.
    es = ph.normalise_mobile("612 34 56 78", "ES")
    assert es.time_zones == MADRID
    assert ph.mobile_time_zone(es) is None
    # A refused landline still reports its zone; an invalid number has none.
    madrid = ph.normalise_mobile("91 123 45 67", "ES")
    assert ph.mobile_time_zone(madrid) == "Europe/Madrid"
    assert ph.mobile_time_zone(ph.normalise_mobile("abc", "ES")) is None


def test_non_geographic_number_has_no_region():
    check = ph.normalise_mobile("+800 1234 5678", None)
    assert not check.ok
    assert check.number_type == "toll_free"
    assert check.region is None
    assert check.time_zones == ()
    assert check.reason == "toll_free"


def test_result_is_immutable():
    check = ph.normalise_mobile("612345678", "ES")
    with pytest.raises(AttributeError):
        check.ok = False
