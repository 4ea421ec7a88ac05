"""Renditions, quality targeting, metadata policy and the report of compress / derive / process."""

from __future__ import annotations

import io
import json
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image

from lambdas.imaging import ImagingOptions, compress, derive, process
from lambdas.imaging.quality import ssim
from tests.unit.imaging import imaging_samples as samples

OPTIONS = ImagingOptions()


def decoded(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def test_process_makes_every_standard_rendition() -> None:
    # GIVEN a 1600x1200 photo
    data = samples.jpeg(1600, 1200)
    # WHEN processed
    result = process(data, OPTIONS)
    # THEN the compressed image is full size and the derived ones fit their edges
    sizes = {r.name: (r.format, r.width, r.height) for r in result.renditions}
    assert sizes == {
        "compressed": ("jpeg", 1600, 1200),
        "thumb-256": ("jpeg", 256, 192),
        "thumb-1024": ("jpeg", 1024, 768),
        "analysis": ("jpeg", 1024, 768),
    }
    for rendition in result.renditions:
        assert decoded(rendition.data).size == (rendition.width, rendition.height)


def test_small_images_are_never_enlarged_but_for_the_labelers_minimum() -> None:
    # GIVEN an image smaller than every thumbnail size, 50 px tall
    result = process(samples.jpeg(100, 50), OPTIONS)
    # THEN no rendition a user sees is enlarged; the analysis JPEG is, to the labelers' 80 px minimum side
    sizes = {r.name: (r.width, r.height) for r in result.renditions}
    assert sizes.pop("analysis") == (160, 80)
    assert set(sizes.values()) == {(100, 50)}


def test_compress_returns_only_the_compressed_rendition() -> None:
    result = compress(samples.jpeg(300, 200), OPTIONS)
    assert [r.name for r in result.renditions] == ["compressed"]


def test_derive_from_a_large_jpeg_uses_dct_scaling_and_gives_the_same_sizes() -> None:
    # GIVEN a 2400x1800 JPEG (DCT scaling to 1/2 still covers 1024)
    data = samples.jpeg(2400, 1800)
    # WHEN derived
    result = derive(data, OPTIONS)
    # THEN the thumbnails and analysis have the requested sizes and resemble the full-size reduction
    assert [(r.name, r.width, r.height) for r in result.renditions] == [
        ("thumb-256", 256, 192),
        ("thumb-1024", 1024, 768),
        ("analysis", 1024, 768),
    ]
    reference = np.asarray(samples.photo(2400, 1800).resize((1024, 768), Image.Resampling.LANCZOS).convert("L"))
    thumb = np.asarray(decoded(result.rendition("thumb-1024").data).convert("L"))
    assert ssim(reference, thumb) > 0.8


def test_max_edge_caps_the_compressed_rendition() -> None:
    result = compress(samples.jpeg(1200, 800), ImagingOptions(max_edge=600))
    assert (result.rendition("compressed").width, result.rendition("compressed").height) == (600, 400)


def test_fixed_quality_is_used_without_targeting() -> None:
    rendition = compress(samples.jpeg(400, 300), ImagingOptions(fixed_quality=61)).rendition("compressed")
    assert (rendition.quality, rendition.ssim) == (61, None)


def test_progressive_jpeg_has_the_same_pixels_in_fewer_bytes_than_plain_coding() -> None:
    # GIVEN a photo-like image (lossless, so the quality is the same either way)
    data = samples.save(samples.photo(640, 480), "PNG")
    options = ImagingOptions(fixed_quality=82)
    # WHEN compressed with the default coding and progressive
    plain = compress(data, options).rendition("compressed")
    progressive = compress(data, ImagingOptions(fixed_quality=82, jpeg_progressive=True)).rendition("compressed")
    # THEN the progressive file is progressive, smaller, and decodes to the same pixels
    assert decoded(progressive.data).info.get("progressive") and not decoded(plain.data).info.get("progressive")
    assert len(progressive.data) < len(plain.data)
    assert decoded(progressive.data).tobytes() == decoded(plain.data).tobytes()


def test_always_optimised_huffman_tables_save_bytes_where_sampling_declines_without_changing_pixels() -> None:
    # GIVEN pure noise, where optimised tables save ~5%: too little for the sampled rule
    noise = np.random.default_rng(1).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    data = samples.save(Image.fromarray(noise), "PNG")
    # WHEN compressed with sampled and with always-on optimisation
    sampled = compress(data, ImagingOptions(fixed_quality=82)).rendition("compressed")
    always = compress(data, ImagingOptions(fixed_quality=82, jpeg_optimize="always")).rendition("compressed")
    # THEN the optimised file is smaller and decodes to the same pixels
    assert len(always.data) < len(sampled.data)
    assert decoded(always.data).tobytes() == decoded(sampled.data).tobytes()


def test_a_higher_ssim_target_chooses_a_higher_quality_and_reaches_it() -> None:
    # GIVEN a noisy photo-like image (made lossless, so the target is the limit)
    data = samples.save(samples.photo(640, 480), "PNG")
    # WHEN compressed at two targets
    low = compress(data, ImagingOptions(target_ssim=0.90)).rendition("compressed")
    high = compress(data, ImagingOptions(target_ssim=0.96)).rendition("compressed")
    # THEN the stricter target costs quality and bytes, and each reached its target
    assert high.quality > low.quality and len(high.data) > len(low.data)
    assert low.ssim >= 0.90 and high.ssim >= 0.96


def test_the_reported_ssim_matches_the_encoded_output() -> None:
    # GIVEN a photo small enough to be measured whole
    image = samples.photo(320, 240)
    data = samples.save(image, "PNG")
    # WHEN compressed with targeting
    rendition = compress(data, OPTIONS).rendition("compressed")
    # THEN the SSIM of the output against the input is the one reported
    measured = ssim(np.asarray(image.convert("L")), np.asarray(decoded(rendition.data).convert("L")))
    assert measured == pytest.approx(rendition.ssim, abs=1e-4)


def test_ssim_is_one_for_identical_images_and_falls_with_noise() -> None:
    rng = np.random.default_rng(1)
    reference = samples.photo_array(64, 64)[..., 0]
    noisy = np.clip(reference + rng.normal(0, 20, reference.shape), 0, 255).astype(np.uint8)
    assert ssim(reference, reference) == pytest.approx(1.0)
    assert ssim(reference, noisy) < 0.9


def test_compressed_is_never_larger_than_the_original_jpeg() -> None:
    # GIVEN a JPEG at low quality, to be re-encoded at a high fixed quality (which makes it larger)
    data = samples.jpeg(320, 240, quality=20, exif=samples.exif_with(gps=True, copyright="Ada", serial="SN123"))
    # WHEN compressed
    rendition = compress(data, ImagingOptions(fixed_quality=95)).rendition("compressed")
    # THEN the original's image data is kept, smaller than the input, with the private metadata gone
    assert rendition.kept_original is True
    assert len(rendition.data) <= len(data)
    assert (rendition.format, rendition.quality) == ("jpeg", None)
    exif = decoded(rendition.data).getexif()
    assert exif.get(0x8298) == "Ada"
    assert exif.get_ifd(samples.GPS_IFD) == {}
    assert 0xA431 not in exif.get_ifd(samples.EXIF_IFD)
    assert np.asarray(decoded(rendition.data)).shape == np.asarray(decoded(data)).shape


def test_gps_serial_and_maker_tags_are_stripped_and_copyright_kept() -> None:
    # GIVEN a JPEG with GPS, a body serial number, a camera make and a copyright
    exif = samples.exif_with(gps=True, copyright="(c) Ada", serial="SN123")
    data = samples.jpeg(640, 480, exif=exif)
    # WHEN compressed
    out = decoded(compress(data, ImagingOptions(fixed_quality=90)).rendition("compressed").data).getexif()
    # THEN only the kept tags survive
    assert out.get(0x8298) == "(c) Ada"
    assert out.get_ifd(samples.EXIF_IFD).get(0x9003) == "2024:05:06 07:08:09"
    assert out.get_ifd(samples.GPS_IFD) == {}
    assert 0xA431 not in out.get_ifd(samples.EXIF_IFD)
    assert 0x010F not in out


def test_keep_metadata_is_configurable() -> None:
    data = samples.jpeg(320, 240, exif=samples.exif_with(copyright="(c) Ada"))
    options = ImagingOptions(fixed_quality=90, keep_metadata=frozenset({"Make"}))
    out = decoded(compress(data, options).rendition("compressed").data).getexif()
    assert (out.get(0x010F), out.get(0x8298)) == ("TestCam", None)


def test_analysis_jpeg_fits_the_labeler() -> None:
    # GIVEN a large PNG with alpha
    image = samples.photo(2000, 1500).convert("RGBA")
    image.putalpha(128)
    # WHEN derived
    analysis = derive(samples.save(image, "PNG"), OPTIONS).rendition("analysis")
    # THEN it is an RGB JPEG within 1024 px and 5 MB
    assert (analysis.format, analysis.mime, decoded(analysis.data).mode) == ("jpeg", "image/jpeg", "RGB")
    assert max(analysis.width, analysis.height) <= 1024 and len(analysis.data) < 5 * 1024 * 1024


def test_report_is_json_and_complete() -> None:
    # GIVEN a processed image
    data = samples.jpeg(800, 600, exif=samples.exif_with(orientation=3))
    result = process(data, OPTIONS)
    # WHEN the report is serialised
    report = json.loads(json.dumps(result.report.to_dict()))
    # THEN it holds input, orientation, every rendition and the stage timings
    assert report["input"] == {
        "format": "jpeg",
        "mime": "image/jpeg",
        "width": 800,
        "height": 600,
        "bytes": len(data),
        "animated": False,
    }
    assert report["orientation"] == 3
    assert report["renditions"]["compressed"]["bytes"] == len(result.rendition("compressed").data)
    assert report["renditions"]["compressed"]["quality"] == result.rendition("compressed").quality
    assert {"probe", "decode", "colour", "quality", "resize.derived", "encode.derived"} <= report["timings_ms"].keys()


def test_rendition_lookup_names_what_exists() -> None:
    result = compress(samples.jpeg(64, 64), OPTIONS)
    with pytest.raises(KeyError, match="no rendition named 'thumb-256'"):
        result.rendition("thumb-256")


def test_custom_thumbnail_sizes_are_named_by_size() -> None:
    result = derive(samples.jpeg(900, 600), ImagingOptions(thumbnail_sizes=(128, 512), analysis_edge=300))
    assert [(r.name, r.width) for r in result.renditions] == [("thumb-128", 128), ("thumb-512", 512), ("analysis", 300)]


def test_processing_is_thread_safe_and_deterministic() -> None:
    # GIVEN a few different images
    inputs = [samples.jpeg(300 + 40 * i, 200, exif=samples.exif_with(orientation=1 + i % 8)) for i in range(8)]
    expected = [[r.data for r in process(d, OPTIONS).renditions] for d in inputs]
    # WHEN processed concurrently, twice over
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda d: [r.data for r in process(d, OPTIONS).renditions], inputs * 2))
    # THEN every result equals the sequential one
    assert results == expected * 2


