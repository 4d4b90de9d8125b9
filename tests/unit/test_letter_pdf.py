"""Letters rendered in batches: arguments, the combined document and where to cut."""
from conftest import load_tool

letter_pdf = load_tool("dunning_chain", "letter_pdf")

ODOO_ARGS = ["--disable-local-file-access", "--quiet", "--page-size", "A4",
             "--margin-top", "40", "--dpi", "90", "--header-spacing", "35",
             "--margin-left", "7", "--margin-bottom", "32", "--margin-right", "7",
             "--orientation", "Portrait", "--javascript-delay", "1000"]


def pairs(args):
    found = {}
    for index, arg in enumerate(args):
        if arg.startswith("--") and index + 1 < len(args) and not args[index + 1].startswith("--"):
            found[arg] = args[index + 1]
    return found


def test_unpatched_qt_gives_the_header_margins_to_the_letter():
    args = letter_pdf.letter_args(ODOO_ARGS, patched_qt=False)
    values = pairs(args)
    assert values["--margin-top"] == "12" and values["--margin-bottom"] == "12"
    assert values["--margin-left"] == "10" and values["--margin-right"] == "10"
    assert "--header-spacing" not in args and "--javascript-delay" not in args
    assert values["--page-size"] == "A4" and "--quiet" in args
    assert args.count("--margin-top") == 1


def test_patched_qt_keeps_the_layout_but_not_the_javascript_delay():
    args = letter_pdf.letter_args(ODOO_ARGS, patched_qt=True)
    values = pairs(args)
    assert values["--margin-top"] == "40" and values["--header-spacing"] == "35"
    assert "--javascript-delay" not in args


def test_letters_follow_each_other_on_new_pages_without_page_numbers():
    body = ('<html><body><div class="article o_dunning_letter">Letter {n}</div>'
            '</body></html>')
    footer = ('<html><body><div class="footer">Cobros Demo<div>Page <span class="page"/> of '
              '<span class="topage"/></div></div></body></html>')
    combined, cleaned = letter_pdf.combine_letters([body.format(n=n) for n in (1, 2, 3)], footer)
    assert combined.count("Letter ") == 3
    assert combined.index("Letter 1") < combined.index("Letter 2") < combined.index("Letter 3")
    assert combined.count("page-break-before: always") == 2, "each letter after the first"
    assert "topage" not in cleaned and "Cobros Demo" in cleaned


def test_cut_where_each_letter_starts():
    mark = b"q 0.996078 0.992157 0.984314 rg 1 1 1 1 re f Q"
    pages = [mark + b" BT (Letter 1) Tj ET", b"BT (page 2) Tj ET", mark, mark + b" more",
             b"0.5 0.5 0.5 rg"]
    starts = letter_pdf.letter_starts(pages)
    assert starts == [0, 2, 3]
    assert letter_pdf.cut_points(starts, 3, len(pages)) == [(0, 2), (2, 3), (3, 5)]


def test_no_cut_when_the_marks_do_not_match_the_letters():
    assert letter_pdf.cut_points([0, 2], 3, 4) is None, "a letter lost its mark"
    assert letter_pdf.cut_points([1, 2], 2, 4) is None, "the first page opens no letter"
    assert letter_pdf.cut_points([], 0, 0) is None
