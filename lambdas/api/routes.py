"""The ``/v1`` routes. Every route but health takes the owner from the host's ``Authenticator``."""

from __future__ import annotations

import contextlib
import json
import re
import uuid
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, Security
from fastapi.security import APIKeyHeader

from lambdas.analytics.figures import Period
from lambdas.analytics.queries import NAMES as FIGURE_NAMES
from lambdas.api.cursor import CursorSigner
from lambdas.api.errors import COMMON_RESPONSES, ApiError, problem_response
from lambdas.api.models import (
    MAX_ALBUM_ID_CHARS,
    AnalyticsOut,
    CategoryCount,
    CategoryCounts,
    Health,
    ImageOut,
    ImagePage,
    SignInOut,
    Stats,
    UploadRequest,
    UploadResponse,
    UploadTarget,
)
from lambdas.api.naming import display_name, key_segment
from lambdas.api.services import ApiServices
from lambdas.api.views import image_out
from lambdas.contract import SIGN_IN_SCOPES
from lambdas.domain.albums import Album, is_album_id
from lambdas.domain.errors import ContentExistsError, ImgMgrError, StaleRecordError
from lambdas.domain.events import AnalyticsEvent, EventType
from lambdas.domain.queries import MAX_PAGE_SIZE, MAX_SEARCH_CHARS, MAX_SEARCH_WORDS, ImageQuery, search_words
from lambdas.domain.records import ImageRecord, new_record, timestamp
from lambdas.domain.states import ImageState
from lambdas.domain.synonyms import canonical_words

IMAGE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@=+-]{0,127}$"
#: An abandoned upload's record expires (TTL) after this long.
ABANDONED_UPLOAD_TTL = timedelta(days=1)
#: Rounds of look-up and create when the image holding the declared hash keeps being deleted meanwhile.
_DECLARE_ATTEMPTS = 3

_api_key = APIKeyHeader(name="x-api-key", auto_error=False, description="Your API key.")


def services_of(request: Request) -> ApiServices:
    return request.app.state.services


def current_owner(request: Request, _key: Annotated[str | None, Security(_api_key)] = None) -> str:
    """The authenticated owner (the header is declared here so that OpenAPI shows the scheme)."""
    return services_of(request).authenticator.owner(request)


Owner = Annotated[str, Depends(current_owner)]
Services = Annotated[ApiServices, Depends(services_of)]

router = APIRouter(prefix="/v1")
_not_found: dict[int | str, dict[str, Any]] = {404: problem_response("No such image for this key")}


#: Short names of the accepted content types, for people (``image/heif`` is HEIC to them).
TYPE_NAMES = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WebP",
    "image/gif": "GIF",
    "image/tiff": "TIFF",
    "image/bmp": "BMP",
    "image/heic": "HEIC",
    "image/heif": "HEIC",
    "image/avif": "AVIF",
}


def type_names(content_types: frozenset[str]) -> str:
    """``JPEG, PNG, ...`` for the allowed types, in the usual order, each name once."""
    known = [name for mime, name in TYPE_NAMES.items() if mime in content_types]
    others = sorted(content_types - TYPE_NAMES.keys())
    return ", ".join(dict.fromkeys([*known, *others]))


#: The start of an ISO 8601 date-time (RFC 3339): a date, then a time.
_ISO_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _base_url(request: Request) -> str:
    return str(request.base_url)


def _event(services: ApiServices, kind: EventType, owner: str, **fields: object) -> None:
    services.events.emit(
        AnalyticsEvent(
            event_id=uuid.uuid4().hex,
            event_type=kind,
            occurred_at=services.clock.now(),
            owner=owner,
            **fields,  # type: ignore[arg-type]
        )
    )


def _owned(services: ApiServices, owner: str, image_id: str, *, deleted_ok: bool = False) -> ImageRecord:
    record = services.metadata.get(image_id)
    if record is None or record.owner != owner or (record.state is ImageState.DELETED and not deleted_ok):
        # Another owner's image is answered exactly like a missing one: nothing leaks.
        raise ApiError(404, "Image.NotFound", f"no image {image_id!r} for this key")
    return record


