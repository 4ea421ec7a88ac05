"""probe() and the limits enforced before decoding; truncated and corrupt files are refused."""

from __future__ import annotations

import io
import warnings

import pytest
from PIL import Image, ImageFile

from lambdas.imaging import (
    Corrupt,
    ImagingOptions,
    NotAnImage,
    TooLarge,
    TooManyPixels,
    Truncated,
    compress,
    probe,
    process,
)
from tests.unit.imaging import imaging_samples as samples

OPTIONS = ImagingOptions()


def test_probe_reads_format_size_and_orientation_from_the_header() -> None:
    # GIVEN a 96x64 JPEG stored rotated (orientation 6)
    data = samples.jpeg(96, 64, exif=samples.exif_with(orientation=6))
    # WHEN probed
    info = probe(data, OPTIONS)
    # THEN the displayed size is swapped and the orientation reported
    assert (info.format, info.mime, info.width, info.height, info.orientation, info.animated) == (
        "jpeg",
        "image/jpeg",
        64,
        96,
        6,
        False,
    )


def test_probe_refuses_a_png_whose_header_claims_100k_by_100k_without_decoding() -> None:
    # GIVEN a tiny file whose PNG header claims 10 gigapixels
    data = samples.png_header_only(100_000, 100_000)
    # WHEN probed, with every warning an error (Pillow's bomb check must not be reached)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TooManyPixels, match="10000000000 pixels is over the limit") as caught:
            probe(data, OPTIONS)
    # THEN the stable code is reported
    assert caught.value.code == "Image.TooManyPixels"


def test_pixel_limit_is_per_call_and_leaves_pillow_globals_alone() -> None:
    # GIVEN a 96x64 image and a limit of 1000 pixels
    before = (Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES)
    # WHEN processed with that limit
    with pytest.raises(TooManyPixels, match="6144 pixels"):
        process(samples.jpeg(96, 64), ImagingOptions(max_pixels=1000))
    # THEN Pillow's module settings are untouched
    assert before == (Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES)


def test_a_limit_above_pillows_own_bomb_limit_is_honoured() -> None:
    # GIVEN a header of 200 megapixels (over Pillow's 2 x 89 MP error) and a limit of 300 MP
    data = samples.png_header_only(20_000, 10_000)
    # WHEN probed
    info = probe(data, ImagingOptions(max_pixels=300_000_000))
    # THEN the header is read without Pillow's global limit interfering
    assert (info.width, info.height) == (20_000, 10_000)


def test_input_over_the_byte_limit_is_refused() -> None:
    # GIVEN a JPEG larger than the byte limit
    data = samples.jpeg(96, 64)
    # WHEN probed with a smaller limit / THEN TooLarge
    with pytest.raises(TooLarge, match=f"{len(data)} bytes is over the limit of 100 bytes"):
        probe(data, ImagingOptions(max_input_bytes=100))


def test_zero_bytes_are_not_an_image() -> None:
    with pytest.raises(NotAnImage, match="not an image"):
        process(b"", OPTIONS)


def test_text_named_jpg_is_not_an_image() -> None:
    with pytest.raises(NotAnImage, match="not an image"):
        compress(b"Dear diary, today I renamed this to holiday.jpg", OPTIONS)


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.9, 0.99])
def test_truncated_jpeg_is_refused_not_padded(keep: float) -> None:
    # GIVEN a JPEG cut short
    data = samples.jpeg(256, 192)
    cut = data[: int(len(data) * keep)]
    # WHEN processed / THEN Truncated
    with pytest.raises(Truncated, match="ends before the image does"):
        process(cut, OPTIONS)


def test_jpeg_missing_only_its_end_marker_is_truncated() -> None:
    data = samples.jpeg(64, 64)
    with pytest.raises(Truncated, match="jpeg"):
        process(data[:-2], OPTIONS)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "GIF", "TIFF", "BMP"])
def test_truncated_files_of_every_format_are_refused(fmt: str) -> None:
    # GIVEN a file cut at two thirds
    data = samples.save(samples.photo(128, 96), fmt)
    cut = data[: len(data) * 2 // 3]
    # WHEN processed / THEN Truncated
    with pytest.raises(Truncated, match="ends before the image does"):
        process(cut, OPTIONS)


def test_corrupt_jpeg_scan_data_is_refused_as_corrupt() -> None:
    # GIVEN a JPEG whose scan data is overwritten with marker garbage, its end marker intact
    data = bytearray(samples.jpeg(128, 128))
    start = data.index(b"\xff\xda") + 20
    data[start : start + 200] = b"\xff\xc4" * 100
    # WHEN processed / THEN Corrupt, not Truncated: the file is complete
    with pytest.raises(Corrupt, match="data is damaged"):
        process(bytes(data), OPTIONS)


def test_png_with_a_broken_header_is_corrupt() -> None:
    # GIVEN a PNG whose IHDR declares zero width
    data = samples.png_header_only(0, 10)
    # WHEN probed / THEN Corrupt
    with pytest.raises(Corrupt):
        probe(data, OPTIONS)


def test_animated_gif_is_reported_animated_and_its_first_frame_used() -> None:
    # GIVEN a 3-frame GIF whose first frame is red
    frames = [Image.new("RGB", (40, 30), colour) for colour in ("red", "green", "blue")]
    data = samples.save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    # WHEN processed
    result = process(data, OPTIONS)
    # THEN it is animated and the compressed image is red
    assert result.info.animated is True
    pixel = Image.open(io.BytesIO(result.rendition("compressed").data)).convert("RGB").getpixel((5, 5))
    assert pixel[0] > 200 and pixel[1] < 60
