"""Request and response bodies of the API (they make the OpenAPI document)."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue, create_model

from lambdas.api.naming import FILENAME_PATTERN
from lambdas.api.services import DEFAULT_CONTENT_TYPES
from lambdas.renditions import RenditionInfo, shown_fields

SHA256_PATTERN = r"^[0-9a-fA-F]{64}$"


class UploadRequest(BaseModel):
    """What a client declares before it uploads an original."""

    model_config = ConfigDict(extra="forbid")

    filename: str = Field(
        min_length=1, max_length=255, pattern=FILENAME_PATTERN, description="The file's name, as the user knows it."
    )
    content_type: str = Field(
        min_length=1,
        max_length=100,
        description="Declared media type; a deployment may allow fewer than these.",
        json_schema_extra={"enum": list[JsonValue](sorted(DEFAULT_CONTENT_TYPES))},
    )
    size: int = Field(ge=1, description="Size of the file in bytes.")
    sha256: str = Field(pattern=SHA256_PATTERN, description="SHA-256 of the file's bytes, hex.")


class UploadTarget(BaseModel):
    """A presigned POST: send ``fields`` and then the file (form field ``file``) to ``url``."""

    url: str
    fields: dict[str, str]
    expires_at: datetime
    max_bytes: int


class LabelOut(BaseModel):
    name: str
    confidence: float
    parents: list[str]
    categories: list[str]


def _rendition_fields() -> dict[str, Any]:
    """The rendition description (``lambdas.renditions``) as required fields: the API states every one."""
    return {name: (hint, ...) for name, hint in shown_fields().items()}


if TYPE_CHECKING:
    # mypy cannot follow a model made by ``create_model``: it sees the plain base (the fields are runtime's).
    _RenditionDescription = BaseModel
else:
    _RenditionDescription = create_model("RenditionDescription", **_rendition_fields())


class RenditionOut(_RenditionDescription):
    saving: float | None = Field(description="Share of the original's bytes saved (0.25 = 25 % smaller).")
    url: str = Field(description="Short-lived URL of the rendition's bytes.")

    @classmethod
    def of(cls, rendition: RenditionInfo, *, saving: float | None, url: str) -> RenditionOut:
        """``rendition``'s description as the API shows it, with its saving and URL."""
        return cls(**rendition.shown(), saving=saving, url=url)


class ThumbnailOut(BaseModel):
    """One thumbnail of a listed image, for a ``srcset``: pick by ``width``, never by name."""

    name: str = Field(description="`thumb-<size>`, after its longest edge.")
    width: int
    height: int
    url: str = Field(description="Short-lived URL of the thumbnail's bytes.")


def _absent(value: object) -> bool:
    return value is None


class ExifOut(BaseModel):
    """What the camera recorded, read from the original (owner-facing; GPS and serial numbers are never
    read). A value the original did not carry is absent."""

    model_config = ConfigDict(extra="ignore")

    taken_at: str | None = Field(
        default=None,
        exclude_if=_absent,
        description="Capture time as the camera wrote it (ISO 8601 local time; with its UTC offset when recorded).",
    )
    make: str | None = Field(default=None, exclude_if=_absent, description="Camera maker.")
    model: str | None = Field(default=None, exclude_if=_absent, description="Camera model.")
    lens_make: str | None = Field(default=None, exclude_if=_absent, description="Lens maker.")
    lens: str | None = Field(default=None, exclude_if=_absent, description="Lens model.")
    exposure_time: float | None = Field(
        default=None, exclude_if=_absent, description="Shutter time in seconds (0.004 = 1/250 s)."
    )
    f_number: float | None = Field(default=None, exclude_if=_absent, description="Aperture (f-number).")
    iso: int | None = Field(default=None, exclude_if=_absent, description="ISO speed.")
    focal_length: float | None = Field(default=None, exclude_if=_absent, description="Focal length in mm.")
    focal_length_35mm: int | None = Field(
        default=None, exclude_if=_absent, description="35 mm equivalent focal length in mm."
    )


class FailureOut(BaseModel):
    code: str
    message: str
    step: str
    retryable: bool
    """Whether the pipeline is still retrying the step (false once it is parked or the failure is final)."""
    parked: bool = False
    """The retries are exhausted: the step waits in the dead-letter queue for an operator's redrive."""


class ImageOut(BaseModel):
    """One image as its owner sees it."""

    id: str
    filename: str
    status: str
    created_at: datetime
    updated_at: datetime
    content_type: str | None
    size: int | None
    sha256: str | None
    width: int | None
    height: int | None
    format: str | None
    categories: list[str]
    tags: list[str]
    labels: list[LabelOut]
    failure: FailureOut | None
    thumbnail_url: str | None = Field(description="Short-lived URL of the smallest thumbnail, once there is one.")
    thumbnails: list[ThumbnailOut] = Field(
        default_factory=list,
        description="Every thumbnail with its size and URL, smallest first (for a `srcset`); empty before any.",
    )
    renditions: list[RenditionOut] | None = Field(
        default=None, description="Every rendition with its URL (only when one image is asked for)."
    )
    exif: ExifOut | None = Field(
        default=None,
        description="Capture time, camera, lens and exposure from the original (detail only; null when none).",
    )
    original_url: str | None = None
    """Download link of the original while it is stored (detail only)."""
    original_expires_at: datetime | None = None
    """When the originals policy removes the original (its compressed rendition stays the best copy)."""
    original_removed_at: datetime | None = None
    """When the originals policy removed the original; ``original_url`` is then absent."""


class UploadResponse(BaseModel):
    """The image and, unless it is an exact duplicate of one the owner has, where to upload it."""

    image: ImageOut
    duplicate: bool
    upload: UploadTarget | None
    retry: str | None = Field(
        default=None,
        description=(
            "When `duplicate` is an image that failed and can be retried: the path, relative to the API's base "
            "URL, to POST to run its processing again (`v1/images/{id}/retry`). Null otherwise; a failed "
            "duplicate without it cannot be retried here (its original is gone, or the deployment retries "
            "only through a redrive): delete it, then upload the file again."
        ),
    )


class ImagePage(BaseModel):
    items: list[ImageOut]
    next_cursor: str | None = Field(description="Pass back as ``cursor`` for the next page; null at the end.")


class CategoryCount(BaseModel):
    name: str
    count: int


class CategoryCounts(BaseModel):
    categories: list[CategoryCount]


class Stats(BaseModel):
    images: int
    bytes_stored: int
    bytes_saved: int


class FigureOut(BaseModel):
    description: str = Field(description="What the figure counts (its saved query's description).")
    columns: list[str]
    rows: list[dict[str, str | int | float | None]] = Field(description="One object per row, keyed by column.")


class AnalyticsOut(BaseModel):
    from_: date = Field(alias="from", serialization_alias="from", description="First UTC day, included.")
    to: date = Field(description="Last UTC day, included.")
    figures: dict[str, FigureOut] = Field(description="The figures by saved query name, in their order.")


class Health(BaseModel):
    status: str
