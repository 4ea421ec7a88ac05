"""Small images built in memory for the imaging tests: every format, mode and edge case the core meets."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image

GPS_IFD = 0x8825
EXIF_IFD = 0x8769


def photo_array(width: int = 96, height: int = 64, seed: int = 7) -> np.ndarray:
    """A photo-like RGB array: smooth gradients, edges and a little noise (not trivially compressible)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    r = 128 + 100 * np.sin(x / 9.0) * np.cos(y / 13.0)
    g = 255 * x / max(1, width - 1)
    b = np.where((x // 16 + y // 16) % 2 == 0, 200, 40)
    stack = np.stack([r, g, b], axis=-1) + rng.normal(0, 6, (height, width, 3))
    return np.clip(stack, 0, 255).astype(np.uint8)


def scene(seed: int, width: int = 640, height: int = 480) -> Image.Image:
    """A photo-like picture: a sky-to-ground gradient and a few soft blobs of colour, placed by ``seed``."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width] / max(width, height)
    pixels = np.stack([60 + 120 * y, 90 + 80 * y, 200 - 120 * y], axis=-1)
    for _ in range(6):
        cx, cy = rng.uniform(0, width / max(width, height)), rng.uniform(0, height / max(width, height))
        radius = rng.uniform(0.05, 0.25)
        weight = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * radius**2))[..., None]
        pixels = pixels * (1 - weight) + rng.uniform(0, 255, 3) * weight
    pixels += rng.normal(0, 4, pixels.shape)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


def photo(width: int = 96, height: int = 64) -> Image.Image:
    return Image.fromarray(photo_array(width, height), "RGB")


def save(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def jpeg(width: int = 96, height: int = 64, **params: object) -> bytes:
    params.setdefault("quality", 92)
    return save(photo(width, height), "JPEG", **params)


def exif_with(
    *, orientation: int | None = None, gps: bool = False, copyright: str | None = None, serial: str | None = None
) -> bytes:
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    if copyright is not None:
        exif[0x8298] = copyright
    exif[0x010F] = "TestCam"
    if gps:
        exif.get_ifd(GPS_IFD).update({1: "N", 2: (48.0, 51.0, 30.0), 3: "E", 4: (2.0, 17.0, 40.0)})
    if serial is not None:
        exif.get_ifd(EXIF_IFD)[0xA431] = serial
    exif.get_ifd(EXIF_IFD)[0x9003] = "2024:05:06 07:08:09"
    return exif.tobytes()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` with a tiny (invalid) data stream and an IEND."""

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 16)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_16bit_rgb(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    """A 16-bit-per-channel RGB PNG of one colour (Pillow cannot write one)."""
    row = b"\0" + struct.pack(">HHH", *colour) * width
    ihdr = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", zlib.compress(row * height))
        + _png_chunk(b"IEND", b"")
    )


def stored_for_orientation(upright: np.ndarray, orientation: int) -> np.ndarray:
    """The stored pixels that a viewer honouring EXIF ``orientation`` shows as ``upright`` (TIFF 6.0 spec).

    1: as stored; 2: mirrored left-right; 3: rotated 180; 4: mirrored top-bottom; 5: transposed;
    6: shown rotated 90 clockwise; 7: transverse; 8: shown rotated 90 counter-clockwise.
    """
    if orientation == 1:
        return upright
    if orientation == 2:
        return upright[:, ::-1]
    if orientation == 3:
        return upright[::-1, ::-1]
    if orientation == 4:
        return upright[::-1, :]
    if orientation == 5:
        return upright.transpose(1, 0, 2)
    if orientation == 6:
        return np.rot90(upright, 1)  # stored turned counter-clockwise; shown turned clockwise
    if orientation == 7:
        return upright[::-1, ::-1].transpose(1, 0, 2)
    if orientation == 8:
        return np.rot90(upright, -1)
    raise ValueError(orientation)


def swapped_primaries_icc() -> bytes:
    """An ICC v2 RGB display profile whose red and green primaries are sRGB's green and red."""
    d50 = (0.9642, 1.0, 0.8249)
    red, green, blue = (0.3851, 0.7169, 0.0971), (0.4361, 0.2225, 0.0139), (0.1431, 0.0606, 0.7141)

    def s15(v: float) -> bytes:
        return struct.pack(">i", round(v * 65536))

    def xyz(v: tuple[float, float, float]) -> bytes:
        return b"XYZ \0\0\0\0" + b"".join(s15(c) for c in v)

    text = b"Swapped RG test profile\0"
    desc = b"desc\0\0\0\0" + struct.pack(">I", len(text)) + text + b"\0" * 8 + b"\0\0\0" + b"\0" * 67
    curve = b"curv\0\0\0\0" + struct.pack(">I", 1) + struct.pack(">H", 0x0233) + b"\0\0"
    tags = [
        (b"desc", desc),
        (b"wtpt", xyz(d50)),
        (b"rXYZ", xyz(red)),
        (b"gXYZ", xyz(green)),
        (b"bXYZ", xyz(blue)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
    ]
    table_size = 4 + 12 * len(tags)
    offset = 128 + table_size
    entries, bodies = [], []
    for sig, body in tags:
        body += b"\0" * (-len(body) % 4)
        entries.append(sig + struct.pack(">II", offset, len(body)))
        bodies.append(body)
        offset += len(body)
    header = bytearray(128)
    struct.pack_into(">I", header, 0, offset)
    header[8:12] = b"\x02\x10\x00\x00"
    header[12:16] = b"mntr"
    header[16:20] = b"RGB "
    header[20:24] = b"XYZ "
    header[36:40] = b"acsp"
    header[68:80] = b"".join(s15(c) for c in d50)
    return bytes(header) + struct.pack(">I", len(tags)) + b"".join(entries) + b"".join(bodies)


def camera_exif(*, offset: str | None = "+01:00", gps: bool = True, serial: str | None = "SN123") -> bytes:
    """EXIF as a camera writes it: capture time, make/model, lens, exposure; GPS and a body serial too."""
    from PIL import TiffImagePlugin

    exif = Image.Exif()
    exif[0x010F] = "Fujifilm"
    exif[0x0110] = "X-T5"
    exif[0x0132] = "2026:12:02 09:00:00"
    ifd = exif.get_ifd(EXIF_IFD)
    ifd[0x9003] = "2026:12:01 14:05:06"
    if offset is not None:
        ifd[0x9011] = offset
    ifd[0x829A] = TiffImagePlugin.IFDRational(1, 250)
    ifd[0x829D] = TiffImagePlugin.IFDRational(28, 10)
    ifd[0x8827] = 400
    ifd[0x920A] = TiffImagePlugin.IFDRational(35, 1)
    ifd[0xA405] = 53
    ifd[0xA433] = "Fujifilm"
    ifd[0xA434] = "XF35mmF1.4 R"
    if serial is not None:
        ifd[0xA431] = serial
    if gps:
        exif.get_ifd(GPS_IFD).update({1: "N", 2: (48.0, 51.0, 30.0), 3: "E", 4: (2.0, 17.0, 40.0)})
    return exif.tobytes()