def test_derive_accepts_the_compressed_rendition_as_input() -> None:
    # GIVEN the compressed rendition of a large PNG (pipeline step 2 output)
    compressed = compress(samples.save(samples.photo(1800, 1200), "PNG"), OPTIONS).rendition("compressed")
    # WHEN the thumbnails are derived from it (pipeline step 3)
    result = derive(compressed.data, OPTIONS)
    # THEN they have the sizes derived from the original's
    assert [(r.name, r.width, r.height) for r in result.renditions] == [
        ("thumb-256", 256, 171),
        ("thumb-1024", 1024, 683),
        ("analysis", 1024, 683),
    ]


def sharp_graphic() -> Image.Image:
    """A black and white pixel checkerboard: a few hundred bytes as PNG, hard for JPEG."""
    return Image.fromarray(((np.indices((300, 400)).sum(axis=0) % 2) * 255).astype(np.uint8), "L")


def test_a_sharp_png_graphic_is_kept_when_a_jpeg_would_be_larger() -> None:
    # GIVEN a sharp graphic, tiny as PNG
    data = samples.save(sharp_graphic(), "PNG")
    # WHEN compressed
    rendition = compress(data, OPTIONS).rendition("compressed")
    # THEN the PNG bytes are the compressed rendition, and say so
    assert (rendition.kept_original, rendition.format, rendition.mime, rendition.data) == (
        True,
        "png",
        "image/png",
        data,
    )


