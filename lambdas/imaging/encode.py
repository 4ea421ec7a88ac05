"""Encode an image to bytes in one of the output formats."""

from __future__ import annotations

import io

from PIL import Image

from lambdas.imaging.errors import EncodeFailed

MIME = {"jpeg": "image/jpeg", "webp": "image/webp", "avif": "image/avif", "png": "image/png"}
_PIL_FORMAT = {"jpeg": "JPEG", "webp": "WEBP", "avif": "AVIF", "png": "PNG"}

AVIF_SPEED = 8
"""libavif speed (0 slowest/smallest - 10 fastest); 8 keeps AVIF within a few times JPEG's cost."""
WEBP_METHOD = 4
"""libwebp effort (0-6); 4 is libwebp's default balance."""


def encode(
    image: Image.Image,
    fmt: str,
    quality: int,
    *,
    exif: bytes | None = None,
    optimize: bool = True,
    progressive: bool = False,
) -> bytes:
    """``image`` as ``fmt`` bytes at ``quality``. JPEG gets Huffman optimisation when ``optimize`` and is
    written progressive when ``progressive``."""
    params: dict[str, object] = {"quality": quality}
    if exif:
        params["exif"] = exif
    if fmt == "jpeg":
        params["optimize"] = optimize
        if progressive:
            params["progressive"] = True
    elif fmt == "webp":
        params["method"] = WEBP_METHOD
    elif fmt == "avif":
        params["speed"] = AVIF_SPEED
    buffer = io.BytesIO()
    try:
        image.save(buffer, _PIL_FORMAT[fmt], **params)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise EncodeFailed(f"encode: {fmt} encoder failed on a {image.mode} {image.size} image") from exc
    return buffer.getvalue()
