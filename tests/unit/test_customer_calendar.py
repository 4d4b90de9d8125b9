"""Unit tests of ``dunning_chain/tools/customer_calendar.py`` and ``regions.py`` (pure, no Odoo):
the customer's time zone (``pytz``) and public holidays (``holidays``)."""
from datetime import date

from conftest import load_tool

cal = load_tool("dunning_chain", "customer_calendar")
regions = load_tool("dunning_chain", "regions")
F = load_tool("dunning_chain", "send_window").fact
MADRID, NEW_YORK = "Europe/Madrid", "America/New_York"


def test_resolve_timezone():
    assert cal.resolve_timezone("America/New_York", "ES", MADRID) == (NEW_YORK, F("tz_customer"))
    assert cal.resolve_timezone("Not/AZone", "fr", MADRID) == ("Europe/Paris", F("tz_country", country="FR"))
    assert cal.resolve_timezone(None, "IN", None)[0] == "Asia/Kolkata"
    tz, source = cal.resolve_timezone(False, "US", MADRID)  # Odoo empty fields are False
    assert tz == MADRID and source.code == "tz_company_zones"
    assert source.values["country"] == "US" and source.values["zones"] > 1
    assert cal.resolve_timezone(None, None, MADRID) == (MADRID, F("tz_company"))
    assert cal.resolve_timezone("", "ES", "America/Chicago")[0] == "America/Chicago"  # ES: 3 zones
    assert cal.resolve_timezone(None, None, None) == ("UTC", F("tz_utc"))
    assert cal.resolve_timezone(None, "XX", "bogus")[0] == "UTC"
    assert "Europe/Madrid" in cal.country_timezones("ES") and len(cal.country_timezones("ES")) > 1


def test_country_zones_come_from_pytz(monkeypatch):
    import pytz

    assert cal.country_timezones("FR") == ("Europe/Paris",)
    assert cal.country_timezones("fr ") == ("Europe/Paris",)
    assert cal.country_timezones("XX") == cal.country_timezones(None) == cal.country_timezones("") == ()
    # A zone zoneinfo does not know is left out; a country without zones falls back to the company.
    monkeypatch.setattr(pytz, "country_timezones", {"FR": ["Mars/Olympus", "Europe/Paris"], "ZZ": []})
    assert cal.country_timezones("FR") == ("Europe/Paris",)
    assert cal.resolve_timezone(None, "ZZ", MADRID) == (MADRID, F("tz_company"))


def test_public_holidays_tolerates_unknown_codes():
    assert cal.public_holidays("XX", years=2026) == {}
    assert cal.public_holidays(None, years=2026) == {}
    national = cal.public_holidays("ES", years=2026)
    assert cal.public_holidays("ES", "ZZ", years=2026) == national
    madrid = cal.public_holidays("es", "ES-MD", years=2026)
    assert madrid == cal.public_holidays("ES", "MD", years=2026)
    assert date(2026, 5, 2) in madrid and date(2026, 5, 2) not in national  # Madrid's own day
    assert all(isinstance(d, date) and isinstance(n, str) for d, n in madrid.items())


def test_public_holidays_in_the_customers_language():
    assert cal.public_holidays("ES", years=2026)[date(2026, 12, 25)] == "Christmas Day"  # English by default
    assert cal.public_holidays("ES", years=2026, language="es_ES")[date(2026, 12, 25)] == "Natividad del Señor"
    assert cal.public_holidays("ES", years=2026, language="en_GB")[date(2026, 12, 25)] == "Christmas Day"
    # a language the library lacks for the country: English
    assert cal.public_holidays("US", years=2026, language="es_ES")[date(2026, 11, 26)] == "Thanksgiving Day"


# --------------------------------------------------------------------------- regions

def test_spanish_provinces_map_to_communities_known_to_holidays():
    import holidays

    known = set(holidays.country_holidays("ES").subdivisions)
    assert len(regions.ES_PROVINCE_TO_COMMUNITY) == 52
    assert set(regions.ES_PROVINCE_TO_COMMUNITY.values()) <= known
    assert regions.holiday_subdivision("ES", "M") == "MD"
    assert regions.holiday_subdivision("ES", "B") == "CT"
    assert regions.holiday_subdivision("DE", "DE-BE") == "BE"
    assert regions.holiday_subdivision("US", "NY") == "NY"
    assert regions.holiday_subdivision("ES", "") is None


def test_madrid_and_barcelona_holidays_differ():
    madrid = cal.public_holidays("ES", regions.holiday_subdivision("ES", "M"), years=2026)
    barcelona = cal.public_holidays("ES", regions.holiday_subdivision("ES", "B"), years=2026)
    assert date(2026, 5, 2) in madrid and date(2026, 5, 2) not in barcelona       # Comunidad de Madrid day
    assert date(2026, 9, 11) in barcelona and date(2026, 9, 11) not in madrid     # Diada
