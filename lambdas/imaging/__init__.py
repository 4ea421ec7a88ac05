"""Pure image work on bytes: sniff, limit, decode once, orient, convert to sRGB, resize, encode.

Every public function takes bytes and an ``ImagingOptions``, returns plain records, keeps no state,
never touches Pillow's module globals and raises only ``ImagingError`` subclasses for bad input.
"""

from lambdas.imaging.errors import (
    Corrupt,
    EncodeFailed,
    ImagingError,
    NotAnImage,
    TooLarge,
    TooManyPixels,
    Truncated,
    UnsupportedFormat,
)
from lambdas.imaging.options import COMPRESSED_FORMATS, DEFAULT_KEPT_EXIF, ImagingOptions
from lambdas.imaging.pipeline import compress, derive, probe, process
from lambdas.imaging.records import ImageInfo, ImageReport, ProcessResult, Rendition, RenditionReport

__all__ = [
    "COMPRESSED_FORMATS",
    "DEFAULT_KEPT_EXIF",
    "Corrupt",
    "EncodeFailed",
    "ImageInfo",
    "ImageReport",
    "ImagingError",
    "ImagingOptions",
    "NotAnImage",
    "ProcessResult",
    "Rendition",
    "RenditionReport",
    "TooLarge",
    "TooManyPixels",
    "Truncated",
    "UnsupportedFormat",
    "compress",
    "derive",
    "probe",
    "process",
]