def owned_album(services: ApiServices, owner: str, album_id: str) -> Album:
    """The owner's album ``album_id``; ``ApiError`` 404 ``Album.NotFound`` otherwise (another owner's too)."""
    album = services.metadata.get_album(album_id) if is_album_id(album_id) else None
    if album is None or album.owner != owner:
        raise ApiError(404, "Album.NotFound", f"no album {album_id!r} for this key")
    return album


def _arrived(services: ApiServices, record: ImageRecord) -> bool:
    """Whether the original of a record still awaiting its upload is in the store (waiting for the pipeline).

    Best effort: without ``s3:ListBucket`` S3 answers a missing object with 403, which says nothing.
    """
    try:
        return services.objects.head(record.original_key) is not None
    except ImgMgrError:
        return False


def _original_stored(services: ApiServices, record: ImageRecord) -> bool:
    """Whether the original is still in the store (not removed by the originals policy nor a failed step)."""
    if record.original_removed_at is not None:
        return False
    try:
        return services.objects.head(record.original_key) is not None
    except ImgMgrError:
        return False


def _retryable(services: ApiServices, record: ImageRecord) -> bool:
    """Whether the retry route would run the failed image again (not merely answer it)."""
    return (
        record.state is ImageState.FAILED
        and services.retrier is not None
        and record.failure is not None
        and not record.failure.pending
        and _original_stored(services, record)
    )


def _create_or_find(services: ApiServices, declared: ImageRecord) -> tuple[ImageRecord, bool]:
    """The owner's live record with the declared hash and ``False``, or ``declared`` created and ``True``.

    The store keeps ``(owner, hash)`` unique: of requests declaring the same bytes at once, one creates
    and the others get its record, exactly as if they had come just after it (never an error).
    """
    owner, sha256 = declared.owner, declared.declared_sha256 or ""
    for _attempt in range(_DECLARE_ATTEMPTS):
        existing = services.metadata.find_by_hash(owner, sha256)
        if existing is not None:
            return existing, False
        try:
            return services.metadata.create(declared), True
        except ContentExistsError as taken:
            # Another request created it between the look-up and this write (or the index lagged).
            holder = services.metadata.get(taken.image_id)
        if holder is not None and holder.owner == owner and holder.state is not ImageState.DELETED:
            return holder, False
        # The holder was deleted meanwhile: its hash is free again, look again.
    raise StaleRecordError(f"the image of {owner} with the content {sha256} kept changing")


@router.get("/health", response_model=Health, tags=["meta"])
def health() -> Health:
    """Liveness; needs no key (like the web page and this reference)."""
    return Health(status="ok")


@router.get(
    "/sign-in",
    response_model=SignInOut,
    tags=["meta"],
    responses={404: problem_response("The deployment has no user pool: send an API key")},
)
def sign_in(services: Services) -> SignInOut:
    """Where the web page signs in (the user pool's managed login and the page's app client); needs no
    key and holds no data. Without a user pool it answers 404 ``SignIn.NoUserPool``."""
    config = services.sign_in
    if config is None:
        raise ApiError(404, "SignIn.NoUserPool", "this deployment has no user pool: send an API key")
    return SignInOut(
        login_url=config.login_url,
        client_id=config.client_id,
        scopes=list(SIGN_IN_SCOPES),
        api_key_required=config.api_key_required,
    )


