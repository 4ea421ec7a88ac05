"""Hostile input: random and mutated bytes raise only ImagingError subclasses, never anything else."""

from __future__ import annotations

import io

import pillow_heif
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import features

from lambdas.imaging import ImagingError, ImagingOptions, derive, probe, process
from tests.unit.imaging import imaging_samples as samples

# A small pixel cap keeps mutated headers from allocating large images; the limit itself is tested elsewhere.
OPTIONS = ImagingOptions(max_pixels=1_000_000, fixed_quality=80)


def _seeds() -> list[bytes]:
    image = samples.photo(24, 16)
    seeds = [
        samples.save(image, "JPEG", quality=90, exif=samples.exif_with(orientation=6, gps=True)),
        samples.save(image, "JPEG", quality=90, progressive=True),
        samples.save(image.convert("CMYK"), "JPEG"),
        samples.save(image, "PNG"),
        samples.save(image.convert("P"), "PNG", transparency=0),
        samples.save(image, "GIF"),
        samples.save(image, "WEBP", quality=80),
        samples.save(image, "WEBP", lossless=True),
        samples.save(image, "TIFF"),
        samples.save(image, "TIFF", compression="tiff_lzw"),
        samples.save(image, "BMP"),
        samples.png_16bit_rgb(8, 8, (1, 2, 3)),
    ]
    heif = io.BytesIO()
    pillow_heif.from_pillow(image).save(heif, quality=50)
    seeds.append(heif.getvalue())
    if features.check("avif"):
        seeds.append(samples.save(image, "AVIF", quality=50))
    return seeds


SEEDS = _seeds()


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "delete", "overwrite"]))
        position = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[position] ^= 1 << draw(st.integers(0, 7))
        elif kind == "cut":
            del data[position:]
        elif kind == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            del data[position : position + draw(st.integers(1, 64))]
        else:
            chunk = draw(st.binary(min_size=1, max_size=8))
            data[position : position + len(chunk)] = chunk
    return bytes(data)


def _only_imaging_errors(data: bytes) -> None:
    for operation in (probe, process, derive):
        try:
            operation(data, OPTIONS)
        except ImagingError as exc:
            assert exc.code.startswith("Image."), exc.code


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_images_raise_only_imaging_errors(data: bytes) -> None:
    # GIVEN valid images of every format with random flips, cuts, insertions and deletions
    # WHEN probed, processed and derived / THEN each succeeds or raises an ImagingError
    _only_imaging_errors(data)


magic = st.sampled_from(
    [b"", b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"RIFF\0\0\0\0WEBP", b"II*\0", b"MM\0*", b"BM",
     b"\0\0\0\x18ftypheic\0\0\0\0mif1heic", b"\0\0\0\x18ftypavif\0\0\0\0mif1avif"]
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(magic, st.binary(max_size=512))
def test_random_bytes_behind_any_signature_raise_only_imaging_errors(prefix: bytes, tail: bytes) -> None:
    # GIVEN random bytes, alone or behind a real format signature
    # WHEN probed, processed and derived / THEN each raises an ImagingError (or, rarely, succeeds)
    _only_imaging_errors(prefix + tail)


@pytest.mark.parametrize("seed", range(len(SEEDS)))
def test_every_fuzz_seed_is_a_valid_image(seed: int) -> None:
    # GIVEN an unmutated seed / WHEN processed / THEN it succeeds (so mutations start from good images)
    info = process(SEEDS[seed], OPTIONS).info
    assert {info.width, info.height} in ({24, 16}, {8})
