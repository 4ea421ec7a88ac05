"""What the image core returns: plain frozen records, the report JSON-able."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lambdas.renditions import RenditionInfo


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


@dataclass(frozen=True, slots=True, kw_only=True)
class Rendition(RenditionInfo):
    """One output image: its description (``RenditionInfo``; ``size`` is the length of ``data``, never
    passed) and its bytes.

    ``same_as`` names the rendition whose bytes these are (the analysis JPEG when it has the pixels of the
    thumbnail of its edge): they are stored once, under that rendition's key.
    """

    data: bytes = field(repr=False)
    same_as: str | None = None
    size: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "size", len(self.data))


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
    renditions: tuple[RenditionInfo, ...]
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
            "renditions": {r.name: {k: v for k, v in r.shown().items() if k != "name"} for r in self.renditions},
            "timings_ms": {stage: round(ms, 3) for stage, ms in self.timings_ms.items()},
        }


@dataclass(frozen=True)
class ProcessResult:
    """The outcome of ``compress``, ``derive`` or ``process``."""

    info: ImageInfo
    renditions: tuple[Rendition, ...]
    report: ImageReport
    exif: dict[str, str | int | float] = field(default_factory=dict)
    """Capture time, camera, lens and exposure of the input (``metadata.exif_summary``), read from the
    header already parsed for the decode; filled by ``compress`` and ``process`` (the original's), empty
    from ``derive`` (its input may be the compressed rendition)."""
    phash: str | None = None
    """Perceptual hash of the image (``phash.perceptual_hash``: 16 hexadecimal digits), computed from the
    pixels the thumbnails are scaled from; set by ``derive`` and ``process``, None from ``compress``."""

    def rendition(self, name: str) -> Rendition:
        """The rendition called ``name``; ``KeyError`` when this result has none of that name."""
        for rendition in self.renditions:
            if rendition.name == name:
                return rendition
        raise KeyError(f"no rendition named {name!r}; have {[r.name for r in self.renditions]}")