def test_a_kept_png_loses_its_text_and_exif_chunks() -> None:
    # GIVEN the same graphic with a text chunk and EXIF with GPS (which may hold anything private)
    from PIL import PngImagePlugin

    text = PngImagePlugin.PngInfo()
    text.add_text("Location", "48.85N 2.29E")
    data = samples.save(sharp_graphic(), "PNG", pnginfo=text, exif=samples.exif_with(gps=True))
    # WHEN compressed
    rendition = compress(data, OPTIONS).rendition("compressed")
    # THEN the original pixels are kept without the metadata
    kept = decoded(rendition.data)
    assert (rendition.kept_original, rendition.format) == (True, "png")
    assert b"48.85N" not in rendition.data and "exif" not in kept.info
    np.testing.assert_array_equal(np.asarray(kept), np.asarray(sharp_graphic()))


def test_heic_is_never_kept_since_browsers_cannot_show_it() -> None:
    import pillow_heif

    buffer = io.BytesIO()
    pillow_heif.from_pillow(Image.new("RGB", (256, 256), (90, 90, 90))).save(buffer, quality=30)
    rendition = compress(buffer.getvalue(), OPTIONS).rendition("compressed")
    assert (rendition.kept_original, rendition.format) == (False, "jpeg")


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((16, 16), (80, 80)),  # tiny: enlarged to Rekognition's 80 px minimum
        ((3000, 1), (1024, 80)),  # a 1-pixel-tall panorama: scaled to the edge, then padded
        ((40, 200), (80, 400)),  # narrow: enlarged until the short side reaches 80
        ((1, 1), (80, 80)),
    ],
)
def test_the_analysis_jpeg_has_both_sides_of_at_least_80_px(size: tuple[int, int], expected: tuple[int, int]) -> None:
    # GIVEN an image with a side below what Rekognition accepts (80 px)
    data = samples.save(samples.photo(*size), "PNG")
    # WHEN derived
    analysis = derive(data, OPTIONS).rendition("analysis")
    # THEN the analysis JPEG has both sides of at least 80 px, its longest edge within the analysis edge
    assert (analysis.width, analysis.height) == expected
    assert decoded(analysis.data).size == expected


def test_an_image_the_labeler_accepts_reuses_the_thumbnail_bytes() -> None:
    # GIVEN a photo larger than the analysis edge
    result = derive(samples.jpeg(2000, 1500), OPTIONS)
    # THEN the analysis JPEG is the thumbnail of the same edge, byte for byte
    assert result.rendition("analysis").data == result.rendition("thumb-1024").data
