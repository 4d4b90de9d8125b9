"""Where does the customer live?  Its time zone and its public holidays (pure, no Odoo).

* :func:`resolve_timezone` -- the zone the send window follows and a fact saying where it comes
  from: ``tz_customer``, ``tz_country`` (country), ``tz_company_zones`` (country, zones: the
  country has several zones), ``tz_company`` (no customer or country zone), ``tz_utc``;
* :func:`country_timezones` -- a country's zones, from ``pytz.country_timezones``;
* :func:`public_holidays` -- ``{date: name}`` from the ``holidays`` library, named in the
  customer's language when the library has it.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from .send_window import Fact, fact, is_valid_tz, zone

__all__ = ["resolve_timezone", "country_timezones", "public_holidays"]


def country_timezones(country_code: str | None) -> tuple[str, ...]:
    """IANA zones of a country (ISO 3166 alpha-2), as ``pytz`` lists them; () when unknown."""
    if not country_code or not str(country_code).strip():
        return ()
    import pytz  # imported lazily, like holidays: the window search needs only the stdlib

    zones = pytz.country_timezones.get(str(country_code).strip().upper()) or ()
    return tuple(z for z in zones if is_valid_tz(z))


def resolve_timezone(
    partner_tz: str | None,
    country_code: str | None,
    company_tz: str | None,
) -> tuple[str, Fact]:
    """Customer time zone to use: ``(tz_name, source fact)``.

    The partner's own zone when valid; else the country's zone when the country has exactly one;
    else the company's zone; else ``"UTC"``.
    """
    if is_valid_tz(partner_tz):
        return zone(partner_tz).key, fact("tz_customer")  # type: ignore[arg-type]
    code = str(country_code).strip().upper() if country_code else ""
    zones = country_timezones(code)
    if len(zones) == 1:
        return zones[0], fact("tz_country", country=code)
    if is_valid_tz(company_tz):
        source = (fact("tz_company_zones", country=code, zones=len(zones)) if len(zones) > 1
                  else fact("tz_company"))
        return zone(company_tz).key, source  # type: ignore[arg-type]
    return "UTC", fact("tz_utc")


def _holiday_language(supported: Iterable[str], language: str | None) -> str | None:
    """The library's language closest to an Odoo one (``es_ES`` -> ``es``, ``en_GB`` ->
    ``en_US``); English (``en_US``) when none is given or none is close; else None (the
    library's own default)."""
    supported = tuple(supported or ())
    if language:
        prefix = language.split("_")[0]
        for candidate in (language, prefix):
            if candidate in supported:
                return candidate
        for candidate in supported:
            if candidate.split("_")[0] == prefix:
                return candidate
    return "en_US" if "en_US" in supported else None


def public_holidays(
    country_code: str | None,
    subdivision: str | None = None,
    years: int | Iterable[int] | None = None,
    language: str | None = None,
) -> dict[date, str]:
    """Public holidays ``{date: name}`` of a country (and subdivision) from the ``holidays`` library.

    Unknown or empty country -> ``{}``; unknown subdivision -> the national list.  A subdivision
    written ``"ES-MD"`` is accepted as ``"MD"``.  ``years`` defaults to this year and the next.
    Names are in ``language`` (an Odoo code such as ``es_ES``) when the library has it for the
    country, else in English when it has English, else in the library's default language.
    """
    if not country_code or not str(country_code).strip():
        return {}
    import holidays as holidays_lib  # imported lazily: the window search needs only the stdlib

    code = str(country_code).strip().upper()
    if years is None:
        this_year = date.today().year
        year_list = [this_year, this_year + 1]
    elif isinstance(years, int):
        year_list = [years]
    else:
        year_list = sorted(set(years))
    subdivs: list[str | None] = []
    if subdivision and str(subdivision).strip():
        sub = str(subdivision).strip()
        if sub.upper().startswith(code + "-"):
            sub = sub[len(code) + 1 :]
        subdivs += [sub] + ([sub.upper()] if sub.upper() != sub else [])
    subdivs.append(None)
    for subdiv in subdivs:
        try:
            table = holidays_lib.country_holidays(code, subdiv=subdiv)
            table = holidays_lib.country_holidays(
                code, subdiv=subdiv, years=year_list,
                language=_holiday_language(table.supported_languages, language))
        except (NotImplementedError, KeyError):
            # the library knows no such country or region (it says so by raising): try the
            # next, less precise one; a country it does not know at all has no holidays here
            if subdiv is None:
                return {}
            continue
        return dict(sorted(table.items()))
    return {}  # pragma: no cover
