"""Pure image work on bytes: sniff, limit, decode once, orient, convert to sRGB, resize, encode.

Every public function takes bytes and an ``ImagingOptions``, returns plain records, keeps no state,
never touches Pillow's module globals and raises only ``ImagingError`` subclasses for bad input.
"""

from typing import TYPE_CHECKING, Any

from lambdas.imaging.errors import (
    Corrupt,
    EncodeFailed,
    ImagingError,
    NotAnImage,
    TooComplex,
    TooLarge,
    TooManyPixels,
    Truncated,
    UnsupportedFormat,
)
from lambdas.imaging.options import COMPRESSED_FORMATS, DEFAULT_KEPT_EXIF, ImagingOptions
from lambdas.imaging.records import ImageInfo, ImageReport, ProcessResult, Rendition

if TYPE_CHECKING:
    from lambdas.imaging.pipeline import compress, derive, probe, process

#: The functions that need Pillow's image plugins and numpy (~80 ms to import) load on first use, so that a
#: function that only reads options or records (api, categorize, redrive, exporter) does not pay for them at
#: cold start.
_PIPELINE_FUNCTIONS = frozenset({"compress", "derive", "probe", "process"})


def __getattr__(name: str) -> Any:
    if name in _PIPELINE_FUNCTIONS:
        from lambdas.imaging import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    "TooComplex",
    "TooLarge",
    "TooManyPixels",
    "Truncated",
    "UnsupportedFormat",
    "compress",
    "derive",
    "probe",
    "process",
]
