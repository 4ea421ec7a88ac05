"""Bounded work and memory per image: scans of a JPEG, bytes per pixel of the decoded mode, strip conversions."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from lambdas.imaging import ImagingOptions, TooComplex, TooManyPixels, compress, probe, process
from lambdas.imaging.colour import STRIP_PIXELS, to_display
from lambdas.imaging.decode import decode, jpeg_scan_count, open_image, peak_bytes_per_pixel
from tests.unit.imaging import imaging_samples as samples


def _repeat_last_scan(data: bytes, times: int) -> bytes:
    last = data.rindex(b"\xff\xda")
    end = data.rindex(b"\xff\xd9")
    return data[:end] + data[last:end] * times + data[end:]


def test_scans_are_counted_by_walking_markers_not_by_searching_bytes() -> None:
    # GIVEN a baseline JPEG (1 scan) whose comment carries the bytes of start-of-scan markers, and a
    # progressive one (libjpeg's standard script: 10 scans for colour)
    baseline = samples.jpeg(64, 48, comment=b"\xff\xda" * 8)
    progressive = samples.save(samples.photo(64, 48), "JPEG", progressive=True)
    # THEN the marker walk finds exactly their scans, and repeated scans add up
    assert baseline.count(b"\xff\xda") > 1
    assert jpeg_scan_count(baseline) == 1
    assert jpeg_scan_count(progressive) == 10
    assert jpeg_scan_count(_repeat_last_scan(progressive, 50)) == 60


def test_a_jpeg_that_repeats_its_scans_is_refused_before_decoding() -> None:
    # GIVEN a progressive JPEG whose last scan is repeated 1,700 times (decoding revisits every
    # coefficient per scan: at 100 MP this took minutes), and a budget of 25 scans of its size
    data = _repeat_last_scan(samples.save(samples.photo(256, 256), "JPEG", progressive=True), 1700)
    options = ImagingOptions(max_pixels=256 * 256, max_decode_bytes=10**8)
    # WHEN probed or compressed
    with pytest.raises(TooComplex, match=r"1710 scans of 256x256 pixels") as caught:
        probe(data, options)
    with pytest.raises(TooComplex):
        compress(data, options)
    # THEN the code is stable, and the same file with its standard 10 scans is fine
    assert caught.value.code == "Image.TooComplex"
    assert compress(samples.save(samples.photo(256, 256), "JPEG", progressive=True), options).renditions


@pytest.mark.parametrize(
    ("mode", "transparency", "oriented", "expected"),
    [
        ("L", False, False, 1),
        ("RGB", False, False, 4),
        ("RGB", False, True, 8),
        ("I;16", False, False, 3),
        ("I", False, False, 5),
        ("F", False, False, 5),
        ("P", False, False, 5),
        ("P", True, False, 8),
        ("RGBA", False, False, 8),
        ("CMYK", False, False, 8),
        ("YCbCr", False, False, 8),
    ],
)
def test_peak_bytes_per_pixel_of_each_decoded_mode(
    mode: str, transparency: bool, oriented: bool, expected: int
) -> None:
    assert peak_bytes_per_pixel(mode, transparency=transparency, oriented=oriented) == expected


@pytest.mark.parametrize(
    ("image", "fmt", "fits"),
    [
        # 64x64 = 4,096 pixels; the budget below is 4 bytes a pixel plus the input
        (Image.new("RGB", (64, 64), (10, 20, 30)), "PNG", True),
        (Image.new("I", (64, 64), 70000), "TIFF", False),
        (Image.new("F", (64, 64), 0.5), "TIFF", False),
        (Image.new("CMYK", (64, 64), (0, 0, 0, 0)), "JPEG", False),
        (Image.new("RGBA", (64, 64), (1, 2, 3, 4)), "PNG", False),
        (Image.new("I;16", (64, 64), 40000), "PNG", True),
    ],
)
def test_the_decode_budget_counts_the_bytes_of_the_decoded_mode(image: Image.Image, fmt: str, fits: bool) -> None:
    # GIVEN images of the same pixel count in modes of different weight, and a budget of 4 bytes a pixel
    data = samples.save(image, fmt)
    options = ImagingOptions(max_decode_bytes=len(data) + 4 * 64 * 64)
    # WHEN processed: the heavy modes are refused before decoding, with their weight in the message
    if fits:
        assert process(data, options).renditions
    else:
        with pytest.raises(TooManyPixels, match=r"bytes a pixel"):
            process(data, options)


def test_a_progressive_jpeg_counts_its_coefficient_buffer() -> None:
    # GIVEN the same 4:2:0 image as a baseline and a progressive JPEG, and a budget that fits the
    # baseline (4 bytes a pixel) but not libjpeg's whole-image coefficients (+3 bytes a pixel)
    image = samples.photo(256, 256)
    baseline = samples.save(image, "JPEG", quality=80)
    progressive = samples.save(image, "JPEG", quality=80, progressive=True)
    options = ImagingOptions(max_decode_bytes=max(len(baseline), len(progressive)) + 5 * 256 * 256)
    # THEN only the baseline is accepted
    assert compress(baseline, options).renditions
    with pytest.raises(TooManyPixels, match=r"MB of DCT coefficients"):
        compress(progressive, options)
    # AND a draft decode (1/8 scale) still needs the full-size coefficients of the progressive one
    small_budget = ImagingOptions(max_decode_bytes=max(len(baseline), len(progressive)) + 2 * 256 * 256)
    assert decode(open_image(baseline, small_budget), small_budget, draft_size=(32, 32)).size == (32, 32)
    with pytest.raises(TooManyPixels):
        decode(open_image(progressive, small_budget), small_budget, draft_size=(32, 32))


@pytest.mark.parametrize(
    ("mode", "dtype", "values", "expected"),
    [
        ("I;16", np.uint16, [0, 255, 256, 40000, 65535], [0, 0, 1, 156, 255]),
        ("I", np.int32, [0, 1, 100, 255], [0, 1, 100, 255]),
        ("I", np.int32, [-5, 0, 256, 70000], [0, 0, 1, 255]),
        ("F", np.float32, [0.0, 0.5, 1.0, float("nan")], [0, 128, 255, 0]),
        ("F", np.float32, [0.0, 2.0, 254.4, float("inf")], [0, 2, 254, 255]),
    ],
)
def test_deep_grey_is_scaled_in_strips_with_the_whole_image_range(
    mode: str, dtype: type, values: list[float], expected: list[int]
) -> None:
    # GIVEN an image taller than one strip whose extreme values sit in its last rows only
    width = 512
    height = 3 * (STRIP_PIXELS // width) + 7
    array = np.zeros((height, width), dtype)
    array[-1, : len(values)] = values
    image = Image.fromarray(array) if mode == "I;16" else Image.fromarray(array, mode)
    # WHEN converted for display
    out = np.asarray(to_display(image))
    # THEN the scale was chosen from the whole image, not per strip
    assert out.dtype == np.uint8 and out.shape == (height, width)
    assert out[-1, : len(values)].tolist() == expected
    assert int(out[:-1].max()) == 0


def test_consume_releases_each_image_once_converted() -> None:
    # GIVEN a palette image with transparency (converted to RGBA, then to RGB when opaque)
    image = Image.new("P", (32, 32), 1)
    image.info["transparency"] = 0
    # WHEN converted with consume
    out = to_display(image, consume=True)
    # THEN the result is RGB and the input's pixels are gone
    assert out.mode == "RGB"
    with pytest.raises(ValueError):
        image.load()


def test_junk_between_segments_does_not_hide_scans() -> None:
    # GIVEN a progressive JPEG with repeated scans and one junk byte after a segment that follows a scan
    # (libjpeg skips it; a count that stopped there would see one scan)
    data = _repeat_last_scan(samples.save(samples.photo(64, 48), "JPEG", progressive=True), 200)
    second_scan = data.index(b"\xff\xda", data.index(b"\xff\xda") + 2)
    junked = data[:second_scan] + b"\x00" + data[second_scan:]
    # THEN every scan is still counted, and the file is refused as before
    assert jpeg_scan_count(junked) == jpeg_scan_count(data) == 210
    with pytest.raises(TooComplex):
        probe(junked, ImagingOptions(max_pixels=64 * 48))


def test_a_png_turned_by_an_exif_chunk_after_its_data_counts_the_turn() -> None:
    # GIVEN an RGB PNG whose eXIf chunk (orientation 6) follows the image data, and a budget that fits
    # the decoded pixels (4 bytes a pixel) but not a turned copy (8)
    import struct
    import zlib

    plain = samples.save(samples.photo(64, 48), "PNG")
    exif = samples.exif_with(orientation=6)
    body = exif[6:] if exif.startswith(b"Exif\x00\x00") else exif
    chunk = struct.pack(">I", len(body)) + b"eXIf" + body + struct.pack(">I", zlib.crc32(b"eXIf" + body))
    end = plain.rindex(b"IEND") - 4
    data = plain[:end] + chunk + plain[end:]
    options = ImagingOptions(max_decode_bytes=len(data) + 5 * 64 * 48)
    # THEN it is refused once the turn is known, before the copy is made; unturned it is accepted
    assert process(plain, ImagingOptions(max_decode_bytes=len(plain) + 5 * 64 * 48)).renditions
    with pytest.raises(TooManyPixels, match="8 bytes a pixel"):
        process(data, options)
