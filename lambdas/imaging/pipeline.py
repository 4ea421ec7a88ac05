"""The public operations: probe, compress, derive and process (bytes in, records out, no side effects)."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from PIL import Image

from lambdas.imaging import colour, metadata, quality
from lambdas.imaging.decode import DECODER_ERRORS, Opened, decode, open_image
from lambdas.imaging.encode import MIME, encode
from lambdas.imaging.errors import Corrupt, ImagingError
from lambdas.imaging.options import ImagingOptions
from lambdas.imaging.records import ImageInfo, ImageReport, ProcessResult, Rendition, RenditionReport
from lambdas.imaging.resize import draft_request, fit

THUMBNAIL_QUALITY = 82
"""Quality of thumbnails and of the analysis JPEG (small images: a fixed quality costs nothing)."""
ANALYSIS_QUALITY = 85
"""Quality of the analysis JPEG sent to the labeler."""

OPTIMIZE_FULL_SIZE = False
"""Huffman optimisation of the full-size JPEG: about 4% fewer bytes for 2.5x the encode CPU (measured on
the benchmark corpus); off, because the encode then dominates the pipeline. Small renditions use it."""

# Formats whose original bytes may stand in for the compressed rendition: shown by every browser.
_KEEPABLE = frozenset({"jpeg", "png", "webp", "avif"})
# Chunk names that carry metadata in PNG / WebP / AVIF files; originals holding any are not kept.
_METADATA_MARKERS = (b"eXIf", b"tEXt", b"iTXt", b"zTXt", b"EXIF", b"XMP ", b"Exif", b"mime")


class _Timer:
    def __init__(self) -> None:
        self.stages: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.stages[name] = self.stages.get(name, 0.0) + (time.perf_counter() - start) * 1000.0


def probe(data: bytes, options: ImagingOptions) -> ImageInfo:
    """Sniff ``data`` and read its header (no decode): format, displayed size, orientation, animation.

    Raises ``TooLarge``, ``NotAnImage``, ``UnsupportedFormat``, ``TooManyPixels``, ``Truncated`` or
    ``Corrupt``.
    """
    return _guarded(lambda: open_image(data, options).info)


def compress(data: bytes, options: ImagingOptions) -> ProcessResult:
    """The ``compressed`` rendition of ``data`` only (pipeline step 2)."""
    return _guarded(lambda: _run(data, options, want_compressed=True, want_derived=False))


def derive(data: bytes, options: ImagingOptions) -> ProcessResult:
    """Thumbnails and the ``analysis`` JPEG of ``data`` (pipeline step 3).

    ``data`` may be the original or the compressed rendition; a JPEG is decoded at the smallest DCT
    scale that still covers the largest derived size.
    """
    return _guarded(lambda: _run(data, options, want_compressed=False, want_derived=True))


def process(data: bytes, options: ImagingOptions) -> ProcessResult:
    """Every rendition of ``data`` from a single decode (local worker, benchmark)."""
    return _guarded(lambda: _run(data, options, want_compressed=True, want_derived=True))


def _guarded(call):  # type: ignore[no-untyped-def]
    """Run ``call``; any decoder fault that escaped the finer handling becomes ``Corrupt``."""
    try:
        return call()
    except ImagingError:
        raise
    except DECODER_ERRORS as exc:
        raise Corrupt(f"image: cannot be processed ({type(exc).__name__})") from exc


def _run(data: bytes, options: ImagingOptions, *, want_compressed: bool, want_derived: bool) -> ProcessResult:
    timer = _Timer()
    with timer.stage("probe"):
        opened = open_image(data, options)
    info = opened.info
    with timer.stage("decode"):
        image = decode(opened, draft_size=_draft_size(opened, options, want_compressed, want_derived))
    with timer.stage("colour"):
        display = colour.to_display(image)
    del image
    renditions: list[Rendition] = []
    if want_compressed:
        renditions.append(_compressed(display, opened, options, timer))
    if want_derived:
        renditions.extend(_derived(display, options, timer))
    report = ImageReport(
        input_format=info.format,
        input_mime=info.mime,
        input_width=info.width,
        input_height=info.height,
        input_bytes=len(opened.data),
        orientation=info.orientation,
        animated=info.animated,
        renditions=tuple(RenditionReport.of(r) for r in renditions),
        timings_ms=timer.stages,
    )
    return ProcessResult(info, tuple(renditions), report)


def _draft_size(
    opened: Opened, options: ImagingOptions, want_compressed: bool, want_derived: bool
) -> tuple[int, int] | None:
    """How small a JPEG may be decoded: enough for the largest rendition asked for."""
    if opened.info.format != "jpeg":
        return None
    needed = 0
    if want_compressed:
        if options.max_edge is None:
            return None
        needed = options.max_edge
    if want_derived:
        needed = max(needed, options.analysis_edge, *options.thumbnail_sizes)
    return draft_request(opened.image.size, needed)


def _compressed(display: Image.Image, opened: Opened, options: ImagingOptions, timer: _Timer) -> Rendition:
    fmt = options.compressed_format
    with timer.stage("resize.compressed"):
        image = fit(display, options.max_edge) if options.max_edge else display
        if fmt == "jpeg":
            image = colour.flatten(image)
    with timer.stage("metadata"):
        exif = metadata.kept_exif(_source_exif(opened), options.keep_metadata)
    score: float | None = None
    if options.fixed_quality is not None:
        chosen = options.fixed_quality
    else:
        assert options.target_ssim is not None
        with timer.stage("quality"):
            chosen, score = quality.choose_quality(
                quality.sample(image),
                options.target_ssim,
                lambda im, q: encode(im, fmt, q, optimize=False),
                _luma_decoder(fmt),
            )
    with timer.stage("encode.compressed"):
        data = encode(image, fmt, chosen, exif=exif, optimize=OPTIMIZE_FULL_SIZE)
    rendition = Rendition("compressed", data, fmt, MIME[fmt], image.width, image.height, chosen, _rounded(score), False)
    if len(data) >= len(opened.data):
        with timer.stage("keep_original"):
            kept = _kept_original(opened, options)
        if kept is not None and len(kept) < len(data):
            info = opened.info
            rendition = Rendition("compressed", kept, info.format, info.mime, info.width, info.height, None, None, True)
    return rendition


def _derived(display: Image.Image, options: ImagingOptions, timer: _Timer) -> list[Rendition]:
    """Thumbnails and the analysis JPEG, each scaled from the smallest larger image already made."""
    alpha = colour.has_alpha(display)
    edges = sorted({*options.thumbnail_sizes, options.analysis_edge}, reverse=True)
    scaled: dict[int, Image.Image] = {}
    source = display
    with timer.stage("resize.derived"):
        for edge in edges:
            scaled[edge] = source = fit(source, edge)
    renditions: list[Rendition] = []
    encoded: dict[tuple[int, str, int], bytes] = {}
    with timer.stage("encode.derived"):
        for size in options.thumbnail_sizes:
            image = scaled[size]
            fmt = "webp" if alpha else "jpeg"
            key = (size, fmt, THUMBNAIL_QUALITY)
            encoded[key] = encode(image, fmt, THUMBNAIL_QUALITY)
            renditions.append(
                Rendition(f"thumb-{size}", encoded[key], fmt, MIME[fmt], *image.size, THUMBNAIL_QUALITY, None, False)
            )
        image = colour.flatten(scaled[options.analysis_edge])
        data = encode(image, "jpeg", ANALYSIS_QUALITY, optimize=True)
        renditions.append(Rendition("analysis", data, "jpeg", MIME["jpeg"], *image.size, ANALYSIS_QUALITY, None, False))
    return renditions


def _source_exif(opened: Opened) -> Image.Exif:
    try:
        return opened.image.getexif()
    except DECODER_ERRORS:
        return Image.Exif()


def _kept_original(opened: Opened, options: ImagingOptions) -> bytes | None:
    """The original's bytes as the compressed rendition, if they can be served without leaking metadata."""
    info = opened.info
    if info.format not in _KEEPABLE or info.animated or opened.image.mode == "CMYK":
        return None
    if info.format == "jpeg":
        exif = metadata.kept_exif(_source_exif(opened), options.keep_metadata, orientation=info.orientation)
        return metadata.strip_jpeg(opened.data, exif)
    if info.orientation != 1 or any(marker in opened.data for marker in _METADATA_MARKERS):
        return None
    return opened.data


def _luma_decoder(fmt: str):  # type: ignore[no-untyped-def]
    if fmt == "jpeg":
        return quality.jpeg_luma

    def decode_luma(data: bytes) -> np.ndarray:
        from PIL import AvifImagePlugin, WebPImagePlugin

        image_class = WebPImagePlugin.WebPImageFile if fmt == "webp" else AvifImagePlugin.AvifImageFile
        return quality.luma(colour.flatten(image_class(io.BytesIO(data)).convert("RGBA")))

    return decode_luma


def _rounded(score: float | None) -> float | None:
    return None if score is None else round(score, 5)
