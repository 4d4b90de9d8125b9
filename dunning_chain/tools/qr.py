"""QR codes as PNG data URIs, the same images as the ``qrcode`` library draws, at less cost.

``qrcode`` (an Odoo requirement) picks the mask of a code by drawing the whole code eight times,
once per mask, placing every data bit again each time, scores each with pure Python loops over
every module, and draws the PNG one rectangle per dark module: about 10 ms per code, paid per
letter (its customer link, and the SEPA payment code where the company has a euro account). Here the data bits are placed once: the eight candidates differ
only by each mask's flips of the data modules (their format area is blank whatever the mask), so
each candidate is the unmasked code, one integer per row, XOR the mask's flips; it is scored by
``qrcode``'s own penalty rules (``qrcode.util.lost_point``: runs of five or more, 2x2 blocks,
finder-like patterns, dark share) counted with regular expressions and bit operations, and the
first best mask is kept as ``qrcode`` keeps it; ``qrcode`` then makes the code with that mask.
The PNG is the module matrix scaled up (nearest neighbour): the same pixels, hence the same
file, as ``qrcode``'s PIL image.
"""
import base64
import io
import re

import qrcode
from qrcode import util
from qrcode.main import copy_2d_array, precomputed_qr_blanks
from PIL import Image

from odoo.tools.image import image_data_uri

#: {version: (size, [[row flip bits of mask k] for k in 0..7])}
_FLIPS = {}
#: runs of five modules of a colour or more (qrcode's level 1: length - 2 points each)
_RUNS = re.compile("1{5,}|0{5,}")
#: the 1:1:3:1:1 finder-like pattern with four light modules on one side (level 3: 40 points
#: at each place it starts, overlapping included)
_FINDER_LIKE = re.compile("(?=10111010000|00001011101)")


def lost_point(rows, size):
    """qrcode.util.lost_point of the code whose rows are ``rows`` (strings of '1' dark and '0'
    light), the same total, counted in C (regular expressions, integers) rather than module
    by module."""
    # rows and columns in one text, apart: no run or pattern goes across a separator
    lines = " ".join(rows + ["".join(column) for column in zip(*rows)])
    points = sum(len(run) - 2 for run in _RUNS.findall(lines))
    points += 40 * len(_FINDER_LIKE.findall(lines))
    full, pairs = (1 << size) - 1, (1 << (size - 1)) - 1
    bits = [int(row, 2) for row in rows]
    blocks = 0
    for upper, lower in zip(bits, bits[1:]):
        same_column = ~(upper ^ lower) & full
        blocks += (same_column & (same_column >> 1) & ~(upper ^ (upper >> 1)) & pairs).bit_count()
    points += 3 * blocks
    percent = float(sum(row.count("1") for row in rows)) / (size**2)
    return points + int(abs(percent * 100 - 50) / 5) * 10


class _QRCode(qrcode.QRCode):
    """qrcode.QRCode whose mask choice places the data bits once (the same choice)."""

    def _dunning_flips(self):
        flips = _FLIPS.get(self.version)
        if flips is None:
            self.makeImpl(True, 0)  # builds the version's blank (function patterns)
            self.modules = copy_2d_array(precomputed_qr_blanks[self.version])
            self.setup_type_info(True, 0)
            if self.version >= 7:
                self.setup_type_number(True)
            size = len(self.modules)
            flips = _FLIPS[self.version] = [[
                sum(1 << (size - 1 - col) for col, value in enumerate(values)
                    if value is None and util.mask_func(mask)(row, col))
                for row, values in enumerate(self.modules)] for mask in range(8)]
        return flips

    def best_mask_pattern(self):
        flips = self._dunning_flips()
        self.makeImpl(True, 0)
        size = len(self.modules)
        unmasked = [int("".join("1" if dark else "0" for dark in values), 2) ^ flip
                    for values, flip in zip(self.modules, flips[0])]
        best = pattern = None
        for mask in range(8):
            rows = [format(bits ^ flip, f"0{size}b") for bits, flip in zip(unmasked, flips[mask])]
            lost = lost_point(rows, size)
            if mask == 0 or best > lost:
                best, pattern = lost, mask
        return pattern


def qr_matrix(value, error_correction=qrcode.constants.ERROR_CORRECT_M):
    """The modules of the QR code of ``value`` (rows of booleans, True: dark), as
    ``qrcode.QRCode(error_correction=...).make(fit=True)`` makes them."""
    code = _QRCode(error_correction=error_correction)
    code.add_data(value)
    code.make(fit=True)
    return code.modules


def qr_png(value, box_size=4, border=2, error_correction=qrcode.constants.ERROR_CORRECT_M):
    """PNG bytes of the QR code of ``value``, pixel for pixel ``qrcode``'s default image
    (black on white, 1 bit) with these box size and border."""
    modules = qr_matrix(value, error_correction)
    side = len(modules) + 2 * border
    light = bytes([255]) * border
    pixels = bytearray(bytes([255]) * side * border)
    for values in modules:
        pixels += light + bytes(0 if dark else 255 for dark in values) + light
    pixels += bytes([255]) * side * border
    image = Image.frombytes("L", (side, side), bytes(pixels)).convert(
        "1", dither=Image.Dither.NONE).resize((side * box_size, side * box_size), Image.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def qr_data_uri(value, box_size=4, border=2):
    """The QR code of ``value`` at error correction M (what the EPC's QR guidelines ask) as a
    PNG data URI: the image of ``qrcode.QRCode(box_size=..., border=...)``, byte for byte
    (test_dunning_send_scale.py)."""
    return image_data_uri(base64.b64encode(qr_png(value, box_size=box_size, border=border)))
