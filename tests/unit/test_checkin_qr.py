"""The check-in QR code's PNG, read back pixel by pixel: the symbol segno made, at its scale, with
its quiet zone, as a phone's camera will see it."""

import struct
import zlib

import segno

from app.bookings.notices import checkin_qr_png

URL = "https://bookings.example.gov.uk/organisers/check-in/Zx3v9Qk0bL2mR7tY1wP4sN8dF6hJ5gA0cE3uI2oK1"


def read_png(data: bytes) -> list[list[int]]:
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
        bits = "".join(f"{byte:08b}" for byte in line[1:])[:width]
        rows.append([int(b) for b in bits])
    return rows


def test_every_module_of_the_symbol_is_drawn_at_scale_inside_a_white_border():
    matrix = segno.make(URL, error="m", mask=2, micro=False, boost_error=False).matrix
    pixels = read_png(checkin_qr_png(URL, scale=5, border=2))
    size = (len(matrix) + 4) * 5
    assert len(pixels) == size and all(len(row) == size for row in pixels)
    for y in range(size):
        for x in range(size):
            my, mx = y // 5 - 2, x // 5 - 2
            dark = 0 <= my < len(matrix) and 0 <= mx < len(matrix) and matrix[my][mx]
            assert pixels[y][x] == (0 if dark else 1), (x, y)


def test_each_booking_s_link_draws_its_own_code():
    assert read_png(checkin_qr_png(URL)) != read_png(checkin_qr_png(URL + "x"))
