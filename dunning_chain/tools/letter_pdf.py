"""Letters rendered in batches: one wkhtmltopdf run for many letters, cut back per letter.

Pure helpers (no ORM): the arguments of a run, the combined HTML document, the run itself and
the cut. The ORM part (rendering the report's HTML, starting the runs in the background,
attaching each letter) is ``dunning.channel.letter`` in ``models/dunning_channel_letter.py``.

Debian's wkhtmltopdf (unpatched Qt) writes no outlines, so Odoo's own outline-based split
cannot work there: each letter opens with a near-white dot, rgb(254, 253, 251) (see the letter
report's ``o_dunning_letter_mark``), found in the page's drawing commands.
"""
import io
import logging
import os
import re
import subprocess
import tempfile

import lxml.html

_logger = logging.getLogger(__name__)

#: the fill colour of the dot that opens each letter, as drawn in a page's content stream
LETTER_MARK = re.compile(rb"0\.99607\d* 0\.99215\d* 0\.98431\d* (?:scn|sc|rg)\b")
ARTICLE_XPATH = "//div[contains(concat(' ', normalize-space(@class), ' '), ' article ')]"


def letter_args(args, patched_qt):
    """wkhtmltopdf arguments for letters, from Odoo's: no JavaScript delay (a letter runs no
    script); without patched Qt, where headers and footers are not drawn at all, the page
    margins they would have taken go to the letter (it fits on one page more often)."""
    args = list(args)
    overrides = {"--javascript-delay": None}
    if not patched_qt:
        overrides.update({"--margin-top": "12", "--margin-bottom": "12",
                          "--margin-left": "10", "--margin-right": "10",
                          "--header-spacing": None})
    result, index = [], 0
    while index < len(args):
        arg = args[index]
        if arg in overrides:
            if overrides[arg] is not None:
                result += [arg, overrides[arg]]
            overrides[arg] = None  # done
            index += 2
            continue
        result.append(arg)
        index += 1
    for arg, value in overrides.items():
        if value is not None:
            result += [arg, value]
    return result


def combine_letters(bodies, footer):
    """One HTML document with the letters one after another, each starting on a new page, and
    the footer without page numbers (they would count across the whole run)."""
    roots = [lxml.html.fromstring(body) for body in bodies]
    container = roots[0].xpath("//body")[0]
    for root in roots[1:]:
        for article in root.xpath(ARTICLE_XPATH):
            article.set("style", (article.get("style") or "") + ";page-break-before: always;")
            container.append(article)
    combined = lxml.html.tostring(roots[0], encoding="unicode", doctype="<!DOCTYPE html>")
    footer_root = lxml.html.fromstring(footer)
    for span in footer_root.xpath("//span[contains(concat(' ', @class, ' '), ' topage ')]"):
        holder = span.getparent()
        holder.getparent().remove(holder)
    footer = lxml.html.tostring(footer_root, encoding="unicode", doctype="<!DOCTYPE html>")
    return combined, footer


def letter_starts(page_contents):
    """Indexes of the pages (given as their content streams) that open a letter."""
    return [number for number, data in enumerate(page_contents) if LETTER_MARK.search(data)]


def cut_points(starts, letters, pages):
    """[(first page, end page)] of each of ``letters`` letters, or None when the marks found
    do not say where each letter starts (then the letters are rendered one by one)."""
    if len(starts) != letters or not starts or starts[0] != 0:
        return None
    ends = starts[1:] + [pages]
    return list(zip(starts, ends))


def run_letter_job(job, binary, reader_class, writer_class):
    """Run wkhtmltopdf for one batch of letters (in a worker thread: no ORM here) and cut the
    PDF per letter. ``job``: args, header, footer, body (HTML) and ids (one per letter, in
    order). Returns {id: PDF bytes}, or {} when the output cannot be cut safely."""
    with tempfile.TemporaryDirectory(prefix="dunning-letters-") as tmp:
        paths = {}
        for key in ("header", "footer", "body"):
            paths[key] = os.path.join(tmp, f"{key}.html")
            with open(paths[key], "w", encoding="utf-8") as handle:
                handle.write(job[key])
        output = os.path.join(tmp, "letters.pdf")
        process = subprocess.run(
            [binary, *job["args"], "--header-html", paths["header"],
             "--footer-html", paths["footer"], paths["body"], output],
            capture_output=True, encoding="utf-8", check=False)
        if process.returncode not in (0, 1) or not os.path.exists(output):
            _logger.warning("wkhtmltopdf failed on a batch of letters: %s", process.stderr[-500:])
            return {}
        with open(output, "rb") as handle:
            pdf = handle.read()
    try:
        reader = reader_class(io.BytesIO(pdf), strict=False)
        starts = letter_starts(page.get_contents().get_data() for page in reader.pages)
    except Exception:  # noqa: BLE001
        _logger.warning("Could not cut a batch of letters", exc_info=True)
        return {}
    cuts = cut_points(starts, len(job["ids"]), len(reader.pages))
    if cuts is None:
        _logger.warning("A batch of %s letters gave %s letter starts: rendering them one by one",
                        len(job["ids"]), len(starts))
        return {}
    result = {}
    for comm_id, (first, end) in zip(job["ids"], cuts):
        writer = writer_class()
        for number in range(first, end):
            writer.add_page(reader.pages[number])
        stream = io.BytesIO()
        writer.write(stream)
        result[comm_id] = stream.getvalue()
    return result
