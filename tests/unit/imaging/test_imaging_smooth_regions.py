"""The quality search keeps smooth regions (gradients, skies, studio backgrounds) from banding."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lambdas.imaging import ImagingOptions, compress
from lambdas.imaging.quality import MAX_FLAT_DC_ERROR

WALLPAPERS = Path("/usr/share/backgrounds")


def _smooth_block_shift(original: Image.Image, compressed: bytes) -> float:
    """Mean absolute change of the average luma of the original's smooth 8x8 blocks (std <= 2.5 levels),
    computed here independently of the search."""
    x = np.asarray(original.convert("L"), dtype=np.float64)
    y = np.asarray(Image.open(io.BytesIO(compressed)).convert("L"), dtype=np.float64)
    h, w = x.shape[0] // 8 * 8, x.shape[1] // 8 * 8
    xb = x[:h, :w].reshape(h // 8, 8, w // 8, 8)
    yb = y[:h, :w].reshape(h // 8, 8, w // 8, 8)
    smooth = xb.std(axis=(1, 3)) <= 2.5
    assert smooth.mean() > 0.5, "the fixture must be mostly smooth"
    return float(np.abs(yb.mean(axis=(1, 3)) - xb.mean(axis=(1, 3)))[smooth].mean())


def _gradient(width: int = 1536, height: int = 1024, seed: int = 3) -> Image.Image:
    """A two-colour diagonal gradient with a film of dither (as rendered wallpapers and skies are)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    t = (xx / width + yy / height) / 2
    rgb = np.stack([70 + 90 * t, 20 + 40 * t, 80 + 30 * (1 - t)], axis=-1)
    rgb += rng.uniform(-0.6, 0.6, size=rgb.shape)
    return Image.fromarray(np.clip(rgb + 0.5, 0, 255).astype(np.uint8), "RGB")


def _jpeg(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def test_a_smooth_gradient_keeps_its_blocks_within_the_banding_limit() -> None:
    # GIVEN a smooth gradient delivered as a good JPEG (SSIM alone let it fall to quality 30: plain 8x8
    # blocks a few levels apart, visible bands)
    original = _gradient()
    data = _jpeg(original, 95)
    # WHEN compressed at the default target
    rendition = compress(data, ImagingOptions()).rendition("compressed")
    # THEN the smooth blocks keep their average within the limit, and it still saves bytes
    assert not rendition.kept_original
    assert _smooth_block_shift(original, rendition.data) <= MAX_FLAT_DC_ERROR + 0.05
    assert rendition.quality is not None and rendition.quality >= 60
    assert len(rendition.data) < len(data)


@pytest.mark.skipif(not (WALLPAPERS / "Fossa_by_Jasper_Roks.jpg").exists(), reason="lomiri-wallpapers-20.04 absent")
@pytest.mark.parametrize("name", ["Fossa_by_Jasper_Roks.jpg", "umang_by_Abhishek_Mudgal.jpg"])
def test_gradient_wallpapers_are_not_banded(name: str) -> None:
    # GIVEN a 1024x768 crop of a gradient wallpaper (quality 30-33 before the smooth-region check)
    with Image.open(WALLPAPERS / name) as whole:
        left, top = whole.width // 3, whole.height // 3
        original = whole.convert("RGB").crop((left, top, left + 1024, top + 768))
    data = _jpeg(original, 95)
    # WHEN compressed THEN the smooth blocks are within the limit
    rendition = compress(data, ImagingOptions()).rendition("compressed")
    assert _smooth_block_shift(original, rendition.data) <= MAX_FLAT_DC_ERROR + 0.05
    assert len(rendition.data) < len(data)


def test_a_textured_photo_is_not_checked_for_smooth_blocks() -> None:
    # GIVEN noise-like texture (no smooth block at all)
    rng = np.random.default_rng(5)
    texture = Image.fromarray(rng.integers(0, 256, size=(512, 512, 3), dtype=np.uint8), "RGB")
    # THEN the check does not apply: its quality is SSIM's alone
    from lambdas.imaging import quality

    assert not quality.FlatReference(quality.luma(quality.sample(texture))).applies
