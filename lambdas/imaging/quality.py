"""Choose an encoder quality per image to reach a perceptual target: SSIM on luma, on sampled tiles.

Encoding a full-size image several times would cost more than decoding it, so the search runs on a
mosaic of full-resolution tiles spread over the image (aligned to 16 px, so JPEG blocks fall where
they fall in the full image). The final image is encoded once, at the chosen quality.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image

TILE = 64
"""Edge of a sampled tile, in pixels (a multiple of the JPEG MCU and of WebP's macroblock)."""
SAMPLE_PIXELS = 64 * 1024
"""Pixels sampled from an image for the search: enough for a stable mean SSIM, cheap to encode."""
QUALITY_RANGE = (30, 95)
"""The search never goes below or above these qualities."""
WINDOW = 7
FLAT_BLOCK_STD = 2.5
"""An 8x8 block of the reference whose luma varies by at most this (standard deviation, levels) is smooth:
a sky, a studio background, a gradient. SSIM hardly sees what happens there."""
MIN_FLAT_FRACTION = 0.05
"""The smooth-region check applies when at least this fraction of the sample's blocks is smooth."""
MAX_FLAT_DC_ERROR = 0.25
"""Largest mean shift of a smooth block's average luma (levels) a quality may cause. JPEG quantizes a
block's average in steps of ``16 * scale / 8`` levels (3.3 at q30, 2 at q50, 1 at q75, 0.7 at q82): past
a step of about one level, neighbouring blocks of a gradient differ visibly and the gradient bands. A
uniform rounding error of a step ``s`` averages ``s / 4``, so 0.25 keeps steps within about one level."""
_C1 = (0.01 * 255) ** 2
_C2 = (0.03 * 255) ** 2


def ssim(reference: np.ndarray, candidate: np.ndarray) -> float:
    """Mean SSIM of two 2-D luma arrays (0-255) over 7x7 uniform windows (as scikit-image's default)."""
    return SsimReference(reference).score(candidate)


class SsimReference:
    """The reference half of SSIM, computed once and compared with many candidates.

    Window sums are exact integer sums (cumulative sums in int64); floating point only enters for the
    final per-window formula, so the result matches scikit-image's ``structural_similarity`` with
    ``win_size=7, data_range=255`` to float precision. Work arrays are allocated once and reused for
    every candidate: fresh large arrays cost more in page faults than the arithmetic itself.
    """

    def __init__(self, reference: np.ndarray) -> None:
        if reference.ndim != 2:
            raise ValueError(f"reference must be a 2-D luma array, got shape {reference.shape}")
        self.shape = reference.shape
        self._x = reference.astype(np.int64)
        self._small = min(reference.shape) < WINDOW
        if self._small:
            return
        height, width = self.shape
        inner = (height - WINDOW + 1, width - WINDOW + 1)
        self._y = np.empty(self.shape, np.int64)
        self._product = np.empty(self.shape, np.int64)
        self._cumulative = np.empty(self.shape, np.int64)
        self._rows = np.empty((inner[0], width), np.int64)
        self._sy, self._syy, self._sxy = (np.empty(inner, np.int64) for _ in range(3))
        self._f1, self._f2, self._f3, self._f4 = (np.empty(inner, np.float64) for _ in range(4))
        n = WINDOW * WINDOW
        sx = np.empty(inner, np.int64)
        sxx = np.empty(inner, np.int64)
        self._window_sums(self._x, sx)
        np.multiply(self._x, self._x, out=self._product)
        self._window_sums(self._product, sxx)
        self._sx = sx
        self._mx = sx / n
        # sample variance, as scikit-image: (sum(x^2) - sum(x) * mean(x)) / (n - 1)
        self._vx = (sxx - sx * self._mx) / (n - 1)
        self._mx2_c1 = self._mx * self._mx + _C1
        self._vx_c2 = self._vx + _C2

    def score(self, candidate: np.ndarray) -> float:
        if candidate.shape != self.shape:
            raise ValueError(f"reference and candidate differ in shape: {self.shape} != {candidate.shape}")
        if self._small:
            return _global_ssim(self._x.astype(np.float64), candidate.astype(np.float64))
        n = WINDOW * WINDOW
        y = self._y
        np.copyto(y, candidate, casting="unsafe")
        self._window_sums(y, self._sy)
        np.multiply(y, y, out=self._product)
        self._window_sums(self._product, self._syy)
        np.multiply(self._x, y, out=self._product)
        self._window_sums(self._product, self._sxy)
        my, vy, cov = self._f1, self._f2, self._f3
        np.divide(self._sy, n, out=my)
        # vy = (syy - sy * my) / (n - 1); cov = (sxy - sx * my) / (n - 1)
        np.multiply(self._sy, my, out=vy)
        np.subtract(self._syy, vy, out=vy)
        vy /= n - 1
        np.multiply(self._sx, my, out=cov)
        np.subtract(self._sxy, cov, out=cov)
        cov /= n - 1
        # numerator = (2 mx my + C1)(2 cov + C2); denominator = (mx^2 + my^2 + C1)(vx + vy + C2)
        cov *= 2
        cov += _C2
        vy += self._vx_c2
        ratio = self._f4
        np.multiply(self._mx, my, out=ratio)
        ratio *= 2
        ratio += _C1
        ratio *= cov
        np.multiply(my, my, out=my)
        my += self._mx2_c1
        my *= vy
        ratio /= my
        return float(ratio.mean())

    def _window_sums(self, a: np.ndarray, out: np.ndarray) -> None:
        """Sums over every WINDOW x WINDOW window lying fully inside ``a`` (exact, int64), into ``out``."""
        w = WINDOW
        c = self._cumulative
        np.cumsum(a, axis=0, out=c)
        rows = self._rows
        rows[...] = c[w - 1 :]
        rows[1:] -= c[:-w]
        c = self._cumulative[: rows.shape[0]]
        np.cumsum(rows, axis=1, out=c)
        out[...] = c[:, w - 1 :]
        out[:, 1:] -= c[:, :-w]


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


@dataclass(frozen=True)
class Choice:
    """The quality chosen on a sample, the SSIM it reached and the bytes it took on that sample."""

    quality: int
    ssim: float | None
    sample_bytes: int
    sample_pixels: int

    def predicted_bytes(self, pixels: int) -> float:
        """Bytes the full image is expected to take at ``quality`` (the sample's bytes per pixel)."""
        return self.sample_bytes / self.sample_pixels * pixels


def measure(mosaic: Image.Image, quality: int, encode: Callable[[Image.Image, int], bytes]) -> Choice:
    """A fixed ``quality`` with its bytes on ``mosaic`` (no SSIM: nothing is targeted)."""
    return Choice(quality, None, len(encode(mosaic, quality)), mosaic.width * mosaic.height)


def choose_quality(
    mosaic: Image.Image,
    target: float,
    encode: Callable[[Image.Image, int], bytes],
    decode_luma: Callable[[bytes], np.ndarray],
) -> Choice:
    """The lowest quality in ``QUALITY_RANGE`` whose SSIM on ``mosaic`` reaches ``target`` and that keeps
    smooth regions from banding.

    SSIM grows with quality, and ``log(1 - SSIM)`` almost linearly: the search brackets the target by
    galloping away from a first guess, then interpolates on that line inside the bracket (about four
    encodes instead of seven for a plain bisection). When even the top quality misses the target, the
    top is returned; when even the floor reaches it, the floor. SSIM on small windows does not see a
    gradient turning into plain 8x8 blocks: when the sample has smooth blocks (``FlatReference``), the
    quality is then raised to the lowest one whose smooth blocks keep their average within
    ``MAX_FLAT_DC_ERROR`` (a second, upward search; photos without smooth regions never pay for it).
    """
    reference_luma = luma(mosaic)
    reference = SsimReference(reference_luma)
    flat = FlatReference(reference_luma)
    scores: dict[int, tuple[float, int, float]] = {}

    def measured(quality: int) -> tuple[float, int, float]:
        if quality not in scores:
            encoded = encode(mosaic, quality)
            candidate = decode_luma(encoded)
            scores[quality] = (reference.score(candidate), len(encoded), flat.dc_error(candidate))
        return scores[quality]

    def score(quality: int) -> float:
        return measured(quality)[0]

    def choice(quality: int) -> Choice:
        ssim_reached, size, _ = measured(quality)
        return Choice(quality, ssim_reached, size, mosaic.width * mosaic.height)

    chosen = _lowest_reaching(score, target)
    if flat.applies and measured(chosen)[2] > MAX_FLAT_DC_ERROR:
        chosen = _lowest_smooth(lambda quality: measured(quality)[2] <= MAX_FLAT_DC_ERROR, chosen)
    return choice(chosen)


def _lowest_reaching(score: Callable[[int], float], target: float) -> int:
    floor, top = QUALITY_RANGE
    # Gallop from the first probe, doubling the step, until the target is bracketed: (low fails, high passes].
    step = FIRST_STEP
    if score(FIRST_PROBE) >= target:
        high = FIRST_PROBE
        while True:
            if high == floor:
                return high
            probe = max(floor, high - step)
            if score(probe) < target:
                low = probe
                break
            high = probe
            step *= 2
    else:
        low = FIRST_PROBE
        while True:
            probe = min(top, low + step)
            if score(probe) >= target:
                high = probe
                break
            if probe == top:
                return top
            low = probe
            step *= 2
    while high - low > 1:
        probe = _interpolate(low, score(low), high, score(high), target)
        if score(probe) >= target:
            high = probe
        else:
            low = probe
    return high


def _lowest_smooth(passes: Callable[[int], bool], failing: int) -> int:
    """The lowest quality above ``failing`` that ``passes`` (galloping up, then bisecting); the top if none."""
    top = QUALITY_RANGE[1]
    low, step = failing, FIRST_STEP
    while True:
        probe = min(top, low + step)
        if passes(probe):
            high = probe
            break
        if probe == top:
            return top
        low, step = probe, step * 2
    while high - low > 1:
        middle = (low + high) // 2
        if passes(middle):
            high = middle
        else:
            low = middle
    return high


class FlatReference:
    """The smooth 8x8 blocks of a reference luma plane, and how far a candidate moves their averages."""

    def __init__(self, reference: np.ndarray) -> None:
        height, width = (reference.shape[0] // 8) * 8, (reference.shape[1] // 8) * 8
        self._shape = (height, width)
        self.applies = False
        if height == 0 or width == 0:
            return
        blocks = reference[:height, :width].astype(np.float32).reshape(height // 8, 8, width // 8, 8)
        self._mask = blocks.std(axis=(1, 3)) <= FLAT_BLOCK_STD
        self._means = blocks.mean(axis=(1, 3))[self._mask]
        self.applies = bool(self._mask.mean() >= MIN_FLAT_FRACTION)

    def dc_error(self, candidate: np.ndarray) -> float:
        """Mean absolute change of the smooth blocks' average luma (levels); 0 when it does not apply."""
        if not self.applies:
            return 0.0
        height, width = self._shape
        blocks = candidate[:height, :width].astype(np.float32).reshape(height // 8, 8, width // 8, 8)
        return float(np.abs(blocks.mean(axis=(1, 3))[self._mask] - self._means).mean())


FIRST_PROBE = 82
"""The first quality tried: near where most photographs land at the default target."""
FIRST_STEP = 5
"""The first step away from ``FIRST_PROBE`` while bracketing the target; it doubles after each miss."""


def _interpolate(low: int, s_low: float, high: int, s_high: float, target: float) -> int:
    """The quality where ``log(1 - SSIM)`` crosses the target, kept strictly inside (low, high)."""

    def distance(s: float) -> float:
        return math.log(max(1e-9, 1.0 - min(s, 1.0)))

    d_low, d_high, d_target = distance(s_low), distance(s_high), distance(target)
    guess = (low + high) / 2 if d_low == d_high else low + (high - low) * (d_low - d_target) / (d_low - d_high)
    # Never hug an end of the bracket: it must shrink by a quarter at least.
    quarter = max(1, (high - low) // 4)
    return int(min(max(round(guess), low + quarter), high - quarter)) if high - low > 2 else low + 1


def jpeg_luma(data: bytes) -> np.ndarray:
    """Decode only the luma of JPEG ``data`` (libjpeg skips the colour conversion)."""
    from PIL import JpegImagePlugin

    image = JpegImagePlugin.JpegImageFile(io.BytesIO(data))
    image.draft("L", None)
    return luma(image)