@router.post(
    "/uploads",
    response_model=UploadResponse,
    status_code=201,
    tags=["images"],
    responses={
        **COMMON_RESPONSES,
        200: {
            "model": UploadResponse,
            "description": (
                "An exact duplicate: the existing image, nothing to upload. If that image failed, `retry` "
                "names where to POST to retry it (the same bytes uploaded again would fail the same way)."
            ),
        },
        413: problem_response("Declared size above the limit"),
        415: problem_response("Content type not allowed"),
    },
)
def create_upload(body: UploadRequest, request: Request, response: Response, owner: Owner, services: Services):
    """Declare an original; get a presigned POST for it, or the existing image if it is an exact duplicate."""
    limits = services.limits
    content_type = body.content_type.strip().lower()
    if content_type not in limits.content_types:
        raise ApiError(
            415, "Upload.TypeNotAllowed", f"content_type must be an image: {type_names(limits.content_types)}"
        )
    if body.size > limits.max_upload_bytes:
        raise ApiError(413, "Upload.TooLarge", f"size must be at most {limits.max_upload_bytes} bytes")
    name = display_name(body.filename, max_chars=limits.max_filename_chars)
    sha256 = body.sha256.lower()
    now = services.clock.now()
    base_url = _base_url(request)

    image_id = services.new_id() if services.new_id else uuid.uuid4().hex
    declared = new_record(
        image_id=image_id,
        owner=owner,
        filename=key_segment(name, content_type),
        at=now,
        declared_mime=content_type,
        declared_bytes=body.size,
        declared_sha256=sha256,
        expires_at=now + ABANDONED_UPLOAD_TTL,
    )
    # The "upload" event is the compress step's, once the bytes have arrived.
    record, created = _create_or_find(services, replace(declared, extra={"original_filename": name}))
    if not created and (record.state is not ImageState.AWAITING_UPLOAD or _arrived(services, record)):
        response.status_code = 200
        retry = f"v1/images/{record.image_id}/retry" if _retryable(services, record) else None
        return UploadResponse(image=image_out(record, services, base_url), duplicate=True, upload=None, retry=retry)
    # A new record, or the same bytes declared before that never arrived: a fresh POST for that record.
    post = services.presigner.presign_post(
        record.original_key,
        content_type=record.declared_mime or content_type,
        max_bytes=limits.max_upload_bytes,
        expires_in=limits.upload_expiry_minutes * 60,
        base_url=base_url,
        credential=getattr(request.state, "credential", None),
    )
    target = UploadTarget(
        url=post.url, fields=post.fields, expires_at=post.expires_at, max_bytes=limits.max_upload_bytes
    )
    return UploadResponse(image=image_out(record, services, base_url), duplicate=False, upload=target)


