"""The owner's organizing, under ``/v1``: edits of one image (favorite, own tags, corrections), albums, one
action on many images at once (``POST /v1/images/batch``), and the groups of near-duplicates
(``GET /v1/duplicates``) whose extra copies that action deletes.

Every change of an image is a record write like the pipeline's (``MetadataStore.transition``, conditional
on the version read): when another writer wins (a pipeline step, a second tab), the record is read again
and the change applied again, a few times. A change that changes nothing (a favorite marked again) writes
nothing. Albums are owner-scoped exactly like images: another owner's album answers ``Album.NotFound``.

No analytics event is emitted for an edit: the lake's label and category figures count what the pipeline
saw when it processed an image, and an ``edit`` kind would first need queries that follow corrections.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from lambdas.api.cursor import CursorSigner
from lambdas.api.errors import COMMON_RESPONSES, ApiError, problem_response
from lambdas.api.models import (
    ALBUM_ACTIONS,
    TAG_ACTIONS,
    AlbumCreate,
    AlbumEdit,
    AlbumList,
    AlbumOut,
    BatchAction,
    BatchRequest,
    BatchResponse,
    BatchResult,
    DuplicateGroupOut,
    DuplicatePage,
    ImageEdit,
    ImageOut,
)
from lambdas.api.routes import Owner, Services, _base_url, _not_found, _owned, owned_album, purge_image
from lambdas.api.services import ApiServices
from lambdas.api.views import album_out, image_out
from lambdas.domain.albums import MAX_ALBUMS_PER_OWNER, Album, new_album
from lambdas.domain.duplicates import MAX_GROUPS_PER_PAGE
from lambdas.domain.errors import (
    InvalidEditError,
    InvalidTransitionError,
    NotFoundError,
    PermanentError,
    RecordExistsError,
    StaleRecordError,
)
from lambdas.domain.queries import MAX_PAGE_SIZE, ImageQuery
from lambdas.domain.records import ImageRecord
from lambdas.domain.states import ImageState

router = APIRouter(prefix="/v1")

#: Reads and writes of one change while other writers keep winning (then 409 ``Record.Conflict``).
EDIT_ATTEMPTS = 4
#: Hex digits of a new album id after ``al_`` (``secrets.token_hex``).
ALBUM_ID_HEX = 24

_album_not_found: dict[int | str, dict[str, Any]] = {
    404: problem_response("No such album for this key"),
    409: problem_response("The album or one of its images kept changing (Record.Conflict)"),
}

#: A change of one record: what the record becomes (``ImageRecord.corrected``, ``filed``).
Change = Callable[[ImageRecord], ImageRecord]


# --- the operations --------------------------------------------------------------------------------------
def _unchanged(before: ImageRecord, after: ImageRecord) -> bool:
    """Whether a change left everything but the time as it was (then nothing is written)."""
    return replace(after, updated_at=before.updated_at) == before


def revise(
    services: ApiServices, owner: str, image_id: str, change: Change, *, current: ImageRecord | None = None
) -> ImageRecord:
    """Apply ``change`` to the owner's live image ``image_id`` (``current`` when the caller has just read
    it) and store it; read again and apply again when another writer won. The stored record.

    ``ApiError`` 404 ``Image.NotFound`` (also once it is deleted meanwhile), 409 ``Record.Conflict`` when
    other writers won every attempt; ``InvalidEditError`` from the change itself (422 ``Edit.Invalid``).
    """
    for _attempt in range(EDIT_ATTEMPTS):
        record = current if current is not None else _owned(services, owner, image_id)
        current = None
        updated = change(record)
        if _unchanged(record, updated):
            return record
        try:
            return services.metadata.transition(record, updated)
        except StaleRecordError:
            continue
        except InvalidTransitionError:
            # Deleted since it was read (the only state an edit cannot follow): read again, answer 404.
            continue
    raise ApiError(409, "Record.Conflict", f"image {image_id!r} kept changing; try again")


def _edit_change(services: ApiServices, body: ImageEdit) -> Change:
    at = services.clock.now()
    return lambda record: record.corrected(
        at=at, favorite=body.favorite, add_tags=tuple(body.add_tags), remove_tags=tuple(body.remove_tags)
    )


def _shown_cover(album: Album, record: ImageRecord | None) -> bool:
    """Whether ``record`` (the album's chosen cover, as read) may still be shown for it: live and in it."""
    return (
        record is not None
        and record.owner == album.owner
        and record.state is not ImageState.DELETED
        and album.album_id in record.albums
    )


def album_covers(services: ApiServices, albums: Sequence[Album]) -> dict[str, ImageRecord]:
    """The image shown for each album (album id -> record; an empty album has none).

    Cost: one batch read of every chosen cover (``MetadataStore.get_many``: one ``BatchGetItem`` per 100
    albums), then one ``query(album=..., limit=1)`` (a ``Query`` and a ``BatchGetItem`` of one record) per
    album that has images but no chosen cover, or whose chosen cover has left it; none for an empty album.
    """
    chosen = [album.cover_image_id for album in albums if album.cover_image_id and album.count > 0]
    records = {record.image_id: record for record in services.metadata.get_many(chosen)} if chosen else {}
    covers: dict[str, ImageRecord] = {}
    for album in albums:
        record = records.get(album.cover_image_id or "")
        if record is not None and _shown_cover(album, record):
            covers[album.album_id] = record
        elif album.count > 0:
            page = services.metadata.query(ImageQuery(owner=album.owner, album=album.album_id, limit=1))
            if page.items:
                covers[album.album_id] = page.items[0]
    return covers


def _album_out(services: ApiServices, album: Album, base_url: str) -> AlbumOut:
    return album_out(album, album_covers(services, [album]).get(album.album_id), services, base_url)


def _update_album(services: ApiServices, album: Album, change: Callable[[Album], Album]) -> Album:
    """``change`` applied to the album and stored; read again and applied again when another writer won."""
    for _attempt in range(EDIT_ATTEMPTS):
        try:
            return services.metadata.update_album(album, change(album))
        except StaleRecordError:
            fresh = services.metadata.get_album(album.album_id)
        except NotFoundError:
            fresh = None
        if fresh is None:
            raise ApiError(404, "Album.NotFound", f"no album {album.album_id!r} for this key")
        album = fresh
    raise ApiError(409, "Record.Conflict", f"album {album.album_id!r} kept changing; try again")


def empty_album(services: ApiServices, album: Album) -> int:
    """Take every image out of ``album``, a page at a time (each image one record write); how many.

    A repeat after an interruption carries on where it stopped: the images taken out are listed no more.
    """
    at = services.clock.now()
    taken = 0
    cursor: str | None = None
    while True:
        query = ImageQuery(owner=album.owner, album=album.album_id, limit=MAX_PAGE_SIZE, cursor=cursor)
        page = services.metadata.query(query)
        for record in page.items:
            try:
                revise(
                    services,
                    album.owner,
                    record.image_id,
                    lambda r: r.filed(at=at, remove=(album.album_id,)),
                    current=record,
                )
            except ApiError as exc:
                if exc.status != 404:  # 404: deleted meanwhile, nothing to take out
                    raise
                continue
            taken += 1
        if page.next is None:
            return taken
        cursor = page.next


# --- one image ---------------------------------------------------------------------------------------------
@router.patch(
    "/images/{image_id}",
    response_model=ImageOut,
    tags=["images"],
    responses={**COMMON_RESPONSES, **_not_found, 409: problem_response("The image kept changing (Record.Conflict)")},
)
def edit_image(image_id: str, body: ImageEdit, request: Request, owner: Owner, services: Services) -> ImageOut:
    """Mark or unmark a favorite, add and remove tags. Adding a tag restores a model label removed before,
    or else adds an own tag (searched like a label; a known label's name brings its parents and categories).
    Removing a tag drops an own tag or marks a model label (or parent) as wrong: hidden, not searched, its
    categories gone. The image keeps its corrections however often it is labelled again."""
    if body.favorite is None and not body.add_tags and not body.remove_tags:
        raise ApiError(422, "Request.Invalid", "The edit changes nothing: give favorite, add_tags or remove_tags.")
    record = revise(services, owner, image_id, _edit_change(services, body))
    return image_out(record, services, _base_url(request), detail=True)


# --- albums ------------------------------------------------------------------------------------------------
@router.get("/albums", response_model=AlbumList, tags=["albums"], responses=COMMON_RESPONSES)
def list_albums(request: Request, owner: Owner, services: Services) -> AlbumList:
    """Every album of the owner, by name, each with its count and cover.

    Reads: the albums (one ``Query`` and a ``BatchGetItem`` per 100), their chosen covers in one batch read,
    and the newest image of each album with images but no chosen cover (one query each: choose covers to
    spare them)."""
    albums = services.metadata.albums(owner)
    covers = album_covers(services, albums)
    base_url = _base_url(request)
    return AlbumList(items=[album_out(album, covers.get(album.album_id), services, base_url) for album in albums])


@router.post(
    "/albums",
    response_model=AlbumOut,
    status_code=201,
    tags=["albums"],
    responses={**COMMON_RESPONSES, 409: problem_response(f"The owner has {MAX_ALBUMS_PER_OWNER} albums already")},
)
def create_album(body: AlbumCreate, request: Request, owner: Owner, services: Services) -> AlbumOut:
    """A new, empty album (names need not be unique)."""
    # Two creations at once may both pass this check: the limit is a guard on growth, not an invariant.
    if len(services.metadata.albums(owner)) >= MAX_ALBUMS_PER_OWNER:
        raise ApiError(409, "Album.TooMany", f"an owner keeps at most {MAX_ALBUMS_PER_OWNER} albums")
    at = services.clock.now()
    for _attempt in range(EDIT_ATTEMPTS):
        album_id = "al_" + secrets.token_hex(ALBUM_ID_HEX // 2)
        try:
            album = services.metadata.create_album(new_album(album_id=album_id, owner=owner, name=body.name, at=at))
        except RecordExistsError:
            continue
        return album_out(album, None, services, _base_url(request))
    raise ApiError(409, "Record.Conflict", "no free album id was found; try again")


@router.get(
    "/albums/{album_id}",
    response_model=AlbumOut,
    tags=["albums"],
    responses={**COMMON_RESPONSES, **_album_not_found},
)
def get_album(album_id: str, request: Request, owner: Owner, services: Services) -> AlbumOut:
    """One album with its count and cover; its images are ``GET /v1/images?album=<id>``."""
    return _album_out(services, owned_album(services, owner, album_id), _base_url(request))


@router.patch(
    "/albums/{album_id}",
    response_model=AlbumOut,
    tags=["albums"],
    responses={**COMMON_RESPONSES, **_album_not_found},
)
def edit_album(album_id: str, body: AlbumEdit, request: Request, owner: Owner, services: Services) -> AlbumOut:
    """Rename the album, choose its cover (an image in it), or both; a null cover shows its newest image."""
    fields = body.model_fields_set
    if not fields or ("name" in fields and body.name is None):
        raise ApiError(422, "Request.Invalid", "The album edit needs a name or a cover_image_id.")
    album = owned_album(services, owner, album_id)
    if body.cover_image_id is not None:
        cover = services.metadata.get(body.cover_image_id)
        if cover is None or not _shown_cover(album, cover):
            raise ApiError(422, "Album.CoverNotInAlbum", f"image {body.cover_image_id!r} is not in album {album_id!r}")
    at = services.clock.now()

    def change(current: Album) -> Album:
        if body.name is not None:
            current = current.renamed(body.name, at=at)
        if "cover_image_id" in fields:
            current = current.covered(body.cover_image_id, at=at)
        return current

    return _album_out(services, _update_album(services, album, change), _base_url(request))


@router.delete(
    "/albums/{album_id}",
    status_code=204,
    tags=["albums"],
    responses={**COMMON_RESPONSES, **_album_not_found},
)
def delete_album(album_id: str, owner: Owner, services: Services) -> Response:
    """Delete the album; its images stay (each is taken out of it first). Interrupted, a repeat finishes it."""
    album = owned_album(services, owner, album_id)
    empty_album(services, album)
    services.metadata.delete_album(album.album_id)
    return Response(status_code=204)


# --- many images -------------------------------------------------------------------------------------------
def _check_batch(body: BatchRequest) -> None:
    if len(set(body.image_ids)) != len(body.image_ids):
        raise ApiError(422, "Request.Invalid", "The list of image ids names an image more than once.")
    if body.action in TAG_ACTIONS and not body.tags:
        raise ApiError(422, "Request.Invalid", f"The list of tags is missing: {body.action.value} needs it.")
    if body.action not in TAG_ACTIONS and body.tags is not None:
        raise ApiError(422, "Request.Invalid", f"The list of tags does not apply to {body.action.value}.")
    if body.action in ALBUM_ACTIONS and not body.album_id:
        raise ApiError(422, "Request.Invalid", f"The album id is missing: {body.action.value} needs it.")
    if body.action not in ALBUM_ACTIONS and body.album_id is not None:
        raise ApiError(422, "Request.Invalid", f"The album id does not apply to {body.action.value}.")


def _batch_change(services: ApiServices, body: BatchRequest) -> Change:
    at = services.clock.now()
    tags = tuple(body.tags or ())
    album = (body.album_id,) if body.album_id else ()
    changes: dict[BatchAction, Change] = {
        BatchAction.FAVORITE: lambda r: r.corrected(at=at, favorite=True),
        BatchAction.UNFAVORITE: lambda r: r.corrected(at=at, favorite=False),
        BatchAction.ADD_TAGS: lambda r: r.corrected(at=at, add_tags=tags),
        BatchAction.REMOVE_TAGS: lambda r: r.corrected(at=at, remove_tags=tags),
        BatchAction.ADD_TO_ALBUM: lambda r: r.filed(at=at, add=album),
        BatchAction.REMOVE_FROM_ALBUM: lambda r: r.filed(at=at, remove=album),
    }
    return changes[body.action]


@router.post(
    "/images/batch",
    response_model=BatchResponse,
    tags=["images"],
    responses={**COMMON_RESPONSES, 404: problem_response("No such album for this key (album actions)")},
)
def batch(body: BatchRequest, request: Request, owner: Owner, services: Services) -> BatchResponse:
    """One action on up to 100 of the owner's images, each on its own: an unknown image (or another owner's)
    is a 404 in its result and never fails the others. `delete` is `DELETE /v1/images/{id}` for each; the
    album actions check the album once (404 for the whole request when it is not the owner's). Results come
    in the order of the request. Every action is idempotent: after a 503, repeat the whole request."""
    _check_batch(body)
    if body.action in ALBUM_ACTIONS and body.album_id:
        owned_album(services, owner, body.album_id)
    change = None if body.action is BatchAction.DELETE else _batch_change(services, body)
    # The records an edit starts from, in one batch read rather than one read per image.
    known = {} if change is None else {r.image_id: r for r in services.metadata.get_many(body.image_ids)}
    base_url = _base_url(request)
    results: list[BatchResult] = []
    for image_id in body.image_ids:
        try:
            if change is None:
                purge_image(services, owner, image_id)
                results.append(BatchResult(image_id=image_id, status=204))
                continue
            current = known.get(image_id)
            if current is None or current.owner != owner or current.state is ImageState.DELETED:
                current = _owned(services, owner, image_id)  # raises the 404 (unless it was created since)
            record = revise(services, owner, image_id, change, current=current)
            results.append(BatchResult(image_id=image_id, status=200, image=image_out(record, services, base_url)))
        except ApiError as exc:
            results.append(BatchResult(image_id=image_id, status=exc.status, code=exc.code, message=exc.detail))
        except InvalidEditError as exc:
            results.append(BatchResult(image_id=image_id, status=422, code=exc.code, message=exc.message))
        except PermanentError as exc:
            # A transient error (a dependency) is not one image's: it fails the request, which may be repeated.
            results.append(BatchResult(image_id=image_id, status=409, code=exc.code, message=exc.message))
    return BatchResponse(results=results)


# --- near-duplicates --------------------------------------------------------------------------------------
@router.get("/duplicates", response_model=DuplicatePage, tags=["albums"], responses=COMMON_RESPONSES)
def list_duplicates(
    request: Request,
    owner: Owner,
    services: Services,
    limit: Annotated[int, Query(ge=1, le=MAX_GROUPS_PER_PAGE)] = 20,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> DuplicatePage:
    """The owner's groups of near-duplicates (resized, re-encoded or slightly cropped copies of one photo,
    found by the thumbnail step from their perceptual hashes), each with its live images newest first; groups
    of one image left out. Reads one index partition of the owner's groups and their records."""
    signer = CursorSigner(services.cursor_secret)
    store_cursor = None if cursor is None else signer.open(cursor, owner=owner, scope="duplicates")
    page = services.metadata.duplicate_groups(owner, limit=limit, cursor=store_cursor)
    base_url = _base_url(request)
    return DuplicatePage(
        groups=[
            DuplicateGroupOut(group_id=group.group_id, images=[image_out(r, services, base_url) for r in group.images])
            for group in page.groups
        ],
        next_cursor=None if page.next is None else signer.sign(page.next, owner=owner, scope="duplicates"),
    )
