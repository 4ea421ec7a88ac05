"""What the image core produces and the limits it enforces: one frozen, validated record."""

from __future__ import annotations

from dataclasses import dataclass, field

from PIL import ExifTags

from lambdas.contract import COMPRESSED_FORMATS

JPEG_OPTIMIZE = ("sampled", "always")
"""When the compressed JPEG gets optimised Huffman tables (see ``ImagingOptions.jpeg_optimize``)."""

DEFAULT_KEPT_EXIF: frozenset[str] = frozenset(
    {
        "Artist",
        "Copyright",
        "DateTime",
        "DateTimeOriginal",
        "DateTimeDigitized",
        "OffsetTime",
        "OffsetTimeOriginal",
        "OffsetTimeDigitized",
        "SubsecTimeOriginal",
        "ImageDescription",
    }
)
"""EXIF tags a user wants to keep: authorship and capture time. GPS, serial numbers, maker notes and
everything else not named here are dropped."""

# Pointers to sub-directories cannot be kept by name: GPS is always stripped, the EXIF directory is rebuilt.
_POINTER_TAGS = frozenset({"ExifOffset", "GPSInfo", "InteropOffset", "SubIFDs", "IFD1"})
_EXIF_NAMES = frozenset(tag.name for tag in ExifTags.Base) - _POINTER_TAGS

MiB = 1024 * 1024


