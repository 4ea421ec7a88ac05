"""Pixel statistics: graphics are told from photographs, and green vegetation is measured.

Graphics are generated here (a gradient, flat shapes, blurred light); photographs are scikit-image's.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter
from skimage import data as skimage_data

from imgmgr.adapters.offline.statistics import measure


def _gradient(width: int = 1024, height: int = 640) -> Image.Image:
    x = np.linspace(0, 1, width, dtype=np.float32)[np.newaxis, :]
    y = np.linspace(0, 1, height, dtype=np.float32)[:, np.newaxis]
    rgb = np.stack([200 * x + 40 * y, 40 + 60 * y + 0 * x, 220 - 150 * x + 0 * y], axis=2)
    return Image.fromarray(rgb.clip(0, 255).astype(np.uint8))


def _shapes() -> Image.Image:
    picture = Image.new("RGB", (1024, 640), (20, 60, 160))
    draw = ImageDraw.Draw(picture)
    draw.polygon([(0, 640), (600, 100), (1024, 640)], fill=(230, 80, 40))
    draw.ellipse((700, 60, 900, 260), fill=(250, 210, 30))
    return picture


def _blurred_light() -> Image.Image:
    picture = Image.new("RGB", (1024, 640), (10, 20, 40))
    draw = ImageDraw.Draw(picture)
    draw.ellipse((200, 100, 700, 400), fill=(40, 220, 120))
    draw.ellipse((500, 250, 950, 600), fill=(60, 90, 230))
    return picture.filter(ImageFilter.GaussianBlur(60))


@pytest.mark.parametrize("graphic", [_gradient, _shapes, _blurred_light], ids=["gradient", "shapes", "blur"])
def test_a_colourful_gradient_or_flat_shapes_are_a_graphic(graphic) -> None:
    # GIVEN / WHEN a generated wallpaper is measured THEN it is a graphic
    assert measure(graphic()).is_graphic


@pytest.mark.parametrize("photo", ["astronaut", "chelsea", "coffee", "rocket", "camera"])
def test_photographs_are_not_graphics(photo: str) -> None:
    # GIVEN / WHEN one of scikit-image's photographs is measured THEN it is not a graphic
    assert not measure(Image.fromarray(getattr(skimage_data, photo)())).is_graphic


def test_a_pale_or_grey_flat_image_is_left_to_the_classifier() -> None:
    # GIVEN a product on white and a grey gradient (flat, but not colourful)
    product = Image.new("RGB", (800, 800), (255, 255, 255))
    ImageDraw.Draw(product).ellipse((300, 300, 500, 500), fill=(200, 30, 30))
    grey = _gradient().convert("L").convert("RGB")
    # WHEN measured THEN neither is a graphic
    assert not measure(product).is_graphic
    assert not measure(grey).is_graphic


def test_green_share_counts_saturated_green_pixels_only() -> None:
    # GIVEN an image whose left half is leaf green and right half grey-green and dark green
    rgb = np.zeros((200, 400, 3), dtype=np.uint8)
    rgb[:, :200] = (60, 170, 40)
    rgb[:100, 200:] = (120, 130, 120)
    rgb[100:, 200:] = (0, 25, 0)
    # WHEN measured THEN only the saturated, lit half is green
    assert measure(Image.fromarray(rgb)).green == pytest.approx(0.5, abs=0.01)


def test_a_tiny_image_measures_as_a_photograph_without_green() -> None:
    # GIVEN a 2x2 image WHEN measured THEN there is no texture to judge: no graphic, no green
    statistics = measure(Image.new("RGB", (2, 2), (0, 255, 0)))
    assert not statistics.is_graphic
    assert statistics.green == 0.0


def test_sky_share_is_the_smooth_blue_part_of_the_top_third() -> None:
    # GIVEN a landscape: a smooth blue sky over textured brown ground, and the same picture upside down
    rng = np.random.default_rng(6)
    rgb = np.zeros((300, 480, 3), dtype=np.float32)
    rgb[:150] = np.linspace(90, 150, 150)[:, np.newaxis, np.newaxis] * (0.6, 0.8, 1.6)
    rgb[150:] = np.array([120, 90, 60], dtype=np.float32) + rng.normal(scale=30, size=(150, 480, 3))
    landscape = Image.fromarray(rgb.clip(0, 255).astype(np.uint8))
    # WHEN measured THEN the top third is sky, and none of it is once the ground is on top
    assert measure(landscape).sky > 0.9
    assert measure(landscape.transpose(Image.Transpose.FLIP_TOP_BOTTOM)).sky < 0.05
