"""Records as the API shows them: owner-facing fields and short-lived URLs, nothing internal."""

from __future__ import annotations

from lambdas.api.models import AlbumOut, ExifOut, FailureOut, ImageOut, LabelOut, RenditionOut, ThumbnailOut
from lambdas.api.services import ApiServices
from lambdas.domain.albums import Album
from lambdas.domain.records import ImageRecord, StoredRendition

#: What a gallery shows when an image has no thumbnail (yet), in order of preference.
_GALLERY_FALLBACKS = ("analysis", "compressed")


def gallery_rendition(record: ImageRecord) -> StoredRendition | None:
    """The rendition a gallery shows: the smallest thumbnail, whatever sizes are configured; else the
    analysis or the compressed rendition; None before any exists."""
    thumbnails = [r for r in record.renditions if r.is_thumbnail]
    if thumbnails:
        return min(thumbnails, key=lambda r: max(r.width, r.height))
    return next((r for name in _GALLERY_FALLBACKS if (r := record.rendition(name)) is not None), None)


def _gallery_url(record: ImageRecord, services: ApiServices, base_url: str) -> str | None:
    rendition = gallery_rendition(record)
    if rendition is None:
        return None
    return services.presigner.presign_get(
        rendition.key, expires_in=services.limits.url_expiry_seconds, base_url=base_url
    )


def image_out(record: ImageRecord, services: ApiServices, base_url: str, *, detail: bool = False) -> ImageOut:
    """``record`` for its owner, as the owner corrected it (labels, tags and categories); ``detail`` adds
    every rendition and the original, each with a URL."""
    expires_in = services.limits.url_expiry_seconds
    presign = services.presigner.presign_get
    renditions = None
    original_url = None
    if detail:
        renditions = [
            RenditionOut.of(
                r,
                saving=None if not record.size else round(1 - r.size / record.size, 4),
                url=presign(r.key, expires_in=expires_in, base_url=base_url),
            )
            for r in record.renditions
        ]
        if record.size is not None and record.original_removed_at is None:
            original_url = presign(record.original_key, expires_in=expires_in, base_url=base_url)
    failure = record.failure
    thumbnails = sorted((r for r in record.renditions if r.is_thumbnail), key=lambda r: r.width)
    return ImageOut(
        id=record.image_id,
        filename=str(record.extra.get("original_filename") or record.filename),
        status=record.state.value,
        created_at=record.created_at,
        updated_at=record.updated_at,
        content_type=record.sniffed_mime or record.declared_mime,
        size=record.size if record.size is not None else record.declared_bytes,
        sha256=record.sha256 or record.declared_sha256,
        width=record.width,
        height=record.height,
        format=record.sniffed_format,
        categories=list(record.effective_categories()),
        tags=list(record.effective_tags()),
        labels=[
            LabelOut(
                name=label.name,
                confidence=label.confidence,
                parents=list(label.parents),
                categories=list(label.categories),
            )
            for label in record.shown_labels()
        ],
        failure=None
        if failure is None
        else FailureOut(
            code=failure.code,
            message=failure.message,
            step=failure.step,
            retryable=failure.pending,
            parked=failure.parked,
        ),
        favorite=record.favorite,
        user_tags=list(record.user_tags),
        removed_labels=list(record.removed_labels),
        albums=list(record.albums),
        duplicate_group=record.duplicate_group,
        thumbnail_url=_gallery_url(record, services, base_url),
        thumbnails=[
            ThumbnailOut(
                name=r.name,
                width=r.width,
                height=r.height,
                url=presign(r.key, expires_in=expires_in, base_url=base_url),
            )
            for r in thumbnails
        ],
        renditions=renditions,
        exif=ExifOut.model_validate(record.exif) if detail and record.exif else None,
        original_url=original_url,
        original_expires_at=None if record.original_removed_at is not None else record.original_expires_at,
        original_removed_at=record.original_removed_at,
    )


def album_out(album: Album, cover: ImageRecord | None, services: ApiServices, base_url: str) -> AlbumOut:
    """``album`` for its owner with ``cover``, the image shown for it (``None``: it is empty)."""
    return AlbumOut(
        album_id=album.album_id,
        name=album.name,
        count=album.count,
        cover_image_id=None if cover is None else cover.image_id,
        cover_url=None if cover is None else _gallery_url(cover, services, base_url),
        created_at=album.created_at,
        updated_at=album.updated_at,
    )
