"""The perceptual hash: copies of one image stay within ``NEAR_DUPLICATE_DISTANCE``, other images do not."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from lambdas.imaging import ImagingOptions, derive, phash, process
from lambdas.imaging.pipeline import compress
from tests.unit.imaging.imaging_samples import exif_with, save, scene

NEAR = phash.NEAR_DUPLICATE_DISTANCE


def reencoded(image: Image.Image, quality: int) -> Image.Image:
    with Image.open(io.BytesIO(save(image, "JPEG", quality=quality))) as decoded:
        return decoded.convert("RGB")


def test_the_hash_is_sixteen_lowercase_hex_digits_and_deterministic() -> None:
    # GIVEN a picture WHEN hashed twice THEN the same 16 lowercase hex digits come out
    first, second = phash.perceptual_hash(scene(1)), phash.perceptual_hash(scene(1))
    assert first == second
    assert phash.is_hash(first)


@pytest.mark.parametrize("factor", [0.5, 0.25, 0.1])
def test_a_resized_copy_stays_near(factor: float) -> None:
    # GIVEN a picture and a copy scaled down WHEN both are hashed THEN they are near-duplicates
    image = scene(2)
    small = image.resize((round(image.width * factor), round(image.height * factor)), Image.Resampling.LANCZOS)
    assert phash.hamming(phash.perceptual_hash(image), phash.perceptual_hash(small)) <= NEAR


@pytest.mark.parametrize("quality", [95, 75, 50, 40, 30])
def test_a_reencoded_copy_stays_near(quality: int) -> None:
    # GIVEN a picture re-encoded as JPEG WHEN both are hashed THEN they are near-duplicates
    image = scene(3)
    assert phash.hamming(phash.perceptual_hash(image), phash.perceptual_hash(reencoded(image, quality))) <= NEAR


@pytest.mark.parametrize(
    "box",
    [(0.05, 0, 1, 1), (0, 0.05, 1, 1), (0, 0, 0.95, 1), (0, 0, 1, 0.95), (0.05, 0.05, 0.95, 0.95)],
    ids=["left", "top", "right", "bottom", "all sides"],
)
def test_a_copy_cropped_by_five_percent_stays_near(box: tuple[float, float, float, float]) -> None:
    # GIVEN a picture and a copy with 5% cut off one side or all four WHEN hashed THEN they are near-duplicates
    image = scene(4)
    left, top, right, bottom = box
    cropped = image.crop((round(left * 640), round(top * 480), round(right * 640), round(bottom * 480)))
    assert phash.hamming(phash.perceptual_hash(image), phash.perceptual_hash(cropped)) <= NEAR


def test_different_pictures_are_not_near() -> None:
    # GIVEN eight different pictures WHEN hashed THEN every pair is further apart than the threshold
    hashes = [phash.perceptual_hash(scene(seed)) for seed in range(10, 18)]
    distances = [phash.hamming(a, b) for n, a in enumerate(hashes) for b in hashes[n + 1 :]]
    assert min(distances) > NEAR


def test_the_colour_under_transparent_pixels_does_not_count() -> None:
    # GIVEN a picture with a transparent band whose hidden colour is red in one copy and blue in the other
    picture = scene(5).convert("RGBA")
    pixels = np.asarray(picture).copy()
    pixels[:, :200] = (255, 0, 0, 0)
    red = Image.fromarray(pixels, "RGBA")
    pixels[:, :200] = (0, 0, 255, 0)
    blue = Image.fromarray(pixels, "RGBA")
    # WHEN hashed THEN both hash as the picture on white
    flat = picture.copy()
    flat.paste((255, 255, 255), (0, 0, 200, 480))
    assert phash.perceptual_hash(red) == phash.perceptual_hash(blue) == phash.perceptual_hash(flat.convert("RGB"))


@pytest.mark.parametrize("mode", ["L", "LA", "P", "CMYK", "I;16", "1"])
def test_any_mode_is_hashed_as_its_display_pixels(mode: str) -> None:
    # GIVEN a picture in another pixel mode WHEN hashed THEN it is near the RGB picture's hash
    image = scene(6)
    if mode == "I;16":
        converted = Image.fromarray(np.asarray(image.convert("L")).astype(np.uint16) * 257)
    else:
        converted = image.convert(mode)
    assert phash.hamming(phash.perceptual_hash(image), phash.perceptual_hash(converted)) <= NEAR


def test_flat_pictures_all_hash_alike() -> None:
    # GIVEN pictures of one colour each WHEN hashed THEN they have no features to tell apart: the zero hash
    assert {phash.perceptual_hash(Image.new("RGB", (50, 40), colour)) for colour in ("black", "red", "#8080ff")} == {
        "0" * 16
    }


def test_hamming_counts_the_bits_that_differ() -> None:
    # GIVEN hashes one, two and 64 bits apart WHEN compared THEN the distances are counted bits
    assert phash.hamming("0000000000000000", "0000000000000001") == 1
    assert phash.hamming("8000000000000001", "0000000000000000") == 2
    assert phash.hamming("ffffffffffffffff", "0000000000000000") == 64
    assert phash.near_duplicates("00000000000003ff", "0000000000000000")
    assert not phash.near_duplicates("0000000000000fff", "0000000000000000", distance=11)


@pytest.mark.parametrize("value", ["abc", "00000000000000000", "FFFFFFFFFFFFFFFF", "000000000000000g", None])
def test_hamming_refuses_what_is_not_a_hash(value: object) -> None:
    # GIVEN something that is not 16 lowercase hex digits WHEN compared THEN ValueError names the argument
    with pytest.raises(ValueError, match=r"^b: expected 16 lowercase hexadecimal digits"):
        phash.hamming("0000000000000000", value)  # type: ignore[arg-type]


def test_the_source_is_the_smallest_image_large_enough() -> None:
    # GIVEN a decoded image and thumbnails of it, one smaller than the hash needs
    decoded, preview, thumbnail, tiny = (Image.new("RGB", (w, w * 3 // 4)) for w in (1500, 1024, 256, 32))
    # WHEN the hash's source is picked THEN it is the smallest large enough, or the decoded image
    assert phash.source([preview, thumbnail, tiny], decoded) is thumbnail
    assert phash.source([tiny], decoded) is decoded


def test_derive_and_process_return_the_hash_of_the_upright_image_and_compress_none() -> None:
    # GIVEN a picture as JPEG, and the same stored turned with EXIF orientation 6 (shown upright)
    image = scene(7)
    upright = save(image, "JPEG", quality=90)
    turned = save(image.transpose(Image.Transpose.ROTATE_90), "JPEG", quality=90, exif=exif_with(orientation=6))
    options = ImagingOptions()
    # WHEN thumbnails are derived THEN both carry a hash, and the hashes are near; compress carries none
    hashes = [derive(data, options).phash for data in (upright, turned)]
    assert all(phash.is_hash(value) for value in hashes)
    assert phash.hamming(*hashes) <= 2  # type: ignore[arg-type]
    assert process(upright, options).phash == hashes[0]
    assert compress(upright, options).phash is None


def test_the_hash_is_timed_as_its_own_stage() -> None:
    # GIVEN a JPEG WHEN derived THEN the report times the hash apart from the resizes and encodes
    report = derive(save(scene(8), "JPEG", quality=90), ImagingOptions()).report
    assert "phash" in report.timings_ms
