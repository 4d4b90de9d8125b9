"""SMS text helpers: encoding detection, segment counting, shortening, transliteration.

Pure module (standard library only, no Odoo import) so it can be unit-tested alone.

Encodings
---------
An SMS is sent either in the *GSM 03.38 7-bit default alphabet* (``GSM-7``) or, as soon as one
character is outside that alphabet, in ``UCS-2`` (in practice UTF-16: characters outside the Basic
Multilingual Plane, e.g. most emoji, take a surrogate pair = 2 code units).

* GSM-7 counts *septets*: characters of the basic table take 1, characters of the extension table
  (``^ { } \\ [ ~ ] | €`` and form feed) take 2 (an ESC septet followed by the character).
* UCS-2 counts UTF-16 code units.

National language shift tables (3GPP TS 23.038 annex A, e.g. the Spanish one) are not taken into
account: most gateways and handsets do not use them.

Segments
--------
===========  ==============  ========================
encoding     single message  per part when concatenated
===========  ==============  ========================
GSM-7        160 septets     153 septets
UCS-2        70 units        67 units
===========  ==============  ========================

When a message is concatenated, an escape pair (GSM-7) or a surrogate pair (UCS-2) is never split
across two parts: if it would straddle a part boundary, the whole pair moves to the next part and
the previous part keeps one unused unit. This is what carriers and the common gateways do, so
:func:`analyse` can report one more segment than ``ceil(length / 153)`` (or ``/ 67``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = [
    "GSM7",
    "UCS2",
    "GSM7_BASIC",
    "GSM7_EXTENSION",
    "SmsInfo",
    "analyse",
    "is_gsm7",
    "transliterate_spanish",
    "shorten",
]

GSM7 = "GSM-7"
UCS2 = "UCS-2"

#: GSM 03.38 basic character set, in table order (0x00-0x7F). 0x1B is the escape to the extension
#: table and is therefore not a character of its own. 0x09 is the capital Ç as in 3GPP TS 23.038
#: (the unicode.org mapping file lists a small ç there; ç is treated as non-GSM here).
# fmt: off
GSM7_BASIC: frozenset[str] = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ" "ÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
# fmt: on

#: GSM 03.38 extension table: each of these costs 2 septets (ESC + character).
GSM7_EXTENSION: frozenset[str] = frozenset("\f^{}\\[~]|€")

_LIMITS: dict[str, tuple[int, int]] = {
    # encoding: (single-part limit, per-part limit when concatenated)
    GSM7: (160, 153),
    UCS2: (70, 67),
}

# Spanish (and a few neighbouring) characters outside GSM-7 mapped to a GSM-7 look-alike.
# é ñ ü ¿ ¡ É Ñ Ü are GSM-7 already and are deliberately absent; € is in the extension table.
# fmt: off
_SPANISH_MAP: dict[str, str] = {
    "á": "a", "í": "i", "ó": "o", "ú": "u",
    "Á": "A", "Í": "I", "Ó": "O", "Ú": "U",
    "º": "o", "ª": "a",
    "ç": "c",
    "ï": "i", "Ï": "I",
    "ê": "e", "Ê": "E",
    "â": "a", "Â": "A",
    "ô": "o", "Ô": "O",
    "\u201c": '"', "\u201d": '"',  # “ ”
    "«": '"', "»": '"',
    "\u2018": "'", "\u2019": "'",  # ‘ ’
    "\u2013": "-", "\u2014": "-",  # – —
    "\u2026": "...",  # …
    "\u00a0": " ",  # non-breaking space
    "\u202f": " ",  # narrow non-breaking space
}
# fmt: on
_SPANISH_TABLE = str.maketrans(_SPANISH_MAP)

#: A link token: starts with http://, https:// or www. and runs to the next whitespace.
_URL_RE = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)

#: Characters dropped from the end of a cut prefix before the ellipsis is appended.
_TRAILING_JUNK = " \t\r\n\f\u00a0,;:.-\u2013\u2014/"


@dataclass(frozen=True)
class SmsInfo:
    """Result of :func:`analyse`.

    :ivar encoding: ``"GSM-7"`` or ``"UCS-2"``.
    :ivar length: size of the text in units: septets for GSM-7 (extension characters count 2),
        UTF-16 code units for UCS-2 (characters outside the BMP count 2).
    :ivar segments: number of SMS parts needed (0 for an empty text).
    :ivar per_segment: unit limit of one part: 160/70 for a single message, 153/67 in a long one.
    :ivar remaining: units that can still be added before one more part is needed (assuming the
        added characters are of the same size and do not change the encoding).
    :ivar non_gsm_chars: the distinct characters that force UCS-2, sorted by code point.
    """

    encoding: str
    length: int
    segments: int
    per_segment: int
    remaining: int
    non_gsm_chars: list[str] = field(default_factory=list)


def is_gsm7(text: str) -> bool:
    """Return whether *text* can be sent in the GSM-7 alphabet (basic or extension table)."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def _unit_sizes(text: str, encoding: str) -> list[int]:
    """Size of every character of *text* in the units of *encoding* (1 or 2)."""
    if encoding == GSM7:
        return [2 if ch in GSM7_EXTENSION else 1 for ch in text]
    return [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def _layout(sizes: list[int], encoding: str) -> tuple[int, int, int, int]:
    """Pack characters of the given unit *sizes* into parts.

    :return: ``(length, segments, per_segment, remaining)``.
    """
    single, multi = _LIMITS[encoding]
    length = sum(sizes)
    if length <= single:
        return length, (1 if length else 0), single, single - length
    segments, used = 1, 0
    for size in sizes:
        if used + size > multi:  # never split an escape pair / surrogate pair
            segments, used = segments + 1, 0
        used += size
    return length, segments, multi, multi - used


def analyse(text: str) -> SmsInfo:
    """Describe how *text* would be sent as SMS: encoding, length, parts, room left.

    >>> analyse("Hola").segments
    1
    >>> analyse("€" * 81).segments  # 162 septets
    2
    """
    text = text or ""
    non_gsm = sorted({ch for ch in text if ch not in GSM7_BASIC and ch not in GSM7_EXTENSION})
    encoding = UCS2 if non_gsm else GSM7
    length, segments, per_segment, remaining = _layout(_unit_sizes(text, encoding), encoding)
    return SmsInfo(
        encoding=encoding,
        length=length,
        segments=segments,
        per_segment=per_segment,
        remaining=remaining,
        non_gsm_chars=non_gsm,
    )


def transliterate_spanish(text: str) -> str:
    """Replace common Spanish characters outside GSM-7 by GSM-7 look-alikes.

    á í ó ú (and capitals) lose their accent, º/ª become o/a, ç becomes c, typographic quotes,
    dashes, the ellipsis character and non-breaking spaces become their ASCII forms. é ñ ü ¿ ¡ É Ñ Ü
    and € are GSM-7 already and are kept. Characters without a mapping are left untouched, so the
    result may still need UCS-2 (check with :func:`analyse`).
    """
    return (text or "").translate(_SPANISH_TABLE)


def _segments(text: str, encoding: str | None) -> int:
    """Number of parts of *text*, in its own encoding (``None``) or in the forced *encoding*."""
    if encoding is None:
        return analyse(text).segments
    return _layout(_unit_sizes(text, encoding), encoding)[1]


def _ellipsis(body: str, encoding: str | None) -> str:
    """The ellipsis to append: ``...`` when the message is GSM-7, ``…`` (1 unit) in UCS-2."""
    if encoding == GSM7 or (encoding is None and is_gsm7(body)):
        return "..."
    return "\u2026"


def _close(prefix: str, encoding: str | None, rest: str = "") -> str:
    """Tidy a cut *prefix* and append the ellipsis (*rest* is what will follow it)."""
    prefix = prefix.rstrip()
    words = prefix.split()
    if words and _URL_RE.search(words[-1]):
        # Ends with a link (a link token always runs to the end of its word): keep it intact and
        # separate the ellipsis, or linkifiers would glue it to the address.
        prefix += " "
    else:
        stripped = prefix.rstrip(_TRAILING_JUNK)
        links = list(_URL_RE.finditer(prefix))
        if links and len(stripped) < links[-1].end():
            # the junk after a link ("... https://x.y/ .") reaches into the link ("/"): keep
            # the link whole, the ellipsis apart, as above
            prefix = prefix[: links[-1].end()] + " "
        else:
            prefix = stripped
    return prefix + _ellipsis(prefix + rest, encoding)


def shorten(text: str, max_segments: int, encoding: str | None = None) -> str:
    """Shorten *text* so that it fits in *max_segments* SMS parts.

    * A text that already fits is returned unchanged.
    * Otherwise it is cut at a word boundary (trailing punctuation removed) and an ellipsis is
      appended: ``...`` when the result is GSM-7 (``…`` is not GSM-7), ``…`` in UCS-2.
    * Links (tokens starting with ``http://``, ``https://`` or ``www.``) are never cut: they are
      kept whole or the text is cut before them.
    * When the text ends with a link (``"... Pay here: https://x.y/abc"``) the prose before it is
      shortened and the link is kept at the end; if none of the prose fits, only the link is left.
    * If the first word is longer than the budget it is cut inside (unless it is a link).

    :param encoding: ``None`` to count in the encoding the result will actually use (recommended),
        or ``"GSM-7"``/``"UCS-2"`` to force the counting, e.g. when the text will be sent with other
        content that imposes UCS-2. Forcing GSM-7 on a text that is not GSM-7 is an error.
    :raises ValueError: if *max_segments* < 1, if *encoding* is unknown or GSM-7 is forced on a
        non-GSM-7 text, or if a link that has to be kept (the trailing link, or a link that is the
        first word) cannot fit alone in *max_segments* parts.
    """
    if max_segments < 1:
        raise ValueError(f"max_segments must be at least 1, got {max_segments!r}")
    if encoding not in (None, GSM7, UCS2):
        raise ValueError(f"unknown SMS encoding {encoding!r}: use None, {GSM7!r} or {UCS2!r}")
    text = text or ""
    if encoding == GSM7 and not is_gsm7(text):
        bad = "".join(analyse(text).non_gsm_chars)
        raise ValueError(f"text cannot be encoded in GSM-7 (characters {bad!r})")

    def fits(candidate: str) -> bool:
        return _segments(candidate, encoding) <= max_segments

    if fits(text):
        return text
    if fits(text.rstrip()):
        return text.rstrip()

    # Split off a trailing link, with the whitespace that separates it from the prose.
    stripped = text.rstrip()
    prose, sep, link = stripped, "", ""
    urls = list(_URL_RE.finditer(stripped))
    if urls and urls[-1].end() == len(stripped):
        link = urls[-1].group()
        if not fits(link):
            raise ValueError(f"the link {link!r} alone does not fit in {max_segments} SMS part(s)")
        head = stripped[: urls[-1].start()]
        prose = head.rstrip()
        sep = head[len(prose) :] or " "

    def build(prefix: str) -> str:
        if not link:
            return _close(prefix, encoding)
        return _close(prefix, encoding, sep + link) + sep + link

    # No result can hold more characters than the largest possible budget: bound the search.
    bound = max_segments * _LIMITS[GSM7][0]
    cuts = [i for i, ch in enumerate(prose) if ch.isspace() and 0 < i <= bound]
    for i in reversed(cuts):
        prefix = prose[:i]
        if not prefix.rstrip(_TRAILING_JUNK):
            continue
        candidate = build(prefix)
        if fits(candidate):
            return candidate

    if link:
        return link

    # A single over-long first word: cut inside it, but before any link it contains.
    body = prose.lstrip()
    lead = prose[: len(prose) - len(body)]
    first = body.split(None, 1)[0] if body else ""
    url = _URL_RE.search(first)
    if url and url.start() == 0:
        raise ValueError(
            f"the link {url.group()!r} alone does not fit in {max_segments} SMS part(s)"
        )
    limit = url.start() if url else len(first) - 1
    for j in range(min(limit, bound), 0, -1):
        candidate = lead + first[:j] + _ellipsis(lead + first[:j], encoding)
        if fits(candidate):
            return candidate
    return _ellipsis("", encoding)  # unreachable in practice: one character always fits
