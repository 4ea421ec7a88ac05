"""A 64-bit perceptual hash of a decoded image, to find near-duplicates: resized, re-encoded or slightly
cropped copies of one photo hash within a few bits of each other, different photos do not.

The hash is a DCT pHash: the image (alpha flattened onto white) is scaled to 32x32 grey with a box
filter, and of its 2-D DCT-II the 64 lowest frequencies (by u + v, the DC term left out) are kept; each
bit says whether a coefficient is above their median. Chosen by measurement (``python -m
bench.near_duplicates --compare``, copies of real photographs) over: the 8x8 square without the DC row
and column (pHash's first form: 89% recall where this has 95%, the lowest frequencies being the ones a
crop moves least), the 8x8 square with DC (imagehash's: the same recall, but one pair of different photos
within the threshold, and its DC bit is always set), a dHash (precision 62%) and 32 bits of this pHash
with a 32-bit dHash (a pair of different photos 11 bits apart: 91% recall at full precision).

It hashes the pixels as given: the caller passes the decoded, oriented image (the pipeline hashes the
image it derives thumbnails from, so an EXIF-rotated copy hashes as the upright photo). An image of one
colour has no features to hash: every such image hashes to zero.
"""

from __future__ import annotations

import re
from functools import cache

import numpy as np
from PIL import Image

from lambdas.imaging import colour

HASH_BITS = 64
"""Bits of a hash: 16 hexadecimal digits."""

NEAR_DUPLICATE_DISTANCE = 12
"""Largest Hamming distance between the hashes of two near-duplicates. Measured by
``python -m bench.near_duplicates`` on 125 real photographs and 10 copies of each, every copy through
compress and derive: the largest distance at which no two of the 937,750 pairs of images of different
photos matched (the closest two were 14 apart, the closest two originals 16), while 94.7% of the pairs
of images of one photo did: every resized, re-encoded or EXIF-turned copy, 95% of those cropped by 5%
on one side and 78% of those cropped by 5% on all sides. A hash has 32 bits set (unless coefficients
tie), so two hashes differ in an even number of bits: the next threshold up, 14, matched 10 pairs of
different photos. The stores' band index (``lambdas.domain.duplicates``: 8 bands of 8 bits) found 99.3%
of the pairs within this distance."""

SIDE = 32
"""Side of the grey square the DCT is taken of."""


def _lowest_frequencies(count: int) -> tuple[tuple[int, int], ...]:
    by_sum = sorted(((u, v) for u in range(SIDE) for v in range(SIDE) if 0 < u + v < SIDE), key=lambda f: (sum(f), f))
    return tuple(by_sum[:count])


FREQUENCIES = _lowest_frequencies(HASH_BITS)
"""The (vertical, horizontal) DCT frequencies hashed, one bit each: the 64 lowest by u + v (every one up
to 9, and 10 of the 11 of sum 10), the DC term left out."""
_HIGHEST = max(max(frequency) for frequency in FREQUENCIES)

_HEX = re.compile(r"[0-9a-f]{16}")


def perceptual_hash(image: Image.Image) -> str:
    """The 64-bit DCT hash of ``image`` as 16 lowercase hexadecimal digits.

    Cost: one box-filtered resize of ``image`` (a pass over its pixels, ~1 ms for a megapixel; the pipeline
    passes a 256 px thumbnail) and two small matrix products; memory: a few kilobytes.
    """
    grey = _grey_square(image)
    pixels = np.asarray(grey, dtype=np.float64)
    basis = _dct_basis()
    coefficients = basis @ pixels @ basis.T
    rows, columns = zip(*FREQUENCIES, strict=True)
    # Rounding makes the sign of an exact zero (a flat image's AC terms) deterministic.
    low = np.round(coefficients[rows, columns], 6)
    bits = low > np.median(low)
    return np.packbits(bits).tobytes().hex()


def hamming(a: str, b: str) -> int:
    """How many of the 64 bits of hashes ``a`` and ``b`` differ; ``ValueError`` if either is not a hash."""
    return (_value("a", a) ^ _value("b", b)).bit_count()


def near_duplicates(a: str, b: str, *, distance: int = NEAR_DUPLICATE_DISTANCE) -> bool:
    """Whether hashes ``a`` and ``b`` are of near-duplicates: at most ``distance`` bits apart.
    Default: ``NEAR_DUPLICATE_DISTANCE``."""
    return hamming(a, b) <= distance


def is_hash(value: object) -> bool:
    """Whether ``value`` is a hash as ``perceptual_hash`` writes it (16 lowercase hexadecimal digits)."""
    return isinstance(value, str) and _HEX.fullmatch(value) is not None


def _value(name: str, value: str) -> int:
    if not is_hash(value):
        raise ValueError(f"{name}: expected 16 lowercase hexadecimal digits, got {value!r}")
    return int(value, 16)


def _grey_square(image: Image.Image) -> Image.Image:
    """``image`` as SIDE x SIDE 8-bit grey, alpha composited onto white, scaled with a box filter."""
    if image.mode not in ("L", "LA", "RGB", "RGBA"):
        image = colour.to_display(image)
    # A box filter averages every source pixel once: cheap on any size, and free of aliasing. Pillow
    # premultiplies alpha while it resizes, so transparent pixels' colours do not bleed in.
    small = colour.flatten(image.resize((SIDE, SIDE), Image.Resampling.BOX))
    return small if small.mode == "L" else small.convert("L")


@cache
def _dct_basis() -> np.ndarray:
    """The rows of the orthonormal DCT-II matrix of size SIDE up to the highest frequency hashed."""
    frequency = np.arange(_HIGHEST + 1)[:, None]
    position = np.arange(SIDE)[None, :]
    basis = np.cos(np.pi * (2 * position + 1) * frequency / (2 * SIDE)) * np.sqrt(2 / SIDE)
    basis[0] /= np.sqrt(2)
    return basis


MIN_SOURCE_SIDE = 2 * SIDE
"""Shortest side of an image the pipeline hashes from: the box filter then averages at least 2x2 pixels
into each of the 32x32 (a smaller thumbnail is too coarse; the decoded image is used instead)."""


def source(candidates: list[Image.Image], fallback: Image.Image) -> Image.Image:
    """The smallest of ``candidates`` (images already scaled from ``fallback``) whose sides are at least
    ``MIN_SOURCE_SIDE``, else ``fallback`` (an image too small to have any)."""
    large_enough = [image for image in candidates if min(image.size) >= MIN_SOURCE_SIDE]
    if not large_enough:
        return fallback
    return min(large_enough, key=lambda image: image.width * image.height)
