"""EXIF orientation pixel by pixel, and every input mode brought to sRGB (CMYK, ICC, 16-bit, palette...)."""

from __future__ import annotations

import io

import numpy as np
import pillow_heif
import pytest
from PIL import Image, features

from lambdas.imaging import ImagingOptions, process
from lambdas.imaging.colour import to_display
from lambdas.imaging.decode import decode, open_image
from tests.unit.imaging import imaging_samples as samples

OPTIONS = ImagingOptions()


def displayed(data: bytes) -> np.ndarray:
    """The pixels the core works on after decode, orientation and colour conversion."""
    return np.asarray(to_display(decode(open_image(data, OPTIONS), OPTIONS)))


def decoded(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


@pytest.mark.parametrize("orientation", range(1, 9))
def test_png_orientation_is_applied_pixel_by_pixel(orientation: int) -> None:
    # GIVEN an asymmetric upright image stored as a viewer honouring `orientation` expects
    upright = samples.photo_array(48, 32)
    stored = np.ascontiguousarray(samples.stored_for_orientation(upright, orientation))
    data = samples.save(Image.fromarray(stored), "PNG", exif=samples.exif_with(orientation=orientation))
    # WHEN decoded and oriented
    pixels = displayed(data)
    # THEN every pixel is where the viewer would show it
    np.testing.assert_array_equal(pixels, upright)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_jpeg_orientation_is_applied_and_the_tag_removed(orientation: int) -> None:
    # GIVEN an asymmetric photo stored as a JPEG for `orientation`
    upright = samples.photo_array(96, 64)
    stored = np.ascontiguousarray(samples.stored_for_orientation(upright, orientation))
    exif = samples.exif_with(orientation=orientation)
    data = samples.save(Image.fromarray(stored), "JPEG", quality=95, exif=exif)
    # WHEN processed
    compressed = process(data, ImagingOptions(fixed_quality=70)).rendition("compressed")
    out = decoded(compressed.data)
    # THEN the output is re-encoded upright (within JPEG error) and carries no orientation
    assert compressed.kept_original is False
    difference = np.abs(np.asarray(out.convert("RGB"), dtype=np.int16) - upright).mean()
    assert (compressed.width, compressed.height) == (96, 64)
    assert difference < 12  # a wrong turn or flip of this image differs by more than 60
    assert out.getexif().get(0x0112) is None


def test_cmyk_jpeg_without_profile_becomes_rgb() -> None:
    # GIVEN a CMYK JPEG that is pure cyan
    data = samples.save(Image.new("CMYK", (32, 32), (255, 0, 0, 0)), "JPEG", quality=95)
    # WHEN processed
    out = decoded(process(data, OPTIONS).rendition("compressed").data)
    # THEN the output is RGB cyan
    assert out.mode == "RGB"
    r, g, b = out.getpixel((16, 16))
    assert r < 30 and g > 225 and b > 225


def test_embedded_icc_profile_is_converted_to_srgb() -> None:
    # GIVEN pure device red in a profile whose red primary is sRGB's green
    data = samples.save(Image.new("RGB", (32, 32), (255, 0, 0)), "PNG", icc_profile=samples.swapped_primaries_icc())
    # WHEN decoded and converted
    r, g, b = displayed(data)[16, 16]
    # THEN the pixel is sRGB green, and no profile is needed to show it
    assert r < 40 and g > 215 and b < 40


def test_a_broken_icc_profile_is_ignored_not_fatal() -> None:
    data = samples.save(Image.new("RGB", (16, 16), (10, 20, 30)), "PNG", icc_profile=b"garbage" * 20)
    assert tuple(displayed(data)[4, 4]) == (10, 20, 30)


def test_sixteen_bit_grey_png_is_scaled_not_clipped() -> None:
    # GIVEN a 16-bit grey PNG at half intensity (32896 / 65535)
    data = samples.save(Image.fromarray(np.full((16, 16), 32896, np.uint16)), "PNG")
    # WHEN decoded / THEN 8-bit mid grey
    assert displayed(data)[8, 8] == 128


def test_sixteen_bit_rgb_png_is_decoded_to_8_bit() -> None:
    # GIVEN a 16-bit RGB PNG of (65535, 32896, 0)
    data = samples.png_16bit_rgb(8, 8, (65535, 32896, 0))
    # WHEN decoded / THEN 8-bit (255, 128, 0)
    assert tuple(displayed(data)[4, 4]) == (255, 128, 0)


def test_palette_png_with_transparency_keeps_alpha_then_flattens_onto_white_for_jpeg() -> None:
    # GIVEN a palette PNG: left half transparent, right half red
    image = Image.new("P", (32, 16), 0)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    image.paste(1, (16, 0, 32, 16))
    data = samples.save(image, "PNG", transparency=0)
    # WHEN processed to JPEG
    out = decoded(process(data, OPTIONS).rendition("compressed").data).convert("RGB")
    # THEN transparent pixels are white and opaque ones red
    assert min(out.getpixel((4, 8))) > 240
    r, g, b = out.getpixel((28, 8))
    assert r > 200 and g < 50 and b < 50


def test_alpha_is_kept_in_webp_renditions() -> None:
    # GIVEN an RGBA PNG, half transparent
    image = Image.new("RGBA", (32, 32), (0, 0, 255, 255))
    image.paste((0, 0, 0, 0), (0, 0, 16, 32))
    data = samples.save(image, "PNG")
    # WHEN compressed to WebP
    result = process(data, ImagingOptions(compressed_format="webp"))
    out = decoded(result.rendition("compressed").data)
    # THEN the alpha survives, in the compressed image and the thumbnails, and the analysis JPEG is flat
    assert out.mode == "RGBA" and out.getpixel((4, 4))[3] == 0 and out.getpixel((28, 4))[3] == 255
    assert result.rendition("thumb-256").format == "webp"
    assert decoded(result.rendition("analysis").data).mode == "RGB"


def test_opaque_alpha_is_dropped() -> None:
    data = samples.save(samples.photo(32, 32).convert("RGBA"), "PNG")
    assert displayed(data).shape == (32, 32, 3)


@pytest.mark.parametrize("mode", ["1", "L", "LA", "I", "F", "RGB"])
def test_every_tiff_mode_decodes_to_8_bit(mode: str) -> None:
    image = samples.photo(24, 16).convert(mode if mode != "LA" else "L")
    if mode == "LA":
        image = image.convert("LA")
    data = samples.save(image, "TIFF")
    pixels = displayed(data)
    assert pixels.dtype == np.uint8 and pixels.shape[:2] == (16, 24)


@pytest.mark.parametrize(("fmt", "params"), [("WEBP", {"lossless": True}), ("WEBP", {"quality": 80}), ("BMP", {})])
def test_webp_and_bmp_inputs_are_processed(fmt: str, params: dict) -> None:
    data = samples.save(samples.photo(40, 30), fmt, **params)
    result = process(data, OPTIONS)
    assert (result.info.width, result.info.height) == (40, 30)


def test_animated_webp_uses_its_first_frame() -> None:
    frames = [Image.new("RGB", (40, 30), colour) for colour in ("red", "blue")]
    data = samples.save(frames[0], "WEBP", save_all=True, append_images=frames[1:], lossless=True)
    result = process(data, OPTIONS)
    r, _, b = decoded(result.rendition("compressed").data).convert("RGB").getpixel((10, 10))
    assert result.info.animated and r > 200 and b < 60


def test_heic_made_by_the_encoder_is_decoded_with_its_rotation() -> None:
    # GIVEN a HEIC (pillow-heif's encoder), orientation 6 in EXIF (stored as a container rotation)
    heif = pillow_heif.from_pillow(samples.photo(64, 48))
    buffer = io.BytesIO()
    heif.save(buffer, quality=90, exif=samples.exif_with(orientation=6))
    # WHEN processed
    result = process(buffer.getvalue(), OPTIONS)
    # THEN it is a HEIF whose displayed size is rotated and whose orientation is reported
    assert (result.info.format, result.info.width, result.info.height, result.info.orientation) == (
        "heif",
        48,
        64,
        6,
    )
    assert result.rendition("compressed").format == "jpeg"


@pytest.mark.skipif(not features.check("avif"), reason="this Pillow build has no AVIF codec")
def test_avif_made_by_the_encoder_is_decoded_and_can_be_the_output() -> None:
    # GIVEN an AVIF
    data = samples.save(samples.photo(64, 48), "AVIF", quality=80)
    # WHEN processed into AVIF
    result = process(data, ImagingOptions(compressed_format="avif", fixed_quality=60))
    # THEN it decodes and re-encodes
    assert (result.info.format, result.info.mime) == ("avif", "image/avif")
    assert decoded(result.rendition("compressed").data).size == (64, 48)


@pytest.mark.parametrize(
    ("label", "make"),
    [
        ("progressive jpeg", lambda: samples.save(samples.photo(80, 60), "JPEG", quality=90, progressive=True)),
        ("grey jpeg", lambda: samples.save(samples.photo(80, 60).convert("L"), "JPEG", quality=90)),
        ("1-bit png", lambda: samples.save(samples.photo(80, 60).convert("1"), "PNG")),
        ("grey+alpha png", lambda: samples.save(samples.photo(80, 60).convert("LA"), "PNG")),
    ],
)
def test_other_common_inputs_are_processed(label: str, make) -> None:  # type: ignore[no-untyped-def]
    # GIVEN a common variant of an input format
    data = make()
    # WHEN processed
    result = process(data, OPTIONS)
    # THEN every rendition decodes at the input's size, the analysis JPEG at the labelers' 80 px minimum side
    assert (result.info.width, result.info.height) == (80, 60), label
    for rendition in result.renditions:
        expected = (107, 80) if rendition.name == "analysis" else (80, 60)
        assert decoded(rendition.data).size == expected, rendition.name
