"""Scale images down to a longest edge: integer ``reduce`` first, then a bicubic resize."""

from __future__ import annotations

import math

from PIL import Image

REDUCING_GAP = 1.0
"""Pillow first reduces by the integer part of the scale factor (a box filter, one cheap pass), leaving
at most 2x for the bicubic resize (a gap of 2.0 with Lanczos cost 3x the CPU, measured on the benchmark)."""


def fitted_size(size: tuple[int, int], edge: int) -> tuple[int, int]:
    """The size of an image of ``size`` whose longest edge is at most ``edge`` (never enlarged)."""
    width, height = size
    longest = max(width, height)
    if longest <= edge:
        return size
    scale = edge / longest
    return max(1, round(width * scale)), max(1, round(height * scale))


def fit(image: Image.Image, edge: int) -> Image.Image:
    """``image`` scaled so that its longest edge is at most ``edge``; the same object if it fits."""
    size = fitted_size(image.size, edge)
    if size == image.size:
        return image
    return image.resize(size, Image.Resampling.BICUBIC, reducing_gap=REDUCING_GAP)


def draft_request(stored: tuple[int, int], edge: int) -> tuple[int, int] | None:
    """The ``draft`` size that keeps a stored JPEG of ``stored`` at least ``edge`` on its longest side."""
    width, height = stored
    longest = max(width, height)
    if longest <= edge * 2:
        return None  # DCT scaling could only halve it, below the edge
    scale = edge / longest
    return max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale))


LABELER_MIN_SIDE = 80
"""Rekognition refuses images under 80 px on either side (``InvalidImageFormatException``), and the
offline face detector cannot scan a window larger than the image."""


def labelable(image: Image.Image, *, min_side: int = LABELER_MIN_SIDE, max_edge: int) -> Image.Image:
    """``image`` with both sides at least ``min_side``: enlarged (bicubic) while its longest edge stays
    within ``max_edge``, then, if a side is still short (a panorama), centred on a mid-grey band. The same
    object when it already fits."""
    width, height = image.size
    if min(width, height) >= min_side:
        return image
    scale = min(min_side / min(width, height), max_edge / max(width, height))
    if scale > 1:
        width, height = max(1, round(width * scale)), max(1, round(height * scale))
        image = image.resize((width, height), Image.Resampling.BICUBIC)
    if min(width, height) >= min_side:
        return image
    canvas = Image.new(image.mode, (max(width, min_side), max(height, min_side)), (128,) * len(image.getbands()))
    canvas.paste(image, ((canvas.width - width) // 2, (canvas.height - height) // 2))
    return canvas
