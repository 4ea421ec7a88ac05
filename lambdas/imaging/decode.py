"""Open an image from bytes: sniff, read the header, enforce the limits, then decode and orient.

Pillow's ``Image.open`` is not used: it consults module globals (``MAX_IMAGE_PIXELS``, the plugin
registry) and warns from inside the library. Each format's image class is instantiated directly on the
bytes, which parses the header only; the pixel limit is checked here before anything is decoded.
Truncated files are refused (``ImageFile.LOAD_TRUNCATED_IMAGES`` is never set).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image, ImageFile

from lambdas.imaging.errors import (
    Corrupt,
    ImagingError,
    TooComplex,
    TooLarge,
    TooManyPixels,
    Truncated,
    UnsupportedFormat,
)
from lambdas.imaging.options import ImagingOptions
from lambdas.imaging.records import ImageInfo
from lambdas.imaging.sniff import MIME_TYPES, sniff

ORIENTATION_TAG = 0x0112

# EXIF orientation -> the transpose that shows the stored pixels upright (as ImageOps.exif_transpose).
TRANSPOSE: dict[int, Image.Transpose] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

# Bytes per pixel Pillow stores for a decoded mode (RGB is padded to 4).
_STORED_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2}
# Peak bytes per pixel from the decoded mode to the encoder's input, with the largest full-size copies
# alive at once (colour.to_display releases each image once converted; JPEG's flatten adds an RGB copy
# of an RGBA image). 16-bit, 32-bit and float grey are converted in strips: their copy is the 8-bit output.
_PEAK_BYTES = {
    "1": 2,  # -> L
    "L": 1,
    "I;16": 3,  # -> L
    "I;16B": 3,
    "I;16L": 3,
    "I;16N": 3,
    "I": 5,  # -> L
    "F": 5,  # -> L
    "P": 5,  # -> RGB; with transparency -> RGBA -> RGB (8)
    "LA": 5,  # -> L (opaque, or flattened)
    "RGB": 4,
    "RGBA": 8,  # -> RGB (opaque, or flattened)
    "CMYK": 8,  # -> RGB
}
_OTHER_PEAK_BYTES = 8  # RGBa, La, PA, YCbCr, LAB, HSV, RGBX...: converted to RGB(A), then as RGBA

# A marker that ends entropy-coded data: 0xFF followed by neither a stuffed 0x00, a restart marker nor fill.
_MARKER_IN_SCAN = re.compile(rb"\xff[\x01-\xcf\xd8-\xfe]")


def peak_bytes_per_pixel(mode: str, *, transparency: bool = False, oriented: bool = False) -> int:
    """The most bytes per pixel alive at once while an image of ``mode`` is decoded, oriented (a
    transpose copies the stored pixels) and converted for the encoders."""
    peak = _PEAK_BYTES.get(mode, _OTHER_PEAK_BYTES)
    if mode == "P" and transparency:
        peak = _OTHER_PEAK_BYTES
    if oriented:
        peak = max(peak, 2 * _STORED_BYTES.get(mode, 4))
    return peak


# Any exception a decoder raises on hostile bytes; mapped to Corrupt or Truncated at this boundary.
# MemoryError is deliberately absent: it says nothing about the input once the pixel limit holds.
DECODER_ERRORS = (
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    IndexError,
    KeyError,
    TypeError,
    AttributeError,
    ArithmeticError,
    RuntimeError,
    AssertionError,
    LookupError,
    UnicodeError,
    Image.DecompressionBombError,
)


@dataclass
class Opened:
    """An image whose header is parsed and within limits; ``image`` is not decoded yet."""

    image: ImageFile.ImageFile
    info: ImageInfo
    data: bytes
    reader: io.BytesIO
    transpose_orientation: int
    """Orientation still to apply to the decoded pixels (1 when the decoder already applied it)."""
    stored_mode: str = ""
    """Pixel mode of the stored image (``"CMYK"``, ``"RGB"``...), as decoded."""
    exif: Image.Exif | None = None
    """The input's EXIF, read at decode time (before the stored pixels are released)."""
    coefficient_bytes: int = 0
    """Memory libjpeg takes for the whole image's DCT coefficients while decoding a progressive or
    multi-scan JPEG (at full size, whatever the draft scale); 0 when it decodes in one pass."""


