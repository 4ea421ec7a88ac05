"""The near-duplicate benchmark's corpus rules, copies and figures (the photos themselves are not needed)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bench.near_duplicates import REFERENCE, VARIANTS, Hashed, families_of, featureless, figures, share_a_band
from lambdas.imaging import ImagingOptions
from lambdas.imaging.decode import decode, open_image
from tests.unit.imaging.imaging_samples import scene


def test_versions_of_one_picture_are_one_family_and_other_pictures_are_not() -> None:
    # GIVEN files as the wallpaper packages ship them
    files = {
        "elephants": ["/b/mate/abstract/Elephants.jpg", "/b/mate/abstract/Elephants_3840x2160.jpg"],
        "altai": [
            "/w/Altai/contents/images/5120x2880.png",
            "/w/Altai/contents/images_dark/1080x1920.png",
            "/w/Altai/contents/screenshot.png",
        ],
        "adwaita": ["/b/gnome/adwaita-l.webp", "/b/gnome/adwaita-d.webp"],
        "colours": ["/b/mate/desktop/Ubuntu-Mate-Cold-no-logo.png", "/b/mate/desktop/Ubuntu-Mate-Warm-no-logo.png"],
        "kleiber": ["/b/Kleiber_by_Lukas_Baubkus.jpg"],
        "fig": ["/b/Picture_0B_by_freespace.jpg"],
        "brushes": ["/b/Picture_1A_by_freespace.jpg"],
    }
    paths = [Path(p) for group in files.values() for p in group]
    # WHEN grouped into pictures
    names = families_of(paths)
    # THEN each group is one picture, and no two groups share one
    picture_of_group = {group: {names[Path(p)] for p in members} for group, members in files.items()}
    assert all(len(pictures) == 1 for pictures in picture_of_group.values())
    assert len({next(iter(pictures)) for pictures in picture_of_group.values()}) == len(files)


@pytest.mark.parametrize("index", range(7))
def test_the_exif_copy_is_shown_upright_by_the_pipeline(index: int) -> None:
    # GIVEN a photo and its copy stored turned or mirrored with orientation 2 + index
    base = scene(20, 160, 96)
    copy = VARIANTS["EXIF orientation"](base, index)
    # WHEN the pipeline opens and decodes the copy
    options = ImagingOptions()
    upright = decode(open_image(copy, options), options)
    # THEN it shows the photo as it was (within the JPEG's loss)
    assert upright.size == base.size
    difference = np.abs(np.asarray(upright, dtype=np.int16) - np.asarray(base, dtype=np.int16))
    assert difference.mean() < 4


def test_every_copy_is_a_jpeg_of_the_photo_resized_or_cropped_as_named() -> None:
    # GIVEN a 400x300 photo, the third of the corpus (its crop cuts the right side, its orientation is 4:
    # flipped, not turned) WHEN every copy is made THEN each is a JPEG of the size its name says
    sizes = {}
    for name, make in VARIANTS.items():
        with Image.open(io.BytesIO(make(scene(21, 400, 300), 2))) as image:
            assert image.format == "JPEG"
            sizes[name] = image.size
    assert sizes["resize 50%"] == sizes["resize 50% + q50"] == (200, 150)
    assert sizes["resize 25%"] == (100, 75)
    assert sizes["crop 5% one side"] == (380, 300)
    assert sizes["crop 5% all sides"] == (360, 270)
    assert sizes["JPEG q95"] == sizes["JPEG q30"] == sizes["EXIF orientation"] == (400, 300)


def test_featureless_pictures_are_told_from_photos() -> None:
    # GIVEN a white picture, a nearly white one and a photo-like one WHEN checked THEN only the first two are blank
    nearly_white = Image.fromarray(np.random.default_rng(1).integers(253, 256, (64, 64, 3), dtype=np.uint8))
    assert featureless(Image.new("RGB", (64, 64), "white"))
    assert featureless(nearly_white)
    assert not featureless(scene(22))


def test_pairs_of_one_photo_are_positives_and_of_two_photos_negatives() -> None:
    # GIVEN two photos, each a reference and one copy, the first's copy 3 bits away, the second's 1
    hashed = [
        Hashed(0, REFERENCE, "0000000000000000", {}, 0.1, (256, 192)),
        Hashed(0, "JPEG q50", "0000000000000007", {}, 0.1, (256, 192)),
        Hashed(1, REFERENCE, "ffffffffffffffff", {}, 0.1, (256, 192)),
        Hashed(1, "JPEG q50", "fffffffffffffffe", {}, 0.1, (256, 192)),
    ]
    # WHEN the figures are computed
    result = figures(hashed, lambda h: int(h.ours, 16))
    # THEN each photo gives one positive pair, the four pairs across photos are negatives
    assert sorted(result.positives.tolist()) == [1, 3]
    assert sorted(result.negatives.tolist()) == [61, 62, 63, 64]
    assert result.per_variant["JPEG q50"].tolist() == [3, 1]
    assert result.reference_negatives.tolist() == [64]
    assert result.negative_pairs == [(0, 1)]
    assert result.positives_banded.tolist() == [True, True]
    assert not result.negatives_banded.any()


def test_a_pair_is_found_by_the_band_index_when_one_whole_band_agrees() -> None:
    # GIVEN XORs of hash pairs: equal, differing in every byte but the last, in every byte, in 7 bits
    xors = np.array([0, 0x0101010101010100, 0x0101010101010101, 0x7F], dtype=np.uint64)
    # WHEN checked against the stores' bands (8 of 8 bits) THEN a pair sharing one byte is found
    assert share_a_band(xors).tolist() == [True, True, False, True]
