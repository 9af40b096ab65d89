"""Reading back the QR codes the bot sends: the modules of a PNG and of an SVG, to compare with
the QR code of the link they should carry.

No pure-Python QR *decoder* is at hand, so a test compares module by module with the symbol
segno makes for the expected link (same error correction level): the picture is that link's
QR code exactly, and a scanner reads what segno encoded.
"""

from __future__ import annotations

import re
import struct
import xml.etree.ElementTree as ET
import zlib

import segno

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
Modules = list[list[bool]]


def expected_modules(link: str, *, border: int = 4) -> Modules:
    """The dark modules of ``link``'s QR code with the quiet zone, as the bot makes it."""
    qr = segno.make(link, error="m")
    return [[bool(value) for value in row] for row in qr.matrix_iter(border=border)]


def _chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data.startswith(PNG_SIGNATURE), "not a PNG"
    chunks = []
    position = len(PNG_SIGNATURE)
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in chunk {kind!r}"
        chunks.append((kind, body))
        position += 12 + length
    assert chunks[-1][0] == b"IEND"
    return chunks


def png_pixels(data: bytes) -> list[list[bool]]:
    """The dark pixels of a 1-bit greyscale or palette PNG (as segno writes them)."""
    chunks = _chunks(data)
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert depth == 1 and colour in (0, 3) and interlace == 0, (depth, colour, interlace)
    palette = next((body for kind, body in chunks if kind == b"PLTE"), b"")
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    stride = (width + 7) // 8
    rows: list[bytes] = []
    previous = bytes(stride)
    for y in range(height):
        line = raw[y * (stride + 1) : (y + 1) * (stride + 1)]
        kind, scan = line[0], bytearray(line[1:])
        for i in range(stride):
            left = scan[i - 1] if i else 0
            up = previous[i]
            corner = previous[i - 1] if i else 0
            if kind == 1:
                scan[i] = (scan[i] + left) & 0xFF
            elif kind == 2:
                scan[i] = (scan[i] + up) & 0xFF
            elif kind == 3:
                scan[i] = (scan[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                nearest = min(
                    (abs(p - left), 0, left), (abs(p - up), 1, up), (abs(p - corner), 2, corner)
                )
                scan[i] = (scan[i] + nearest[2]) & 0xFF
        previous = bytes(scan)
        rows.append(previous)

    def dark(bit: int) -> bool:
        if colour == 0:
            return bit == 0
        return palette[3 * bit : 3 * bit + 3] == b"\x00\x00\x00"

    return [[dark((row[x // 8] >> (7 - x % 8)) & 1) for x in range(width)] for row in rows]


def png_modules(data: bytes, size: int) -> Modules:
    """The modules of a square QR picture of ``size`` modules a side (quiet zone included),
    each sampled in its middle; every pixel of a module must agree."""
    pixels = png_pixels(data)
    width = len(pixels[0])
    assert len(pixels) == width and width % size == 0, (width, size)
    scale = width // size
    modules = []
    for row in range(size):
        line = []
        for column in range(size):
            block = {
                pixels[row * scale + dy][column * scale + dx]
                for dy in range(scale)
                for dx in range(scale)
            }
            assert len(block) == 1, f"module {row},{column} is not one colour"
            line.append(block.pop())
        modules.append(line)
    return modules


def svg_modules(data: bytes, size: int) -> Modules:
    """The modules segno's SVG path draws (``M``/``m`` moves, ``h`` dark runs)."""
    root = ET.fromstring(data)
    assert root.tag == "{http://www.w3.org/2000/svg}svg", root.tag
    path = root.find("{http://www.w3.org/2000/svg}path")
    assert path is not None
    modules = [[False] * size for _ in range(size)]
    x = y = 0.0
    for command, first, second in re.findall(
        r"([Mmh])(-?[\d.]+)(?:\s(-?[\d.]+))?", path.get("d", "")
    ):
        if command == "M":
            x, y = float(first), float(second)
        elif command == "m":
            x, y = x + float(first), y + float(second)
        else:
            for column in range(int(x), int(x + float(first))):
                modules[int(y)][column] = True
            x += float(first)
    return modules


def title_of(data: bytes) -> str:
    root = ET.fromstring(data)
    title = root.find("{http://www.w3.org/2000/svg}title")
    return title.text or "" if title is not None else ""
