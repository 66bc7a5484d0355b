"""The check-in QR code's PNG, read back pixel by pixel and decoded as a phone's camera would."""

import struct
import zlib

import zxingcpp

from app.bookings.notices import checkin_qr_png

URL = "https://bookings.example.gov.uk/organisers/check-in/Zx3v9Qk0bL2mR7tY1wP4sN8dF6hJ5gA0cE3uI2oK1"


def read_png(data: bytes) -> list[list[int]]:
    """The pixels of a 1-bit greyscale PNG (0 black, 1 white), every chunk's CRC checked."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        assert struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0] == zlib.crc32(kind + body)
        chunks[kind] = chunks.get(kind, b"") + body
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour) == (1, 0)
    raw, stride = zlib.decompress(chunks[b"IDAT"]), (width + 7) // 8
    rows = []
    for y in range(height):
        line = raw[y * (stride + 1):(y + 1) * (stride + 1)]
        assert line[0] == 0  # no filter
        rows.append([int(b) for b in "".join(f"{byte:08b}" for byte in line[1:])[:width]])
    return rows


def decoded(pixels: list[list[int]]) -> list[str]:
    grey = bytes(255 * p for row in pixels for p in row)
    image = memoryview(grey).cast("B", (len(pixels), len(pixels[0])))
    return [barcode.text for barcode in zxingcpp.read_barcodes(image)]


def test_the_code_reads_back_as_the_booking_s_check_in_link():
    assert decoded(read_png(checkin_qr_png(URL))) == [URL]


def test_modules_are_drawn_at_scale_inside_a_white_quiet_zone():
    pixels = read_png(checkin_qr_png(URL, scale=5, border=2))
    size = len(pixels)
    assert size % 5 == 0 and all(len(row) == size for row in pixels)
    edge = 2 * 5
    assert all(p == 1 for row in pixels[:edge] + pixels[-edge:] for p in row)
    assert all(p == 1 for row in pixels for p in row[:edge] + row[-edge:])
    # The finder pattern's corner module is dark, a block of 5 x 5 pixels.
    assert {pixels[y][x] for y in range(edge, edge + 5) for x in range(edge, edge + 5)} == {0}
    # Each module is a solid square: every 5 x 5 block inside has one colour.
    for y in range(0, size, 5):
        for x in range(0, size, 5):
            assert len({pixels[y + dy][x + dx] for dy in range(5) for dx in range(5)}) == 1, (x, y)