def _image_class(fmt: str) -> Callable[[io.BytesIO], ImageFile.ImageFile]:
    if fmt == "jpeg":
        from PIL import JpegImagePlugin

        return JpegImagePlugin.JpegImageFile
    if fmt == "png":
        from PIL import PngImagePlugin

        return PngImagePlugin.PngImageFile
    if fmt == "gif":
        from PIL import GifImagePlugin

        return GifImagePlugin.GifImageFile
    if fmt == "webp":
        from PIL import WebPImagePlugin

        return WebPImagePlugin.WebPImageFile
    if fmt == "tiff":
        from PIL import TiffImagePlugin

        return TiffImagePlugin.TiffImageFile
    if fmt == "bmp":
        from PIL import BmpImagePlugin

        return BmpImagePlugin.BmpImageFile
    if fmt == "avif":
        from PIL import AvifImagePlugin, features

        if not features.check("avif"):
            raise UnsupportedFormat("format: this Pillow build cannot decode AVIF")
        return AvifImagePlugin.AvifImageFile
    if fmt == "heif":
        from pillow_heif.as_plugin import HeifImageFile

        return HeifImageFile
    raise UnsupportedFormat(f"format: {fmt} is not supported")


def open_image(data: bytes, options: ImagingOptions) -> Opened:
    """Sniff ``data``, parse its header and check the byte and pixel limits; decode nothing."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise Corrupt(f"data: expected bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) > options.max_input_bytes:
        raise TooLarge(f"data: {len(data)} bytes is over the limit of {options.max_input_bytes} bytes")
    fmt = sniff(data)
    _refuse_incomplete(fmt, data)
    image_class = _image_class(fmt)
    reader = io.BytesIO(data)
    try:
        image = image_class(reader)
        width, height = image.size
    except ImagingError:
        raise
    except DECODER_ERRORS as exc:
        raise _decode_error(fmt, data, reader, "header", exc) from exc
    if width < 1 or height < 1:
        raise Corrupt(f"header: {fmt} image declares an empty size {width}x{height}")
    if width * height > options.max_pixels:
        raise TooManyPixels(
            f"header: {width}x{height} = {width * height} pixels is over the limit of {options.max_pixels}"
        )
    scans = 0
    if fmt == "jpeg":
        scans = jpeg_scan_count(data)
        if scans * width * height > options.scan_budget:
            raise TooComplex(
                f"header: the JPEG has {scans} scans of {width}x{height} pixels, {scans * width * height} pixel"
                f" visits to decode, over the limit of {options.scan_budget}"
            )
    try:
        orientation, pending = _orientation(image, fmt)
        animated = bool(getattr(image, "is_animated", False))
    except DECODER_ERRORS as exc:
        raise _decode_error(fmt, data, reader, "header", exc) from exc
    if pending in (5, 6, 7, 8):
        width, height = height, width
    info = ImageInfo(fmt, MIME_TYPES[fmt], width, height, orientation, animated)
    return Opened(image, info, data, reader, pending, coefficient_bytes=_coefficient_bytes(image, scans))


def decode(opened: Opened, options: ImagingOptions, *, draft_size: tuple[int, int] | None = None) -> Image.Image:
    """Decode the first frame of ``opened`` and apply its orientation.

    ``draft_size`` lets a JPEG decode at 1/2, 1/4 or 1/8 scale (DCT scaling) as long as the stored
    image stays at least that large. Raises ``TooManyPixels`` before decoding when the decode's working
    memory (``peak_bytes_per_pixel`` of the mode at the decoded size, plus the input's bytes) is over
    ``options.max_decode_bytes``.
    """
    image = opened.image
    fmt = opened.info.format
    try:
        if draft_size is not None and fmt == "jpeg":
            image.draft(image.mode, draft_size)
        _check_memory(opened, options)
        if getattr(image, "n_frames", 1) > 1 and image.tell() != 0:
            image.seek(0)
        image.load()
    except ImagingError:
        raise
    except DECODER_ERRORS as exc:
        raise _decode_error(fmt, opened.data, opened.reader, "decode", exc, image) from exc
    if fmt == "png" and opened.transpose_orientation == 1:
        # An eXIf chunk after the image data is only seen once the data has been read; turning the image
        # then costs a second copy, which the budget must allow too.
        opened.transpose_orientation = _orientation(image, fmt)[1]
        if opened.transpose_orientation != 1:
            _check_memory(opened, options)
    opened.stored_mode = image.mode
    try:
        opened.exif = image.getexif()
    except DECODER_ERRORS:
        opened.exif = Image.Exif()
    method = TRANSPOSE.get(opened.transpose_orientation)
    if method is None:
        return image
    try:
        upright = image.transpose(method)
    except DECODER_ERRORS as exc:
        raise Corrupt(f"orient: cannot apply orientation {opened.transpose_orientation}") from exc
    # Release the stored pixels now: holding both copies of a large image doubles the peak memory.
    image.close()
    return upright


def _check_memory(opened: Opened, options: ImagingOptions) -> None:
    image = opened.image
    width, height = image.size
    per_pixel = peak_bytes_per_pixel(
        image.mode, transparency="transparency" in image.info, oriented=opened.transpose_orientation != 1
    )
    needed = len(opened.data) + per_pixel * width * height + opened.coefficient_bytes
    if needed > options.decode_budget:
        buffer = f", {_mb(opened.coefficient_bytes)} of DCT coefficients" if opened.coefficient_bytes else ""
        raise TooManyPixels(
            f"decode: {width}x{height} {image.mode} pixels need {_mb(needed)} to decode and convert"
            f" ({per_pixel} bytes a pixel{buffer} and the input), over the limit of {_mb(options.decode_budget)}"
        )


def _mb(size: int) -> str:
    return f"{size / 1e6:,.1f} MB"


def _coefficient_bytes(image: ImageFile.ImageFile, scans: int) -> int:
    """libjpeg keeps every DCT coefficient (2 bytes each) of a JPEG that has more than one scan."""
    if scans <= 1 and not image.info.get("progressive"):
        return 0
    layers = getattr(image, "layer", None) or []
    if not layers:
        return 0
    h_max = max(layer[1] for layer in layers) or 1
    v_max = max(layer[2] for layer in layers) or 1
    width, height = image.size
    mcu_columns = -(-width // (8 * h_max))
    mcu_rows = -(-height // (8 * v_max))
    blocks = sum(layer[1] * layer[2] for layer in layers) * mcu_columns * mcu_rows
    return blocks * 64 * 2


def jpeg_scan_count(data: bytes) -> int:
    """How many scans (start-of-scan segments) the JPEG ``data`` has, walking its markers to the end."""
    scans = 0
    pos = 2
    end = len(data)
    while pos + 4 <= end:
        if data[pos] != 0xFF:
            # Junk between segments: libjpeg skips to the next marker, and so must the count.
            found = _MARKER_IN_SCAN.search(data, pos)
            if found is None:
                break
            pos = found.start()
            continue
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker == 0xD9:
            break
        if marker in (0x01, *range(0xD0, 0xD8)):
            pos += 2
            continue
        pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
        if marker == 0xDA:
            scans += 1
            found = _MARKER_IN_SCAN.search(data, pos)
            if found is None:
                break
            pos = found.start()
    return scans


def _orientation(image: ImageFile.ImageFile, fmt: str) -> tuple[int, int]:
    """(EXIF orientation as found, orientation still to apply to the decoded pixels)."""
    if fmt == "heif":
        # libheif applies the container's rotation and mirroring; pillow-heif resets the EXIF tag.
        found = _valid(image.info.get("original_orientation"))
        return found, 1
    if fmt == "png":
        raw = image.info.get("exif")
        if not raw:
            return 1, 1
        exif = Image.Exif()
        exif.load(raw)
        found = _valid(exif.get(ORIENTATION_TAG))
        return found, found
    found = _valid(image.getexif().get(ORIENTATION_TAG))
    return found, found


def _valid(value: object) -> int:
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _refuse_incomplete(fmt: str, data: bytes) -> None:
    """Refuse, before decoding, files whose structure shows they were cut short."""
    if _structurally_truncated(fmt, data):
        raise Truncated(f"data: the {fmt} file ends before the image does ({len(data)} bytes)")


def _structurally_truncated(fmt: str, data: bytes, image: ImageFile.ImageFile | None = None) -> bool:
    """Whether the file's own structure shows it was cut short (an end marker or a declared size)."""
    if fmt == "jpeg":
        scan = _jpeg_first_scan(data)
        return scan is None or data.rfind(b"\xff\xd9") < scan
    if fmt == "png":
        return data.rfind(b"IEND") < 0
    if fmt == "webp":
        return int.from_bytes(data[4:8], "little") + 8 > len(data)
    if fmt in ("heif", "avif"):
        return _isobmff_truncated(data)
    if fmt == "gif":
        return not data.rstrip(b"\0").endswith(b"\x3b")
    if fmt == "bmp":
        return int.from_bytes(data[2:6], "little") > len(data)
    if fmt == "tiff" and image is not None:
        return _tiff_data_end(image) > len(data)
    return False


def _tiff_data_end(image: ImageFile.ImageFile) -> int:
    tags = getattr(image, "tag_v2", {})
    offsets = tags.get(273) or tags.get(324) or ()
    counts = tags.get(279) or tags.get(325) or ()
    ends = [int(o) + int(c) for o, c in zip(offsets, counts, strict=False)]
    return max(ends, default=0)


def _jpeg_first_scan(data: bytes) -> int | None:
    """Offset of the first start-of-scan segment, walking the marker segments; None if cut short."""
    pos = 2
    end = len(data)
    while pos + 4 <= end:
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xDA:
            return pos
        if marker in (0x01, *range(0xD0, 0xD8)):
            pos += 2
            continue
        pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
    return None


def _isobmff_truncated(data: bytes) -> bool:
    pos = 0
    end = len(data)
    while pos + 8 <= end:
        size = int.from_bytes(data[pos : pos + 4], "big")
        if size == 1:
            if pos + 16 > end:
                return True
            size = int.from_bytes(data[pos + 8 : pos + 16], "big")
        elif size == 0:
            return False
        if size < 8:
            return False  # malformed, not short: the decoder reports it as corrupt
        pos += size
    return pos > end


def _decode_error(
    fmt: str, data: bytes, reader: io.BytesIO, stage: str, exc: BaseException, image: ImageFile.ImageFile | None = None
) -> ImagingError:
    """Classify a decoder failure: Truncated when the data ran out, Corrupt otherwise."""
    try:
        truncated = _structurally_truncated(fmt, data, image)
    except DECODER_ERRORS:
        truncated = False
    if stage == "header" and fmt in ("tiff", "bmp", "gif"):
        # Their headers point anywhere in the file: a header read past the end means a cut file.
        truncated = truncated or reader.tell() >= len(data)
    if truncated:
        return Truncated(f"{stage}: the {fmt} data ends before the image does ({type(exc).__name__})")
    return Corrupt(f"{stage}: the {fmt} data is damaged ({type(exc).__name__})")