@dataclass(frozen=True, kw_only=True)
class ImagingOptions:
    """Limits and renditions of the image core. Every field is validated at construction."""

    max_input_bytes: int = 100 * MiB
    """Largest input accepted, in bytes; larger inputs raise ``TooLarge``. Default: 100 MiB."""

    max_pixels: int = 100_000_000
    """Largest pixel count (width x height, read from the header before decoding) accepted; larger
    images raise ``TooManyPixels``. A decoded RGB pixel takes 4 bytes. Default: 100_000_000."""

    max_decode_bytes: int | None = None
    """Largest working memory of one decode, in bytes: the input's bytes plus, per pixel, the decoded
    pixels and every full-size copy made while orienting them and converting them to 8-bit sRGB and, for
    JPEG, flattening alpha (see ``decode.peak_bytes_per_pixel``: 4 for RGB, 3 for 16-bit grey, 5 for
    32-bit integer or float grey and palette images, 8 for CMYK, alpha or an oriented RGB image). Images
    that need more raise ``TooManyPixels`` before anything is decoded, so no accepted input takes a worker
    past its memory budget. Default: None, meaning ``4.4 * max_pixels`` (440 MB at the default
    ``max_pixels``: a 100 MP RGB JPEG of up to 40 MB; measured peak RSS of a worker below 512 MB)."""

    max_scan_pixels: int | None = None
    """Largest decoding work of a JPEG, as its scans times its pixels: libjpeg revisits every coefficient
    of the image once per scan (~0.1 s per scan at 100 MP here), so a small progressive file that repeats
    its scans thousands of times would hold a worker for minutes. Standard progressive JPEGs have about 10
    scans. More work raises ``TooComplex`` before decoding. Default: None, meaning ``25 * max_pixels``
    (25 scans at 100 MP, 208 at 12 MP)."""

    compressed_format: str = "jpeg"
    """Format of the compressed rendition: ``"jpeg"``, ``"webp"`` or ``"avif"`` (WebP and AVIF keep alpha).
    Measured on benchmark photos at the default target: WebP took 6x the CPU of JPEG for 1.02x the
    bytes, AVIF (libavif speed 8) 10x the CPU for 1.17x the bytes. Default: ``"jpeg"``."""

    target_ssim: float | None = 0.996
    """Perceptual target of the compressed rendition: the lowest quality whose SSIM on luma (7x7 windows,
    measured on full-resolution tiles sampled over the image) reaches this value is chosen per image.
    Ignored when ``fixed_quality`` is set. Default: 0.996, the median SSIM of a plain JPEG quality 82 on
    the benchmark corpus (so the median quality matches q82 while easy images take fewer bytes and
    hard ones keep their detail)."""

    fixed_quality: int | None = None
    """Encoder quality (1-100) used for every image instead of targeting. Default: None (targeting)."""

    jpeg_optimize: str = "sampled"
    """Huffman optimisation of the compressed JPEG (it changes bytes, never pixels): ``"sampled"`` uses it
    when it shrinks the quality sample by at least 8%, ``"always"`` on every image. Either way only up to
    24 MP, where libjpeg's coefficient buffer still fits the memory budget. Measured on the benchmark
    corpus, ``"always"`` took 0.98x-0.99x the total bytes of ``"sampled"`` (21 KB less per camera-like
    photo) for 1.02x-1.14x the pipeline's CPU: far from the 10% saving that would make it the default.
    Default: ``"sampled"``."""

    jpeg_progressive: bool = False
    """Write the compressed JPEG progressive (libjpeg then always optimises Huffman tables; same pixels).
    Only up to 24 MP, as ``jpeg_optimize``. Measured on the benchmark corpus: 0.95x-0.98x the total bytes
    (52 KB less per camera-like photo; median 0.94x-0.98x plain Pillow q82) for 1.33x-1.82x the pipeline's
    CPU (1.25x libvips' on camera-like photos, over the 0.8x budget), so it is not the default.
    Default: ``False``."""

    max_edge: int | None = None
    """Longest edge of the compressed rendition in pixels; larger images are scaled down. Default: None
    (full resolution)."""

    thumbnail_sizes: tuple[int, ...] = (256, 1024)
    """Longest edges of the thumbnails; each becomes a rendition named ``thumb-<size>``. Images are never
    enlarged. Default: (256, 1024)."""

    analysis_edge: int = 1024
    """Longest edge of the ``analysis`` JPEG sent to the labeler (Rekognition takes JPEG/PNG up to 5 MB
    as bytes). Default: 1024."""

    keep_metadata: frozenset[str] = field(default=DEFAULT_KEPT_EXIF)
    """Names of EXIF tags (as in ``PIL.ExifTags.Base``) copied into the compressed rendition; all other
    metadata (GPS, serial numbers, maker notes, XMP, comments) is stripped. Orientation is always
    applied to the pixels and removed. Default: ``DEFAULT_KEPT_EXIF`` (author, copyright, capture time)."""

    def __post_init__(self) -> None:
        _positive_int("max_input_bytes", self.max_input_bytes)
        _positive_int("max_pixels", self.max_pixels)
        for name in ("max_decode_bytes", "max_scan_pixels"):
            if getattr(self, name) is not None:
                _positive_int(name, getattr(self, name))
        if self.compressed_format not in COMPRESSED_FORMATS:
            raise ValueError(f"compressed_format must be one of {COMPRESSED_FORMATS}, got {self.compressed_format!r}")
        if self.target_ssim is not None and (
            isinstance(self.target_ssim, bool)
            or not isinstance(self.target_ssim, int | float)
            or not 0.5 <= self.target_ssim < 1.0
        ):
            raise ValueError(f"target_ssim must be a number in [0.5, 1.0) or None, got {self.target_ssim!r}")
        if self.fixed_quality is not None:
            _positive_int("fixed_quality", self.fixed_quality)
            if self.fixed_quality > 100:
                raise ValueError(f"fixed_quality must be in 1..100, got {self.fixed_quality}")
        if self.jpeg_optimize not in JPEG_OPTIMIZE:
            raise ValueError(f"jpeg_optimize must be one of {JPEG_OPTIMIZE}, got {self.jpeg_optimize!r}")
        if not isinstance(self.jpeg_progressive, bool):
            raise ValueError(f"jpeg_progressive must be a bool, got {self.jpeg_progressive!r}")
        if self.target_ssim is None and self.fixed_quality is None:
            raise ValueError("target_ssim must be set when fixed_quality is None")
        if self.max_edge is not None:
            _positive_int("max_edge", self.max_edge, minimum=16)
        if not isinstance(self.thumbnail_sizes, tuple):
            raise ValueError(f"thumbnail_sizes must be a tuple of ints, got {type(self.thumbnail_sizes).__name__}")
        for size in self.thumbnail_sizes:
            _positive_int("thumbnail_sizes", size, minimum=16)
        if len(set(self.thumbnail_sizes)) != len(self.thumbnail_sizes):
            raise ValueError(f"thumbnail_sizes must not repeat a size, got {self.thumbnail_sizes}")
        _positive_int("analysis_edge", self.analysis_edge, minimum=80)
        if not isinstance(self.keep_metadata, frozenset):
            raise ValueError(f"keep_metadata must be a frozenset of EXIF tag names, got {self.keep_metadata!r}")
        unknown = sorted(str(name) for name in self.keep_metadata if name not in _EXIF_NAMES)
        if unknown:
            raise ValueError(f"keep_metadata has names that are not keepable EXIF tags: {unknown}")

    @property
    def decode_budget(self) -> int:
        """``max_decode_bytes``, or its default derived from ``max_pixels``."""
        return self.max_decode_bytes if self.max_decode_bytes is not None else self.max_pixels * 44 // 10

    @property
    def scan_budget(self) -> int:
        """``max_scan_pixels``, or its default derived from ``max_pixels``."""
        return self.max_scan_pixels if self.max_scan_pixels is not None else self.max_pixels * 25


def _positive_int(name: str, value: object, *, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
