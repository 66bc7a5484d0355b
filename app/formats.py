"""How dates and times read to people, GOV.UK style, in London time: one home for pages and emails.
And QR codes as PNG, for emails and printed posters; the council's colour checked for contrast and
its logo checked and drawn."""

from __future__ import annotations

import datetime as dt
import struct
import zlib
from functools import lru_cache
from pathlib import Path

import zxingcpp

from app.areas import local


def long_date(moment: dt.datetime | dt.date) -> str:
    """GOV.UK style: "Wednesday 13 March 2024" (London date for a moment)."""
    if isinstance(moment, dt.datetime):
        moment = local(moment)
    return f"{moment:%A} {moment.day} {moment:%B %Y}"


def day_month_year(moment: dt.datetime | dt.date) -> str:
    """"14 March 2024" (London date for a moment): a date in a sentence of facts."""
    if isinstance(moment, dt.datetime):
        moment = local(moment)
    return f"{moment.day} {moment:%B %Y}"


def clock_time(moment: dt.datetime) -> str:
    """GOV.UK style: "9:30am", "12pm", "6pm" (London time)."""
    moment = local(moment)
    hour = moment.hour % 12 or 12
    suffix = "am" if moment.hour < 12 else "pm"
    minutes = f":{moment.minute:02d}" if moment.minute else ""
    return f"{hour}{minutes}{suffix}"


def time_range(start: dt.datetime, end: dt.datetime) -> str:
    return f"{clock_time(start)} to {clock_time(end)}"


def qr_png(url: str, *, scale: int = 5, border: int = 2) -> bytes:
    """A QR code of `url` as a 1-bit greyscale PNG, black modules on white with a quiet zone of
    `border` modules (check-in links, the questionnaire's start link)."""
    # zxing-cpp makes the symbol in C++ (0.5 ms; segno, pure Python, took 1.5 ms to encode and
    # 2.4 ms to write the PNG, most of a confirmation's time). The 1-bit PNG is packed here, one
    # row of modules at a time: zxing's own images are 8-bit.
    symbol = zxingcpp.create_barcode(url, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    modules = symbol.to_image(scale=1, add_quiet_zones=False)
    size = memoryview(modules).shape[0]
    light, on_white = "1" * (size + 2 * border), "1" * border
    lines = bytes(modules).translate(_PIXEL_BITS).decode("ascii")
    width = (size + 2 * border) * scale
    padding = -width % 8
    rows = []
    for row in [light] * border + [on_white + lines[y * size:(y + 1) * size] + on_white
                                   for y in range(size)] + [light] * border:
        bits = "".join(bit * scale for bit in row) + "1" * padding
        rows.append((b"\x00" + int(bits, 2).to_bytes((width + padding) // 8, "big")) * scale)
    return _png(width, width, zlib.compress(b"".join(rows)))


#: zxing's module image is 0 for a dark module and 255 for a light one; PNG greyscale bits are 0 for black
#: and 1 for white.
_PIXEL_BITS = bytes.maketrans(bytes([0, 255]), b"01")


def _png(width: int, height: int, image_data: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1 bit, greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", image_data) + chunk(b"IEND", b"")


def file_size(size: int) -> str:
    """A file's size as a download link gives it: "1.2 MB", "340 KB"."""
    return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{max(1, size // 1024)} KB"


LOGO_MAX_BYTES = 200 * 1024
#: The logo's height as emails draw it, in CSS pixels (drawn at twice that for sharp screens).
LOGO_EMAIL_HEIGHT = 40


def logo_problem(path: Path) -> str | None:
    """Why this file cannot be the council's logo, or None: it must be an SVG of at most 200 KB
    without script, event handlers or embedded documents, that resvg can draw."""
    import xml.etree.ElementTree as ElementTree

    if not path.is_file():
        return f"must be an SVG file, and {path} is not a file"
    data = path.read_bytes()
    if len(data) > LOGO_MAX_BYTES:
        return f"must be an SVG of 200 KB or less, not {len(data) // 1024} KB"
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        return f"must be an SVG file, and {path.name} is not well-formed XML ({exc})"
    if root.tag.rsplit("}", 1)[-1] != "svg":
        return f"must be an SVG file, and {path.name} is not one"
    for element in root.iter():
        name = element.tag.rsplit("}", 1)[-1]
        if name in ("script", "foreignObject") or any(a.rsplit("}", 1)[-1].lower().startswith("on") for a in element.attrib):
            return "must be an SVG without script, event handlers or embedded documents"
    try:
        logo_png(path)
    except ValueError as exc:
        return f"must be an SVG resvg can draw ({exc})"
    return None


@lru_cache(maxsize=4)
def logo_png(path: Path) -> bytes:
    """The logo as emails carry it: a PNG drawn by resvg at twice the height shown."""
    import resvg_py

    return bytes(resvg_py.svg_to_bytes(svg_path=str(path), height=LOGO_EMAIL_HEIGHT * 2))


def _luminance(colour: str) -> float:
    """WCAG 2's relative luminance of a #rrggbb colour."""
    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(colour[i:i + 2]) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(one: str, other: str) -> float:
    """WCAG 2's contrast ratio of two #rrggbb colours, from 1 to 21."""
    lighter, darker = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)