@router.get(
    "/images",
    response_model=ImagePage,
    tags=["images"],
    responses={**COMMON_RESPONSES, 404: problem_response("No such album for this key (album)")},
)
def list_images(
    request: Request,
    owner: Owner,
    services: Services,
    category: Annotated[str | None, Query(max_length=100)] = None,
    label: Annotated[str | None, Query(max_length=100)] = None,
    q: Annotated[
        str | None,
        Query(
            max_length=MAX_SEARCH_CHARS,
            description=(
                'Free text: images matching every word, in a label or its parents ("tabby", "animal"), '
                'a category ("animals" finds "Animals and Pets") or the file name; a synonym of a label '
                'searches the label ("kitty" finds "Cat"); case and plurals ignored, at most '
                f"{MAX_SEARCH_WORDS} words."
            ),
        ),
    ] = None,
    status: ImageState | None = None,
    favorite: Annotated[
        bool | None, Query(description="true: only the favorites (false, like leaving it out, filters nothing).")
    ] = None,
    album: Annotated[
        str | None, Query(max_length=MAX_ALBUM_ID_CHARS, description="Only the images of this album (its id).")
    ] = None,
    uploaded_from: Annotated[datetime | None, Query(alias="from")] = None,
    uploaded_to: Annotated[datetime | None, Query(alias="to")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> ImagePage:
    """The owner's images, newest first, filtered by free text, category, label, album or favorite, status and
    upload time. Category, label, album and favorite exclude each other (each is an index of its own)."""
    chosen = [name for name, value in (("category", category), ("label", label), ("album", album)) if value]
    chosen += ["favorite"] if favorite else []
    if len(chosen) > 1:
        raise ApiError(422, "Query.Invalid", f"{' and '.join(chosen)} cannot be combined: give one of them")
    if album:
        owned_album(services, owner, album)
    if status is ImageState.DELETED:
        raise ApiError(400, "Query.Invalid", "deleted images are not listed")
    words = canonical_words(search_words(q or ""))
    if q and q.strip() and not words:
        raise ApiError(400, "Query.Invalid", "q has no word to search for (words like 'and' or 'the' are not indexed)")
    if len(words) > MAX_SEARCH_WORDS:
        raise ApiError(400, "Query.Invalid", f"q has {len(words)} words; at most {MAX_SEARCH_WORDS}")
    for name, moment in (("from", uploaded_from), ("to", uploaded_to)):
        # The schema says date-time; the validator would also take a number as seconds since 1970.
        if moment is not None and not _ISO_DATE_TIME.match(request.query_params.get(name, "")):
            raise ApiError(400, "Query.Invalid", f"{name} must be a date and time (e.g. 2026-01-31T12:00:00Z)")
        if moment is not None and moment.tzinfo is None:
            raise ApiError(400, "Query.Invalid", f"{name} must carry a timezone (e.g. 2026-01-31T12:00:00Z)")
    scope = json.dumps(
        [
            category,
            label,
            list(words),
            status and status.value,
            album or None,
            bool(favorite),
            uploaded_from and timestamp(uploaded_from),
            uploaded_to and timestamp(uploaded_to),
        ]
    )
    signer = CursorSigner(services.cursor_secret)
    store_cursor = None if cursor is None else signer.open(cursor, owner=owner, scope=scope)
    query = ImageQuery(
        owner=owner,
        category=category or None,
        label=label or None,
        words=words,
        album=album or None,
        favorite=bool(favorite),
        state=status,
        since=uploaded_from,
        until=uploaded_to,
        limit=limit,
        cursor=store_cursor,
    )
    page = services.metadata.query(query)
    base_url = _base_url(request)
    if cursor is None:
        detail: dict[str, str | int | float | bool] = {"limit": limit}
        for name, value in (
            ("category", category),
            ("label", label),
            ("q", " ".join(words)),
            ("status", status and status.value),
            ("album", album),
            ("favorite", bool(favorite)),
        ):
            if value:
                detail[name] = value
        _event(services, EventType.SEARCH, owner, detail=detail)
    return ImagePage(
        items=[image_out(record, services, base_url) for record in page.items],
        next_cursor=None if page.next is None else signer.sign(page.next, owner=owner, scope=scope),
    )


@router.get(
    "/images/{image_id}", response_model=ImageOut, tags=["images"], responses={**COMMON_RESPONSES, **_not_found}
)
def get_image(image_id: str, request: Request, owner: Owner, services: Services) -> ImageOut:
    """One image with short-lived URLs of its original and every rendition."""
    record = _owned(services, owner, image_id)
    _event(services, EventType.VIEW, owner, image_id=image_id)
    return image_out(record, services, _base_url(request), detail=True)


@router.delete("/images/{image_id}", status_code=204, tags=["images"], responses={**COMMON_RESPONSES, **_not_found})
def delete_image(image_id: str, owner: Owner, services: Services) -> Response:
    """Remove the image: original, renditions, record and its share of the counters. Repeating it is safe."""
    purge_image(services, owner, image_id)
    return Response(status_code=204)


def purge_image(services: ApiServices, owner: str, image_id: str) -> None:
    """What ``DELETE /v1/images/{id}`` does (the batch's ``delete`` too): tombstone, objects, event.
    ``ApiError`` 404 when the owner has no such image; an image deleted before is purged again, quietly."""
    record = _owned(services, owner, image_id, deleted_ok=True)
    now = services.clock.now()
    # The tombstone first: a pipeline step still in flight can no longer move the record forward. It names
    # every object to remove, those a step reserved before writing them included (the API never lists the
    # bucket: it has no right to), so a repeated DELETE finishes a purge that an earlier one left undone.
    tombstone = services.metadata.delete(image_id, at=now, retain_seconds=services.limits.deleted_retain_seconds)
    keys = set(record.object_keys())
    if tombstone is not None:
        keys.update(tombstone.object_keys())
    for key in sorted(keys):
        services.objects.delete(key)
    if record.state is not ImageState.DELETED:
        _event(services, EventType.DELETE, owner, image_id=image_id, bytes_out=record.usage().bytes_stored)


@router.post(
    "/images/{image_id}/retry",
    response_model=ImageOut,
    status_code=202,
    tags=["images"],
    responses={
        **COMMON_RESPONSES,
        **_not_found,
        409: problem_response("Not a failed image (Image.NotFailed), or its original is gone (Image.OriginalGone)"),
        501: problem_response("This deployment retries failed steps only through a redrive (Retry.Unavailable)"),
    },
)
def retry_image(image_id: str, request: Request, owner: Owner, services: Services) -> ImageOut:
    """Run a failed image's processing again from its stored original, starting with the step that failed
    (a parked failure or a permanent one alike). The answer shows it failed with a pending, retryable
    failure until the pipeline finishes it: poll it as after an upload. Repeating it while the retry is
    pending changes nothing."""
    record = _owned(services, owner, image_id)
    if record.state is not ImageState.FAILED or record.failure is None:
        raise ApiError(409, "Image.NotFailed", f"image {image_id!r} is {record.state.value}, not failed")
    if services.retrier is None:
        raise ApiError(
            501,
            "Retry.Unavailable",
            "on this deployment run imgmgr redrive --queue-url <dead-letter queue> to replay parked steps",
        )
    if not _original_stored(services, record):
        raise ApiError(409, "Image.OriginalGone", f"the original of image {image_id!r} is no longer stored")
    if record.failure.pending:
        return image_out(record, services, _base_url(request))
    # Pending before the step starts: the step resumes only a retryable failure.
    retried = services.metadata.transition(record, record.retrying(at=services.clock.now()))
    try:
        services.retrier.retry(retried)
    except ImgMgrError:
        # Nothing started: the failure as it was, or the image would wait for a step that never runs (and a
        # repeated retry, seeing it pending, would change nothing). A step that started anyway (its
        # invocation accepted, the answer lost) and wrote first keeps what it wrote.
        with contextlib.suppress(ImgMgrError):
            services.metadata.transition(retried, replace(retried, failure=record.failure))
        raise
    return image_out(retried, services, _base_url(request))


@router.get("/categories", response_model=CategoryCounts, tags=["stats"], responses=COMMON_RESPONSES)
def categories(owner: Owner, services: Services) -> CategoryCounts:
    """How many of the owner's ready images are in each category, most first."""
    counts = services.metadata.category_counts(owner)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return CategoryCounts(categories=[CategoryCount(name=name, count=count) for name, count in ordered])


@router.get("/stats", response_model=Stats, tags=["stats"], responses=COMMON_RESPONSES)
def stats(owner: Owner, services: Services) -> Stats:
    """The owner's totals: images, bytes stored (originals and renditions), bytes saved by compression."""
    usage = services.metadata.usage(owner)
    return Stats(images=usage.images, bytes_stored=usage.bytes_stored, bytes_saved=usage.bytes_saved)


@router.get("/analytics", response_model=AnalyticsOut, tags=["stats"], responses=COMMON_RESPONSES)
def analytics(
    owner: Owner,
    services: Services,
    first: Annotated[
        date | None, Query(alias="from", description="First UTC day (YYYY-MM-DD). Default: 29 days before `to`.")
    ] = None,
    last: Annotated[date | None, Query(alias="to", description="Last UTC day, included. Default: today.")] = None,
    figure: Annotated[
        list[str] | None,
        Query(description=f"Only these figures (repeatable): {', '.join(FIGURE_NAMES)}. Default: all."),
    ] = None,
) -> AnalyticsOut:
    """The owner's usage figures for a period (at most a year): uploads, images by state, popular
    categories and labels, activity, bytes saved, failures by code, views and searches. Each is a saved
    query of the analytics lake, answered over the owner's events and cached for a minute."""
    if services.analytics is None:
        raise ApiError(503, "Analytics.Unavailable", "this deployment does not answer analytics over the API")
    unknown = [name for name in figure or () if name not in FIGURE_NAMES]
    if unknown:
        raise ApiError(
            422, "Analytics.UnknownFigure", f"figure: {', '.join(unknown)} unknown; one of {', '.join(FIGURE_NAMES)}"
        )
    try:
        period = Period.of(first, last, today=services.clock.now().date())
    except ValueError as exc:
        raise ApiError(422, "Analytics.InvalidPeriod", str(exc)) from None
    names = tuple(dict.fromkeys(figure)) if figure else FIGURE_NAMES
    results = services.analytics.figures(period, owner, names)
    return AnalyticsOut.model_validate(
        {
            "from": period.first,
            "to": period.last,
            "figures": {
                result.query.name: {
                    "description": result.query.description,
                    "columns": list(result.columns),
                    "rows": result.records(),
                }
                for result in results
            },
        }
    )
