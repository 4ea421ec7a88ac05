"""Open an image from bytes: sniff, read the header, enforce the limits, then decode and orient.

Pillow's ``Image.open`` is not used: it consults module globals (``MAX_IMAGE_PIXELS``, the plugin
registry) and warns from inside the library. Each format's image class is instantiated directly on the
bytes, which parses the header only; the pixel limit is checked here before anything is decoded.
Truncated files are refused (``ImageFile.LOAD_TRUNCATED_IMAGES`` is never set).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image, ImageFile

from lambdas.imaging.errors import (
    Corrupt,
    ImagingError,
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
    try:
        orientation, pending = _orientation(image, fmt)
        animated = bool(getattr(image, "is_animated", False))
    except DECODER_ERRORS as exc:
        raise _decode_error(fmt, data, reader, "header", exc) from exc
    if pending in (5, 6, 7, 8):
        width, height = height, width
    info = ImageInfo(fmt, MIME_TYPES[fmt], width, height, orientation, animated)
    return Opened(image, info, data, reader, pending)


def decode(opened: Opened, *, draft_size: tuple[int, int] | None = None) -> Image.Image:
    """Decode the first frame of ``opened`` and apply its orientation.

    ``draft_size`` lets a JPEG decode at 1/2, 1/4 or 1/8 scale (DCT scaling) as long as the stored
    image stays at least that large.
    """
    image = opened.image
    fmt = opened.info.format
    try:
        if draft_size is not None and fmt == "jpeg":
            image.draft(image.mode, draft_size)
        if getattr(image, "n_frames", 1) > 1 and image.tell() != 0:
            image.seek(0)
        image.load()
    except ImagingError:
        raise
    except DECODER_ERRORS as exc:
        raise _decode_error(fmt, opened.data, opened.reader, "decode", exc, image) from exc
    if fmt == "png" and opened.transpose_orientation == 1:
        # An eXIf chunk after the image data is only seen once the data has been read.
        opened.transpose_orientation = _orientation(image, fmt)[1]
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
