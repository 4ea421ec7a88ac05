"""Choose an encoder quality per image to reach a perceptual target: SSIM on luma, on sampled tiles.

Encoding a full-size image several times would cost more than decoding it, so the search runs on a
mosaic of full-resolution tiles spread over the image (aligned to 16 px, so JPEG blocks fall where
they fall in the full image). The final image is encoded once, at the chosen quality.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
from PIL import Image

TILE = 64
"""Edge of a sampled tile, in pixels (a multiple of the JPEG MCU and of WebP's macroblock)."""
SAMPLE_PIXELS = 96 * 1024
"""Pixels sampled from an image for the search: enough for a stable mean SSIM, cheap to encode."""
QUALITY_RANGE = (30, 95)
"""The search never goes below or above these qualities."""
WINDOW = 7
_C1 = (0.01 * 255) ** 2
_C2 = (0.03 * 255) ** 2


def ssim(reference: np.ndarray, candidate: np.ndarray) -> float:
    """Mean SSIM of two 2-D luma arrays (0-255) over 7x7 uniform windows (as scikit-image's default)."""
    if reference.shape != candidate.shape:
        raise ValueError(f"reference and candidate differ in shape: {reference.shape} != {candidate.shape}")
    x = reference.astype(np.float64)
    y = candidate.astype(np.float64)
    if min(x.shape) < WINDOW:
        return 1.0 if np.array_equal(x, y) else _global_ssim(x, y)
    n = WINDOW * WINDOW
    mx, my = _box_mean(x), _box_mean(y)
    sxx = _box_mean(x * x) - mx * mx
    syy = _box_mean(y * y) - my * my
    sxy = _box_mean(x * y) - mx * my
    sample = n / (n - 1)  # sample covariance, as scikit-image
    sxx, syy, sxy = sxx * sample, syy * sample, sxy * sample
    numerator = (2 * mx * my + _C1) * (2 * sxy + _C2)
    denominator = (mx * mx + my * my + _C1) * (sxx + syy + _C2)
    return float(np.mean(numerator / denominator))


def _box_mean(a: np.ndarray) -> np.ndarray:
    """Means over every WINDOW x WINDOW window lying fully inside ``a`` (integral image)."""
    c = np.zeros((a.shape[0] + 1, a.shape[1] + 1), dtype=np.float64)
    np.cumsum(a, axis=0, out=c[1:, 1:])
    np.cumsum(c[1:, 1:], axis=1, out=c[1:, 1:])
    w = WINDOW
    return (c[w:, w:] - c[:-w, w:] - c[w:, :-w] + c[:-w, :-w]) / (w * w)


def _global_ssim(x: np.ndarray, y: np.ndarray) -> float:
    mx, my = x.mean(), y.mean()
    sxx, syy, sxy = x.var(), y.var(), ((x - mx) * (y - my)).mean()
    return float(((2 * mx * my + _C1) * (2 * sxy + _C2)) / ((mx * mx + my * my + _C1) * (sxx + syy + _C2)))


def sample(image: Image.Image) -> Image.Image:
    """A mosaic of full-resolution tiles spread evenly over ``image`` (the image itself when small)."""
    width, height = image.size
    if width * height <= SAMPLE_PIXELS * 2 or width < TILE * 2 or height < TILE * 2:
        return image
    count = max(1, SAMPLE_PIXELS // (TILE * TILE))
    columns = max(1, round((count * width / height) ** 0.5))
    rows = max(1, count // columns)
    columns = min(columns, width // TILE)
    rows = min(rows, height // TILE)
    mosaic = Image.new(image.mode, (columns * TILE, rows * TILE))
    for row in range(rows):
        top = _aligned((height - TILE) * (row + 0.5) / rows)
        for column in range(columns):
            left = _aligned((width - TILE) * (column + 0.5) / columns)
            tile = image.crop((left, top, left + TILE, top + TILE))
            mosaic.paste(tile, (column * TILE, row * TILE))
    return mosaic


def _aligned(position: float) -> int:
    return int(position) // 16 * 16


def luma(image: Image.Image) -> np.ndarray:
    """The luma plane (ITU-R 601, as JPEG's Y) of an image without alpha, as uint8."""
    if image.mode != "L":
        image = image.convert("L")
    return np.asarray(image)


def choose_quality(
    mosaic: Image.Image,
    target: float,
    encode: Callable[[Image.Image, int], bytes],
    decode_luma: Callable[[bytes], np.ndarray],
) -> tuple[int, float]:
    """The lowest quality in ``QUALITY_RANGE`` whose SSIM on ``mosaic`` reaches ``target``, and that SSIM.

    Binary search (SSIM grows with quality); when even the top quality misses, the top is returned.
    """
    reference = luma(mosaic)
    cache: dict[int, float] = {}

    def score(quality: int) -> float:
        if quality not in cache:
            cache[quality] = ssim(reference, decode_luma(encode(mosaic, quality)))
        return cache[quality]

    low, high = QUALITY_RANGE
    if score(high) < target:
        return high, score(high)
    while low < high:
        middle = (low + high) // 2
        if score(middle) >= target:
            high = middle
        else:
            low = middle + 1
    return high, score(high)


def jpeg_luma(data: bytes) -> np.ndarray:
    """Decode only the luma of JPEG ``data`` (libjpeg skips the colour conversion)."""
    from PIL import JpegImagePlugin

    image = JpegImagePlugin.JpegImageFile(io.BytesIO(data))
    image.draft("L", None)
    return luma(image)
