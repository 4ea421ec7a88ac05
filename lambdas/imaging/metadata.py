"""What metadata leaves the system: EXIF reduced to the kept tags; JPEG segments stripped losslessly."""

from __future__ import annotations

import math
import re

from PIL import ExifTags, Image

_EXIF_IFD = ExifTags.IFD.Exif
_ORIENTATION = ExifTags.Base.Orientation
_TAG_IDS = {tag.name: int(tag) for tag in ExifTags.Base}
_MAX_SEGMENT = 65533


def kept_exif(source: Image.Exif, keep: frozenset[str], *, orientation: int | None = None) -> bytes | None:
    """EXIF bytes (``b"Exif\\0\\0"`` + TIFF) holding only the ``keep`` tags of ``source``, or None if empty.

    GPS, serial numbers, maker notes and every tag not named are left out. ``orientation`` is written
    when given (a kept original whose pixels are still stored rotated); otherwise it is omitted, because
    the pixels were turned upright.
    """
    out = Image.Exif()
    found = False
    try:
        exif_ifd = source.get_ifd(_EXIF_IFD)
    except (KeyError, ValueError, TypeError, OSError, SyntaxError):
        exif_ifd = {}
    for name in keep:
        tag = _TAG_IDS[name]
        if tag in source:
            out[tag] = source[tag]
            found = True
        elif tag in exif_ifd:
            out.get_ifd(_EXIF_IFD)[tag] = exif_ifd[tag]
            found = True
    if orientation is not None and orientation != 1:
        out[_ORIENTATION] = orientation
        found = True
    if not found:
        return None
    try:
        data = out.tobytes()
    except (ValueError, TypeError, OverflowError, KeyError, AttributeError, OSError):
        return None  # a kept value Pillow cannot re-serialise is dropped rather than failing the image
    return data if len(data) <= _MAX_SEGMENT else None


# Segments a decoder needs; everything else before the scan (APPn, COM) can carry private data.
_STRUCTURAL = frozenset({0xC4, 0xCC, 0xDB, 0xDD, 0xEE}) | frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def strip_jpeg(data: bytes, exif: bytes | None) -> bytes | None:
    """``data`` with metadata segments replaced by ``exif``; the compressed scans are copied untouched.

    Keeps JFIF (APP0), the ICC profile (APP2), Adobe (APP14) and the segments a decoder needs; drops
    EXIF, XMP, IPTC, comments, maker segments and anything after the end-of-image marker (appended
    preview images or videos). Returns None when the structure cannot be walked.
    """
    out = [b"\xff\xd8"]
    pos = 2
    end = len(data)
    wrote_exif = False
    while pos + 4 <= end:
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker == 0xDA:
            stop = data.find(b"\xff\xd9", pos)
            if stop < 0:
                return None
            if exif and not wrote_exif:
                out.insert(1, _app1(exif))
            out.append(data[pos : stop + 2])
            return b"".join(out)
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        segment = data[pos : pos + 2 + length]
        if length < 2 or pos + 2 + length > end:
            return None
        if marker == 0xE0 and segment[4:9] == b"JFIF\x00":
            out.append(segment)
            if exif:
                out.append(_app1(exif))
                wrote_exif = True
        elif (marker == 0xE2 and segment[4:16] == b"ICC_PROFILE\x00") or marker == 0xEE or marker in _STRUCTURAL:
            out.append(segment)
        pos += 2 + length
    return None


def _app1(exif: bytes) -> bytes:
    return b"\xff\xe1" + (len(exif) + 2).to_bytes(2, "big") + exif


# PNG chunks a viewer needs to show the pixels right; text, EXIF, time stamps and private chunks go.
_PNG_KEPT = frozenset({b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT"})


def strip_png(data: bytes) -> bytes | None:
    """``data`` without its metadata chunks; the image chunks are copied untouched. None if malformed."""
    out = [data[:8]]
    pos = 8
    end = len(data)
    while pos + 12 <= end:
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        stop = pos + 12 + length
        if stop > end:
            return None
        if kind in _PNG_KEPT:
            out.append(data[pos:stop])
        if kind == b"IEND":
            return b"".join(out)
        pos = stop
    return None


# What a photographer looks for in a viewer: when, with what, how exposed. Never GPS, serial numbers,
# owner names or maker notes: these stay private even from this summary.
_SUMMARY_TEXT = {
    "make": ExifTags.Base.Make,
    "model": ExifTags.Base.Model,
    "lens_make": ExifTags.Base.LensMake,
    "lens": ExifTags.Base.LensModel,
}
_SUMMARY_NUMBERS = {
    "exposure_time": ExifTags.Base.ExposureTime,
    "f_number": ExifTags.Base.FNumber,
    "focal_length": ExifTags.Base.FocalLength,
}
_MAX_TEXT = 100


def exif_summary(source: Image.Exif) -> dict[str, str | int | float]:
    """Capture time, camera, lens and exposure read from ``source``, for the image's owner; absent or
    unreadable values are left out (an empty dict when there is nothing).

    Keys: ``taken_at`` (ISO 8601 local time as the camera wrote it, with its offset when recorded),
    ``make``, ``model``, ``lens_make``, ``lens``, ``exposure_time`` (seconds), ``f_number``, ``iso``,
    ``focal_length`` (mm) and ``focal_length_35mm``.
    """
    try:
        exif_ifd = dict(source.get_ifd(_EXIF_IFD))
    except (KeyError, ValueError, TypeError, OSError, SyntaxError):
        exif_ifd = {}

    def get(tag: int) -> object:
        return exif_ifd.get(tag, source.get(tag))

    out: dict[str, str | int | float] = {}
    taken = _taken_at(get(ExifTags.Base.DateTimeOriginal) or get(ExifTags.Base.DateTime))
    if taken:
        offset = _text(get(ExifTags.Base.OffsetTimeOriginal))
        out["taken_at"] = taken + (offset if offset and _OFFSET.match(offset) else "")
    for name, tag in _SUMMARY_TEXT.items():
        text = _text(get(tag))
        if text:
            out[name] = text
    for name, tag in _SUMMARY_NUMBERS.items():
        number = _number(get(tag))
        if number is not None and number > 0:
            out[name] = round(number, 6)
    iso = get(ExifTags.Base.ISOSpeedRatings)
    if isinstance(iso, tuple) and iso:
        iso = iso[0]
    if isinstance(iso, int) and not isinstance(iso, bool) and iso > 0:
        out["iso"] = iso
    focal_35 = get(ExifTags.Base.FocalLengthIn35mmFilm)
    if isinstance(focal_35, int) and not isinstance(focal_35, bool) and focal_35 > 0:
        out["focal_length_35mm"] = focal_35
    return out


_DATE = re.compile(r"^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_OFFSET = re.compile(r"^[+-]\d{2}:\d{2}$")


def _taken_at(value: object) -> str | None:
    match = _DATE.match(_text(value) or "")
    if not match or match.group(1) == "0000":
        return None  # cameras write "0000:00:00 00:00:00" when their clock was never set
    y, mo, d, h, mi, s = match.groups()
    return f"{y}-{mo}-{d}T{h}:{mi}:{s}"


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    text = value.replace("\x00", "").strip()
    return text[:_MAX_TEXT] or None


def _number(value: object) -> float | None:
    if isinstance(value, tuple) and len(value) == 2:
        value = value[0] / value[1] if value[1] else None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return number if math.isfinite(number) else None
