"""Request and response bodies of the API (they make the OpenAPI document)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue, create_model

from lambdas.api.naming import FILENAME_PATTERN
from lambdas.api.services import DEFAULT_CONTENT_TYPES
from lambdas.domain.albums import MAX_ALBUM_NAME_CHARS
from lambdas.domain.records import MAX_TAG_CHARS, MAX_USER_TAGS
from lambdas.renditions import RenditionInfo, shown_fields

SHA256_PATTERN = r"^[0-9a-fA-F]{64}$"
#: Most images one batch request acts on.
MAX_BATCH_IMAGES = 100
#: Longest image id a body may name (ids are at most 128 characters).
MAX_IMAGE_ID_CHARS = 128
#: Longest album id a body may name (``al_`` and at most 32 hex digits).
MAX_ALBUM_ID_CHARS = 35

Tag = Annotated[str, Field(min_length=1, max_length=MAX_TAG_CHARS)]
ImageId = Annotated[str, Field(min_length=1, max_length=MAX_IMAGE_ID_CHARS)]
AlbumId = Annotated[str, Field(min_length=1, max_length=MAX_ALBUM_ID_CHARS)]


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
    categories: list[str] = Field(description="Its categories as corrected by its owner's tags and removed labels.")
    tags: list[str] = Field(
        description="What it is listed and searched under as labels: the kept labels and their parents, then "
        "the owner's own tags (and the parents of those naming a known label)."
    )
    labels: list[LabelOut] = Field(description="The model's labels the owner did not remove, most confident first.")
    failure: FailureOut | None
    favorite: bool = Field(description="The owner marked it as a favorite.")
    user_tags: list[str] = Field(description="The owner's own tags, as typed (they are in `tags` too).")
    removed_labels: list[str] = Field(description="Model labels the owner removed as wrong (normalized names).")
    albums: list[str] = Field(description="Ids of the owner's albums the image is in.")
    duplicate_group: str | None = Field(
        description="The near-duplicate group the image is in (the id of its first image); null while none is known."
    )
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


class DuplicateGroupOut(BaseModel):
    group_id: str = Field(description="The id of the group's first image.")
    images: list[ImageOut] = Field(description="The group's live images, newest first (at most 50).")


class DuplicatePage(BaseModel):
    groups: list[DuplicateGroupOut]
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


class SignInOut(BaseModel):
    """Where the web page signs its users in: the managed login of the deployment's user pool."""

    login_url: str = Field(description="Base URL of the managed login (/oauth2/authorize, /oauth2/token, /logout)")
    client_id: str = Field(description="The page's public app client (no secret; PKCE)")
    scopes: list[str] = Field(description="OAuth scopes to ask for")
    api_key_required: bool = Field(description="Whether data calls need an x-api-key header besides the token")


# --- the owner's organizing: edits, albums, batches -----------------------------------------------------
class ImageEdit(BaseModel):
    """The owner's edit of one image; at least one field. A removal applies after the additions."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})

    favorite: bool | None = Field(default=None, description="Mark (true) or unmark (false) it as a favorite.")
    add_tags: list[Tag] = Field(
        default_factory=list,
        max_length=MAX_USER_TAGS,
        description="Tags to add: an own tag, or a model label the owner had removed, restored.",
    )
    remove_tags: list[Tag] = Field(
        default_factory=list,
        max_length=MAX_USER_TAGS,
        description="Tags to remove: an own tag, or a model label (or parent) marked as wrong.",
    )


class AlbumCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=MAX_ALBUM_NAME_CHARS, description="Names need not be unique.")


class AlbumEdit(BaseModel):
    """A rename, a chosen cover, or both; at least one field."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})

    name: str | None = Field(default=None, min_length=1, max_length=MAX_ALBUM_NAME_CHARS)
    cover_image_id: ImageId | None = Field(
        default=None,
        description="An image of the album to show for it; null shows its newest image again.",
    )


class AlbumOut(BaseModel):
    """One album as its owner sees it."""

    album_id: str
    name: str
    count: int = Field(description="Its live images (any state but deleted).")
    cover_image_id: str | None = Field(
        description="The cover the owner chose or, if none (or it left the album), the newest image; null when empty."
    )
    cover_url: str | None = Field(
        description="Short-lived URL of the cover's smallest thumbnail (its `thumbnail_url`); null without one."
    )
    created_at: datetime
    updated_at: datetime


class AlbumList(BaseModel):
    items: list[AlbumOut] = Field(description="Every album of the owner, by name.")


class BatchAction(StrEnum):
    """What a batch does to each image."""

    DELETE = "delete"
    FAVORITE = "favorite"
    UNFAVORITE = "unfavorite"
    ADD_TAGS = "add_tags"
    REMOVE_TAGS = "remove_tags"
    ADD_TO_ALBUM = "add_to_album"
    REMOVE_FROM_ALBUM = "remove_from_album"


#: The actions that take ``tags``, and those that take ``album_id``.
TAG_ACTIONS = frozenset({BatchAction.ADD_TAGS, BatchAction.REMOVE_TAGS})
ALBUM_ACTIONS = frozenset({BatchAction.ADD_TO_ALBUM, BatchAction.REMOVE_FROM_ALBUM})
#: The statuses of one image's result.
BATCH_STATUSES = (200, 204, 404, 409, 422)


class BatchRequest(BaseModel):
    """One action on many of the owner's images."""

    model_config = ConfigDict(extra="forbid")

    image_ids: list[ImageId] = Field(
        min_length=1,
        max_length=MAX_BATCH_IMAGES,
        json_schema_extra={"uniqueItems": True},
        description=f"1..{MAX_BATCH_IMAGES} distinct image ids.",
    )
    action: BatchAction
    tags: list[Tag] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_USER_TAGS,
        description="The tags of `add_tags` and `remove_tags` (required there, refused elsewhere).",
    )
    album_id: AlbumId | None = Field(
        default=None,
        description="The album of `add_to_album` and `remove_from_album` (required there, refused elsewhere).",
    )


class BatchResult(BaseModel):
    """What became of one image of a batch."""

    image_id: str
    status: int = Field(
        description="200: changed (or already so), `image` shows it; 204: deleted; else the problem, by `code`.",
        json_schema_extra={"enum": list[JsonValue](BATCH_STATUSES)},
    )
    code: str | None = Field(default=None, description="The problem's stable code (`Image.NotFound`...).")
    message: str | None = Field(default=None, description="The problem's detail.")
    image: ImageOut | None = None


class BatchResponse(BaseModel):
    results: list[BatchResult] = Field(description="One per image id, in the order of the request.")
