"""Mobile phone number normalisation for SMS, on top of ``phonenumbers``.

Pure module (standard library + ``phonenumbers``, no Odoo import) so it can be unit-tested alone.

Only numbers that can receive SMS are accepted: ``phonenumbers`` types ``MOBILE`` and
``FIXED_LINE_OR_MOBILE`` (the type of every valid US/CA number, and of other countries where the
numbering plan does not tell mobiles from landlines, e.g. Mexico). Every other type is refused with
a reason (a code, see :class:`PhoneCheck`; the models word it): fixed line, toll-free,
premium-rate, shared-cost, VoIP, personal, pager, UAN, voicemail and unknown. VoIP numbers are
refused on purpose (simple and predictable: many cannot receive SMS), and so are pagers.

Mexico: since the 2019-2020 numbering reform, mobiles are dialled ``+52`` followed by the 10-digit
number; the former mobile prefix ``1`` (``+52 1 55 1234 5678``) makes the number invalid for
``phonenumbers``. Such numbers are still common in address books, so the ``1`` is dropped when that
makes the number valid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberFormat, PhoneNumberType
from phonenumbers import timezone as pn_timezone

__all__ = ["PhoneCheck", "normalise_mobile", "mobile_time_zone"]

#: ``phonenumbers`` types that can receive SMS.
_SMS_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})

#: ``phonenumbers`` type -> ``number_type`` code (also the ``reason`` of a refused valid number).
_TYPES: dict[int, str] = {
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_line_or_mobile",
    PhoneNumberType.FIXED_LINE: "fixed_line",
    PhoneNumberType.TOLL_FREE: "toll_free",
    PhoneNumberType.PREMIUM_RATE: "premium_rate",
    PhoneNumberType.SHARED_COST: "shared_cost",
    PhoneNumberType.VOIP: "voip",
    PhoneNumberType.PERSONAL_NUMBER: "personal_number",
    PhoneNumberType.PAGER: "pager",
    PhoneNumberType.UAN: "uan",
    PhoneNumberType.VOICEMAIL: "voicemail",
    PhoneNumberType.UNKNOWN: "unknown",
}

_UNKNOWN_ZONE = "Etc/Unknown"
#: ``phonenumbers`` region code of non-geographical numbers (+800, +882, ...).
_NON_GEO_REGION = "001"


@dataclass(frozen=True)
class PhoneCheck:
    """Result of :func:`normalise_mobile`.

    :ivar ok: the number is valid and can receive SMS.
    :ivar e164: the number in E.164 (``+34612345678``) when valid (even if refused), else None.
    :ivar number_type: ``'mobile'``, ``'fixed_line'``, ``'fixed_line_or_mobile'``, ``'voip'``,
        ``'toll_free'``, ``'premium_rate'``, ``'shared_cost'``, ``'personal_number'``, ``'pager'``,
        ``'uan'``, ``'voicemail'`` or ``'unknown'`` (always ``'unknown'`` for invalid numbers).
    :ivar region: ISO 3166 code of the number's country, when known (None for non-geographical
        numbers and unparsable input).
    :ivar time_zones: IANA zones of the number (empty when unknown).
    :ivar reason: why ``ok`` is False, as a code (None when ``ok``); the models word it with
        ``typed`` (and ``region`` for ``invalid_for_region``):

        * ``no_number``: nothing typed;
        * ``unknown_country_code``: an international prefix with an unknown country code;
        * ``no_country``: no international prefix and no (known) default country;
        * ``too_long`` / ``too_short``: too long / too short to be a phone number;
        * ``not_a_number``: not a phone number at all;
        * ``invalid_for_region``: not a valid number of ``region``;
        * ``invalid``: not a valid number (non-geographical or unknown country);
        * for a valid number that cannot receive SMS, its ``number_type``: ``fixed_line``,
          ``toll_free``, ``premium_rate``, ``shared_cost``, ``uan``, ``voicemail`` (SMS cannot
          reach it), ``voip``, ``personal_number``, ``pager``, ``unknown`` (only mobile
          numbers are accepted).
    :ivar typed: the number as typed (stripped), None when nothing was typed.
    """

    ok: bool
    e164: str | None = None
    number_type: str = "unknown"
    region: str | None = None
    time_zones: tuple[str, ...] = ()
    reason: str | None = None
    typed: str | None = None


def _region_code(default_region: str | None | bool) -> str | None:
    """Upper-cased ISO code when ``phonenumbers`` knows it, else None."""
    if not default_region or not isinstance(default_region, str):
        return None
    code = default_region.strip().upper()
    return code if code in phonenumbers.SUPPORTED_REGIONS else None


def _parse(raw: str, region: str | None) -> PhoneNumber:
    """Parse *raw*, also reading a leading ``00`` as the international prefix.

    ``phonenumbers`` only understands ``00`` when it is the international prefix of *region*
    (it is not in the US, and there is no region at all when *region* is None).
    """
    try:
        number = phonenumbers.parse(raw, region)
    except NumberParseException:
        number = None
    if number is not None and phonenumbers.is_valid_number(number):
        return number
    digits = re.sub(r"[\s.\-()/]", "", raw)
    if digits.startswith("00"):
        try:
            alt = phonenumbers.parse("+" + digits[2:], None)
        except NumberParseException:
            alt = None
        if alt is not None and (number is None or phonenumbers.is_valid_number(alt)):
            return alt
    if number is None:
        return phonenumbers.parse(raw, region)  # raise the original error
    return number


def _fix_mexican_mobile(number: PhoneNumber) -> PhoneNumber:
    """Drop the obsolete mobile ``1`` of ``+52 1 XX XXXX XXXX`` when that makes it valid."""
    national = str(number.national_number)
    if number.country_code == 52 and len(national) == 11 and national.startswith("1"):
        fixed = PhoneNumber(country_code=52, national_number=int(national[1:]))
        if phonenumbers.is_valid_number(fixed):
            return fixed
    return number


def _parse_error_reason(raw: str, error: NumberParseException) -> str:
    """The ``reason`` code of a number ``phonenumbers`` cannot parse."""
    if error.error_type == NumberParseException.INVALID_COUNTRY_CODE:
        if raw.lstrip("( ").startswith(("+", "00")):
            return "unknown_country_code"
        return "no_country"
    if error.error_type == NumberParseException.TOO_LONG:
        return "too_long"
    if error.error_type in (
        NumberParseException.TOO_SHORT_NSN,
        NumberParseException.TOO_SHORT_AFTER_IDD,
    ):
        return "too_short"
    return "not_a_number"


def normalise_mobile(raw: str | None | bool, default_region: str | None | bool) -> PhoneCheck:
    """Check that *raw* is a number that can receive SMS and normalise it to E.164.

    :param raw: the number as typed: with or without international prefix (``+`` or ``00``),
        with spaces, dots, dashes or parentheses. None/False/empty mean "no number".
    :param default_region: ISO 3166 country code used for numbers written without international
        prefix (e.g. the partner's country). None/False (or a code unknown to ``phonenumbers``):
        only numbers with international prefix are understood.
    :return: a :class:`PhoneCheck`; ``ok`` is True only for valid mobile (or fixed-line-or-mobile)
        numbers. Valid but refused numbers still get ``e164``, ``number_type``, ``region`` and
        ``time_zones``.
    """
    text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        return PhoneCheck(ok=False, reason="no_number")
    region = _region_code(default_region)
    try:
        number = _parse(text, region)
    except NumberParseException as error:
        return PhoneCheck(ok=False, reason=_parse_error_reason(text, error), typed=text)

    number = _fix_mexican_mobile(number)
    number_region = phonenumbers.region_code_for_country_code(number.country_code)
    if not phonenumbers.is_valid_number(number):
        known = number_region not in (None, "ZZ", _NON_GEO_REGION)
        return PhoneCheck(
            ok=False,
            region=number_region if known else None,
            reason="invalid_for_region" if known else "invalid",
            typed=text,
        )

    number_region = phonenumbers.region_code_for_number(number)
    if number_region in (None, "ZZ", _NON_GEO_REGION):
        number_region = None
    code = phonenumbers.number_type(number)
    type_name = _TYPES.get(code, "unknown")
    zones = tuple(
        zone for zone in pn_timezone.time_zones_for_number(number) if zone != _UNKNOWN_ZONE
    )
    ok = code in _SMS_TYPES
    return PhoneCheck(
        ok=ok,
        e164=phonenumbers.format_number(number, PhoneNumberFormat.E164),
        number_type=type_name,
        region=number_region,
        time_zones=zones,
        reason=None if ok else type_name,
        typed=text,
    )


def mobile_time_zone(check: PhoneCheck) -> str | None:
    """The time zone of the checked number when it has exactly one, else None."""
    return check.time_zones[0] if len(check.time_zones) == 1 else None
