"""What the image core returns: plain frozen records, the report JSON-able."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ImageInfo:
    """What the header says about an input image.

    ``width`` and ``height`` are the displayed size, after the EXIF orientation is applied; ``orientation``
    is the EXIF orientation (1-8, 1 when absent or invalid); ``animated`` is True for an input with more
    than one frame (only the first frame is used).
    """

    format: str
    mime: str
    width: int
    height: int
    orientation: int
    animated: bool


@dataclass(frozen=True)
class Rendition:
    """One output image.

    ``name`` is ``"compressed"``, ``"thumb-<size>"`` or ``"analysis"``. ``quality`` is the encoder quality
    used (None when the bytes were kept). ``ssim`` is the SSIM on luma reached by the compressed rendition,
    measured on full-resolution tiles sampled over the image (None when not targeted).
    ``kept_original`` is True when the compressed rendition is the original's bytes (with private
    metadata removed for JPEG) because re-encoding them came out larger. ``same_as`` names the rendition
    whose bytes these are (the analysis JPEG when it has the pixels of the thumbnail of its edge): they
    are stored once, under that rendition's key.
    """

    name: str
    data: bytes
    format: str
    mime: str
    width: int
    height: int
    quality: int | None
    ssim: float | None
    kept_original: bool = False
    same_as: str | None = None

    def __repr__(self) -> str:
        return (
            f"Rendition(name={self.name!r}, format={self.format!r}, size={self.width}x{self.height}, "
            f"bytes={len(self.data)}, quality={self.quality}, ssim={self.ssim}, "
            f"kept_original={self.kept_original})"
        )


@dataclass(frozen=True)
class RenditionReport:
    """The report line of one rendition: its bytes, not its data."""

    name: str
    format: str
    mime: str
    width: int
    height: int
    bytes: int
    quality: int | None
    ssim: float | None
    kept_original: bool

    @classmethod
    def of(cls, rendition: Rendition) -> RenditionReport:
        return cls(
            name=rendition.name,
            format=rendition.format,
            mime=rendition.mime,
            width=rendition.width,
            height=rendition.height,
            bytes=len(rendition.data),
            quality=rendition.quality,
            ssim=rendition.ssim,
            kept_original=rendition.kept_original,
        )


@dataclass(frozen=True)
class ImageReport:
    """What was done to one image: input, orientation applied, every rendition, milliseconds per stage."""

    input_format: str
    input_mime: str
    input_width: int
    input_height: int
    input_bytes: int
    orientation: int
    animated: bool
    renditions: tuple[RenditionReport, ...]
    timings_ms: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON types (str, int, float, bool, None, list, dict)."""
        return {
            "input": {
                "format": self.input_format,
                "mime": self.input_mime,
                "width": self.input_width,
                "height": self.input_height,
                "bytes": self.input_bytes,
                "animated": self.animated,
            },
            "orientation": self.orientation,
            "renditions": {
                r.name: {
                    "format": r.format,
                    "mime": r.mime,
                    "width": r.width,
                    "height": r.height,
                    "bytes": r.bytes,
                    "quality": r.quality,
                    "ssim": r.ssim,
                    "kept_original": r.kept_original,
                }
                for r in self.renditions
            },
            "timings_ms": {stage: round(ms, 3) for stage, ms in self.timings_ms.items()},
        }


@dataclass(frozen=True)
class ProcessResult:
    """The outcome of ``compress``, ``derive`` or ``process``."""

    info: ImageInfo
    renditions: tuple[Rendition, ...]
    report: ImageReport

    def rendition(self, name: str) -> Rendition:
        """The rendition called ``name``; ``KeyError`` when this result has none of that name."""
        for rendition in self.renditions:
            if rendition.name == name:
                return rendition
        raise KeyError(f"no rendition named {name!r}; have {[r.name for r in self.renditions]}")
