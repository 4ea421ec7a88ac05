"""The public operations: probe, compress, derive and process (bytes in, records out, no side effects)."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import TypeVar

import numpy as np
from PIL import Image

from lambdas.imaging import colour, metadata, phash, quality
from lambdas.imaging.decode import DECODER_ERRORS, Opened, decode, open_image
from lambdas.imaging.encode import MIME, encode
from lambdas.imaging.errors import Corrupt, ImagingError
from lambdas.imaging.options import ImagingOptions
from lambdas.imaging.records import ImageInfo, ImageReport, ProcessResult, Rendition
from lambdas.imaging.resize import draft_request, fit, labelable
from lambdas.renditions import thumbnail_name

DERIVED_QUALITY = 82
"""Quality of the thumbnails and of the analysis JPEG: fixed, since targeting small images saves little."""

OPTIMIZE_MAX_PIXELS = 24_000_000
"""Largest image whose JPEG may get optimised Huffman tables. libjpeg then buffers every DCT
coefficient (3 bytes per pixel), which above this size would push a 50 MP image past 400 MB."""

OPTIMIZE_MIN_GAIN = 0.92
"""Optimised Huffman tables cost about 2x the full-size encode CPU; they save 2-5% on most photos but
15-45% on smooth ones (measured on the benchmark corpus). They are used when the sample shrinks to at
most this fraction of its plain size."""

KEEP_MARGIN = 1.1
"""When the sample predicts a re-encode at least this much larger than the original, the original is
kept without encoding the full image (a wrong prediction only forgoes a small saving)."""

# Formats whose original bytes may stand in for the compressed rendition: shown by every browser.
_KEEPABLE = frozenset({"jpeg", "png", "webp", "avif"})
# Chunk names that carry metadata in WebP / AVIF files; originals holding any are not kept.
_METADATA_MARKERS = (b"EXIF", b"XMP ", b"Exif", b"mime")


_T = TypeVar("_T")


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


def _guarded(call: Callable[[], _T]) -> _T:
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
        image = decode(opened, options, draft_size=_draft_size(opened, options, want_compressed, want_derived))
    with timer.stage("colour"):
        # Each image is released once converted: no more than two full-size copies are alive at once.
        display = colour.to_display(image, consume=True)
    del image
    renditions: list[Rendition] = []
    perceptual_hash = None
    if want_compressed:
        renditions.append(_compressed(display, opened, options, timer))
    if want_derived:
        derived, perceptual_hash = _derived(display, options, timer)
        renditions.extend(derived)
    report = ImageReport(
        input_format=info.format,
        input_mime=info.mime,
        input_width=info.width,
        input_height=info.height,
        input_bytes=len(opened.data),
        orientation=info.orientation,
        animated=info.animated,
        renditions=tuple(r.info() for r in renditions),
        timings_ms=timer.stages,
    )
    exif = metadata.exif_summary(_source_exif(opened)) if want_compressed else {}
    return ProcessResult(info, tuple(renditions), report, exif, phash=perceptual_hash)


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
    sample = quality.sample(image)
    # Huffman optimisation changes bytes, not pixels: the SSIM search encodes without it.
    plain_encode = partial(_sample_encode, fmt=fmt, optimize=False)
    with timer.stage("quality"):
        if options.fixed_quality is not None:
            choice = quality.measure(sample, options.fixed_quality, plain_encode)
        else:
            assert options.target_ssim is not None
            choice = quality.choose_quality(sample, options.target_ssim, plain_encode, _luma_decoder(fmt))
        optimize = progressive = False
        if fmt == "jpeg" and image.width * image.height <= OPTIMIZE_MAX_PIXELS:
            progressive = options.jpeg_progressive
            optimized = quality.measure(
                sample, choice.quality, partial(_sample_encode, fmt=fmt, optimize=True, progressive=progressive)
            )
            if (
                progressive
                or options.jpeg_optimize == "always"
                or (optimized.sample_bytes <= OPTIMIZE_MIN_GAIN * choice.sample_bytes)
            ):
                optimize = True
                choice = quality.Choice(choice.quality, choice.ssim, optimized.sample_bytes, optimized.sample_pixels)
    predicted = choice.predicted_bytes(image.width * image.height)
    if predicted >= KEEP_MARGIN * len(opened.data):
        # Re-encoding is bound to come out larger: keep the original without paying for the encode.
        with timer.stage("keep_original"):
            kept = _kept_original_rendition(opened, options)
        if kept is not None:
            return kept
    with timer.stage("encode.compressed"):
        data = encode(image, fmt, choice.quality, exif=exif, optimize=optimize, progressive=progressive)
    if len(data) >= len(opened.data):
        with timer.stage("keep_original"):
            kept = _kept_original_rendition(opened, options)
        if kept is not None and len(kept.data) < len(data):
            return kept
    score = None if choice.ssim is None else round(choice.ssim, 5)
    return Rendition(
        name="compressed",
        data=data,
        format=fmt,
        mime=MIME[fmt],
        width=image.width,
        height=image.height,
        quality=choice.quality,
        ssim=score,
    )


def _sample_encode(image: Image.Image, quality: int, *, fmt: str, optimize: bool, progressive: bool = False) -> bytes:
    return encode(image, fmt, quality, optimize=optimize, progressive=progressive)


def _kept_original_rendition(opened: Opened, options: ImagingOptions) -> Rendition | None:
    kept = _kept_original(opened, options)
    if kept is None:
        return None
    info = opened.info
    return Rendition(
        name="compressed",
        data=kept,
        format=info.format,
        mime=info.mime,
        width=info.width,
        height=info.height,
        kept_original=True,
    )


def _derived(display: Image.Image, options: ImagingOptions, timer: _Timer) -> tuple[list[Rendition], str]:
    """Thumbnails and the analysis JPEG, each scaled from the smallest larger image already made, and the
    perceptual hash of the smallest of them that is large enough (``phash.MIN_SOURCE_SIDE``)."""
    alpha = colour.has_alpha(display)
    edges = sorted({*options.thumbnail_sizes, options.analysis_edge}, reverse=True)
    scaled: dict[int, Image.Image] = {}
    source = display
    with timer.stage("resize.derived"):
        for edge in edges:
            scaled[edge] = source = fit(source, edge)
    with timer.stage("phash"):
        # From pixels already decoded and scaled: the hash costs no decode and a resize of a small image.
        perceptual_hash = phash.perceptual_hash(phash.source([*scaled.values()], display))
    renditions: list[Rendition] = []
    jpeg_by_edge: dict[int, bytes] = {}
    with timer.stage("encode.derived"):
        for size in options.thumbnail_sizes:
            image = scaled[size]
            fmt = "webp" if alpha else "jpeg"
            data = encode(image, fmt, DERIVED_QUALITY)
            if fmt == "jpeg":
                jpeg_by_edge[size] = data
            renditions.append(_derived_rendition(thumbnail_name(size), data, fmt, image))
        flat = colour.flatten(scaled[options.analysis_edge])
        # Tiny images and thin panoramas are enlarged or padded to what the labelers accept.
        image = labelable(flat, max_edge=options.analysis_edge)
        # Unchanged, the analysis JPEG has the pixels of the thumbnail of the same edge: reuse its bytes.
        reused = jpeg_by_edge.get(options.analysis_edge) if image is flat else None
        data = reused or encode(image, "jpeg", DERIVED_QUALITY)
        same_as = thumbnail_name(options.analysis_edge) if reused else None
        renditions.append(_derived_rendition("analysis", data, "jpeg", image, same_as=same_as))
    return renditions, perceptual_hash


def _derived_rendition(
    name: str, data: bytes, fmt: str, image: Image.Image, *, same_as: str | None = None
) -> Rendition:
    width, height = image.size
    return Rendition(
        name=name,
        data=data,
        format=fmt,
        mime=MIME[fmt],
        width=width,
        height=height,
        quality=DERIVED_QUALITY,
        same_as=same_as,
    )


def _source_exif(opened: Opened) -> Image.Exif:
    return opened.exif if opened.exif is not None else Image.Exif()


def _kept_original(opened: Opened, options: ImagingOptions) -> bytes | None:
    """The original's bytes as the compressed rendition, if they can be served without leaking metadata."""
    info = opened.info
    if info.format not in _KEEPABLE or info.animated or opened.stored_mode == "CMYK":
        return None
    if info.format == "jpeg":
        exif = metadata.kept_exif(_source_exif(opened), options.keep_metadata, orientation=info.orientation)
        return metadata.strip_jpeg(opened.data, exif)
    if info.orientation != 1:
        return None
    if info.format == "png":
        return metadata.strip_png(opened.data)
    if any(marker in opened.data for marker in _METADATA_MARKERS):
        return None  # WebP / AVIF metadata is not rewritten: such originals are re-encoded instead
    return opened.data


def _luma_decoder(fmt: str) -> Callable[[bytes], np.ndarray]:
    if fmt == "jpeg":
        return quality.jpeg_luma

    def decode_luma(data: bytes) -> np.ndarray:
        from PIL import AvifImagePlugin, WebPImagePlugin

        image_class = WebPImagePlugin.WebPImageFile if fmt == "webp" else AvifImagePlugin.AvifImageFile
        return quality.luma(colour.flatten(image_class(io.BytesIO(data)).convert("RGBA")))

    return decode_luma
