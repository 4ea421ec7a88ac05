"""The owner-facing EXIF summary: capture time, camera, lens and exposure, read once by ``compress``."""

from __future__ import annotations

from PIL import Image

from lambdas.imaging import ImagingOptions, compress, derive, process
from lambdas.imaging.metadata import exif_summary
from tests.unit.imaging import imaging_samples as samples

OPTIONS = ImagingOptions(fixed_quality=85)


def test_compress_reads_capture_time_camera_lens_and_exposure() -> None:
    # GIVEN a JPEG with a camera's EXIF
    data = samples.jpeg(320, 240, exif=samples.camera_exif())
    # WHEN compressed
    result = compress(data, OPTIONS)
    # THEN the summary holds the photographer's tags, as plain JSON values
    assert result.exif == {
        "taken_at": "2026-12-01T14:05:06+01:00",
        "make": "Fujifilm",
        "model": "X-T5",
        "lens_make": "Fujifilm",
        "lens": "XF35mmF1.4 R",
        "exposure_time": 0.004,
        "f_number": 2.8,
        "iso": 400,
        "focal_length": 35.0,
        "focal_length_35mm": 53,
    }


def test_the_summary_never_holds_gps_or_serial_numbers() -> None:
    data = samples.jpeg(160, 120, exif=samples.camera_exif(gps=True, serial="SN123"))
    summary = compress(data, OPTIONS).exif
    assert "SN123" not in repr(summary)
    assert not any("gps" in name for name in summary)


def test_capture_time_without_offset_falls_back_to_datetime_original_alone() -> None:
    summary = compress(samples.jpeg(160, 120, exif=samples.camera_exif(offset=None)), OPTIONS).exif
    assert summary["taken_at"] == "2026-12-01T14:05:06"


def test_an_image_without_exif_has_an_empty_summary() -> None:
    assert compress(samples.jpeg(160, 120), OPTIONS).exif == {}
    assert compress(samples.save(samples.photo(64, 48), "PNG"), OPTIONS).exif == {}


def test_process_reads_it_and_derive_does_not() -> None:
    data = samples.jpeg(320, 240, exif=samples.camera_exif())
    assert process(data, OPTIONS).exif["model"] == "X-T5"
    assert derive(data, OPTIONS).exif == {}


def test_unset_clock_zero_apertures_and_odd_values_are_left_out() -> None:
    # GIVEN EXIF whose clock was never set, with a zero aperture, a zero denominator and binary junk
    from PIL import TiffImagePlugin

    exif = Image.Exif()
    exif[0x0110] = "  Cam\x00\x00 "
    ifd = exif.get_ifd(samples.EXIF_IFD)
    ifd[0x9003] = "0000:00:00 00:00:00"
    ifd[0x829D] = TiffImagePlugin.IFDRational(0, 1)
    ifd[0x829A] = TiffImagePlugin.IFDRational(1, 0)
    ifd[0x9011] = "nonsense"
    # WHEN summarized
    summary = exif_summary(exif)
    # THEN only the readable value stays, trimmed
    assert summary == {"model": "Cam"}
