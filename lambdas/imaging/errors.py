"""Errors of the image core: one base class, one subclass per reason, each with a stable code.

Every error here is permanent (retrying the same bytes cannot succeed), so the base derives from
``PermanentError``; the pipeline records ``code`` as the failure reason.
"""

from __future__ import annotations

from lambdas.domain.errors import PermanentError


class ImagingError(PermanentError):
    """The bytes cannot be turned into renditions; ``code`` says why."""

    code = "Image.Error"


class NotAnImage(ImagingError):
    """The bytes are not an image at all (empty, text, a document, an archive...)."""

    code = "Image.NotAnImage"


class UnsupportedFormat(ImagingError):
    """The bytes are an image in a format this system does not decode (SVG, PSD, JPEG 2000...)."""

    code = "Image.UnsupportedFormat"


class TooManyPixels(ImagingError):
    """The header declares more pixels than ``ImagingOptions.max_pixels`` (a decompression bomb), or more
    than fit ``ImagingOptions.max_decode_bytes`` in the decoded mode."""

    code = "Image.TooManyPixels"


class TooComplex(ImagingError):
    """Decoding would take more work than ``ImagingOptions.max_scan_pixels`` allows (a JPEG that repeats
    its scans)."""

    code = "Image.TooComplex"


class TooLarge(ImagingError):
    """The input has more bytes than ``ImagingOptions.max_input_bytes``."""

    code = "Image.TooLarge"


class Truncated(ImagingError):
    """The image data ends before the image does."""

    code = "Image.Truncated"


class Corrupt(ImagingError):
    """The image data is damaged or inconsistent and cannot be decoded."""

    code = "Image.Corrupt"


class EncodeFailed(ImagingError):
    """An encoder refused the decoded pixels: a fault of this system, not of the input."""

    code = "Image.EncodeFailed"
