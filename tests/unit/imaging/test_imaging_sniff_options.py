"""Format sniffing from magic bytes and validation of ImagingOptions."""

from __future__ import annotations

import pytest

from lambdas.imaging import ImagingOptions, NotAnImage, UnsupportedFormat
from lambdas.imaging.sniff import sniff
from tests.unit.imaging import imaging_samples as samples


@pytest.mark.parametrize(
    ("fmt", "pil_format", "expected"),
    [
        ("jpeg", "JPEG", "jpeg"),
        ("png", "PNG", "png"),
        ("gif", "GIF", "gif"),
        ("webp", "WEBP", "webp"),
        ("tiff", "TIFF", "tiff"),
        ("bmp", "BMP", "bmp"),
    ],
)
def test_sniff_names_the_format_from_magic_bytes(fmt: str, pil_format: str, expected: str) -> None:
    # GIVEN an image encoded as fmt
    data = samples.save(samples.photo(16, 16), pil_format)
    # WHEN it is sniffed
    found = sniff(data)
    # THEN the format is recognised
    assert found == expected


def test_sniff_tells_heic_from_avif_by_brand() -> None:
    # GIVEN ISO media headers with a HEIC and an AVIF brand
    heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + b"\0" * 16
    avif = b"\0\0\0\x18ftypavif\0\0\0\0mif1avif" + b"\0" * 16
    # WHEN / THEN
    assert (sniff(heic), sniff(avif)) == ("heif", "avif")


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello, this is text named photo.jpg",
        b"BMW and other words that start like a bitmap",
        b"%PDF-1.7\n",
        b"PK\x03\x04zipzip",
        b"\0\0\0\x18ftypisom" + b"\0" * 12,
    ],
    ids=["empty", "text", "text-bm", "pdf", "zip", "mp4"],
)
def test_sniff_refuses_what_is_not_an_image(data: bytes) -> None:
    # GIVEN bytes that are no image / WHEN sniffed / THEN NotAnImage
    with pytest.raises(NotAnImage, match="not an image"):
        sniff(data)


@pytest.mark.parametrize(
    "data",
    [
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>',
        b"<svg></svg>",
        b"8BPS\0\1",
        b"P6\n1 1\n255\n",
    ],
    ids=["svg-xml", "svg", "psd", "ppm"],
)
def test_sniff_refuses_image_formats_it_does_not_decode(data: bytes) -> None:
    # GIVEN an image in a format this core does not decode / WHEN sniffed / THEN UnsupportedFormat
    with pytest.raises(UnsupportedFormat, match="not supported") as caught:
        sniff(data)
    assert caught.value.code == "Image.UnsupportedFormat"


def test_options_defaults_are_the_documented_ones() -> None:
    # GIVEN / WHEN default options
    options = ImagingOptions()
    # THEN they match the contract
    assert (
        options.max_input_bytes,
        options.max_pixels,
        options.compressed_format,
        options.fixed_quality,
        options.max_edge,
        options.thumbnail_sizes,
        options.analysis_edge,
        options.jpeg_optimize,
        options.jpeg_progressive,
    ) == (100 * 1024 * 1024, 100_000_000, "jpeg", None, None, (256, 1024), 1024, "sampled", False)
    assert {"Copyright", "Artist", "DateTimeOriginal"} <= options.keep_metadata
    assert "GPSInfo" not in options.keep_metadata


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_input_bytes": 0}, "^max_input_bytes"),
        ({"max_pixels": -1}, "^max_pixels"),
        ({"compressed_format": "png"}, "^compressed_format"),
        ({"target_ssim": 1.5}, "^target_ssim"),
        ({"fixed_quality": 101}, "^fixed_quality"),
        ({"max_edge": 3}, "^max_edge"),
        ({"thumbnail_sizes": [256]}, "^thumbnail_sizes"),
        ({"thumbnail_sizes": (256, 256)}, "^thumbnail_sizes"),
        ({"analysis_edge": 10}, "^analysis_edge"),
        ({"keep_metadata": frozenset({"NoSuchTag"})}, "^keep_metadata"),
        ({"keep_metadata": frozenset({"GPSInfo"})}, "^keep_metadata"),
        ({"target_ssim": None}, "^target_ssim"),
        ({"jpeg_optimize": "never"}, "^jpeg_optimize"),
        ({"jpeg_progressive": 1}, "^jpeg_progressive"),
    ],
)
def test_options_validation_names_the_field(kwargs: dict, message: str) -> None:
    # GIVEN an invalid value / WHEN options are built / THEN the error names the field first
    with pytest.raises(ValueError, match=message):
        ImagingOptions(**kwargs)


def test_options_are_frozen() -> None:
    # GIVEN options
    options = ImagingOptions()
    # WHEN a field is assigned / THEN it is refused
    with pytest.raises(AttributeError, match="max_pixels"):
        options.max_pixels = 5  # type: ignore[misc]
