"""Routes only the local host has: the upload endpoint the presigned POST points at, and signed downloads.

In AWS, S3 receives the POST and enforces its policy, then its ``ObjectCreated`` event starts the pipeline;
here ``POST /local/uploads`` checks the same policy (signature, expiry, key, type, size), stores the object
and queues the first step. The form is read as it arrives (``imgmgr.upload_form``): everything but the size
is checked from the fields that precede the file, so a refused POST is answered before its file is read.
``GET /local/objects/<key>`` serves an object to whoever holds a URL signed for it.

An original is stored only for a record still awaiting it (not for a deleted image), and stored before the
step is queued: when queueing fails the original is taken back so that the client can retry, and an
original a killed server stored but never queued is queued when the next server starts
(``imgmgr.server.queue_arrived_uploads``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from imgmgr.adapters.upload_policy import LocalPresigner, PolicyError
from imgmgr.upload_form import FormError, PostForm
from lambdas.api.errors import ApiError, problem
from lambdas.domain.errors import InvalidKeyError, NotFoundError
from lambdas.domain.records import ImageRecord, UploadKey
from lambdas.domain.states import ImageState
from lambdas.ports import MetadataStore, ObjectStore

#: Slack over the policy's size bound for the multipart envelope (boundaries, the other fields).
_ENVELOPE_BYTES = 64 * 1024
UPLOAD_PATH = "/local/uploads"


def upload_body_bytes(max_upload_bytes: int) -> int:
    """The most bytes the upload endpoint receives for a policy allowing ``max_upload_bytes``."""
    return max_upload_bytes + _ENVELOPE_BYTES


def _awaits_upload(record: ImageRecord | None, key: str) -> bool:
    return record is not None and record.state is ImageState.AWAITING_UPLOAD and record.original_key == key


def local_router(
    presigner: LocalPresigner,
    objects: ObjectStore,
    metadata: MetadataStore,
    on_uploaded: Callable[[UploadKey], None],
    *,
    max_upload_bytes: int,
) -> APIRouter:
    """The local routes; ``on_uploaded`` is called with the key of each stored original (it queues a step)."""
    router = APIRouter(prefix="/local", include_in_schema=False)

    @router.post(UPLOAD_PATH.removeprefix("/local"))
    async def upload(request: Request) -> Response:
        declared = request.headers.get("content-length")
        if declared is None or not declared.isdigit():
            return problem(411, "Upload.LengthRequired", "Content-Length is required")
        if int(declared) > upload_body_bytes(max_upload_bytes):
            return problem(413, "Upload.TooLarge", f"the file is larger than {max_upload_bytes} bytes")
        try:
            form = PostForm(request.headers.get("content-type"), max_file_bytes=max_upload_bytes)
        except FormError as exc:
            return problem(400, exc.code, exc.message)
        accepted: tuple[UploadKey, str] | None = None
        try:
            async for chunk in request.stream():
                form.feed(chunk)
                if form.file_started and accepted is None:
                    # Everything the policy is checked against has arrived, and at most a chunk of the file:
                    # a refusal now answers while the rest is still on its way, unread.
                    refusal, accepted = _check_before_file(presigner, objects, metadata, form.fields)
                    if refusal is not None:
                        return refusal
                if form.file_too_large:
                    return problem(413, "Upload.TooLarge", f"the file is larger than {max_upload_bytes} bytes")
                if form.file_ended:
                    break
        except FormError as exc:
            return problem(400, exc.code, exc.message)
        if accepted is None or not form.file_ended:
            return problem(400, "Upload.FileMissing", "the form has no file field named 'file'")
        parsed, content_type = accepted
        try:
            presigner.check_post(form.fields, len(form.file))
        except PolicyError as exc:
            return problem(exc.status, exc.code, exc.message)
        if objects.head(parsed.key) is not None:
            # Another POST of the same policy finished while this one's bytes were arriving.
            return problem(409, "Upload.AlreadyUploaded", "this upload has already been received")
        objects.put(parsed.key, bytes(form.file), content_type=content_type)
        record = metadata.get(parsed.image_id)
        if record is None or record.state is ImageState.DELETED:
            # Deleted while the bytes were arriving: the deletion removed what it knew of, so must this POST.
            objects.delete(parsed.key)
            return _not_awaited(parsed.image_id)
        try:
            on_uploaded(parsed)
        except Exception:
            # Not queued: take the original back, or the client's retry would be refused as already uploaded.
            objects.delete(parsed.key)
            raise
        return Response(status_code=204)

    @router.get("/objects/{key:path}")
    def download(
        key: str,
        expires: Annotated[int, Query()],
        signature: Annotated[str, Query(max_length=128)],
    ) -> Response:
        try:
            presigner.check_get(key, expires, signature)
        except PolicyError as exc:
            raise ApiError(exc.status, exc.code, exc.message) from exc
        try:
            data = objects.get(key)
            info = objects.head(key)
        except (NotFoundError, InvalidKeyError) as exc:
            raise ApiError(404, "Object.NotFound", "no such object") from exc
        media_type = (info.content_type if info else None) or ""
        # Only images are shown inline; anything else downloads, so no stored object runs as a page here.
        inline = media_type.startswith("image/") and media_type != "image/svg+xml"
        return Response(
            data,
            media_type=media_type if inline else "application/octet-stream",
            headers={
                "Cache-Control": "private, max-age=300",
                "Content-Disposition": "inline" if inline else "attachment",
                "Content-Security-Policy": "default-src 'none'; sandbox",
            },
        )

    return router


def _check_before_file(
    presigner: LocalPresigner, objects: ObjectStore, metadata: MetadataStore, fields: dict[str, str]
) -> tuple[Response | None, tuple[UploadKey, str] | None]:
    """Check the fields that precede the file: ``(a refusal, None)`` or ``(None, (the key, its content type))``."""
    try:
        key, content_type = presigner.check_post(fields, None)
        parsed = UploadKey.parse(key)
    except PolicyError as exc:
        return problem(exc.status, exc.code, exc.message), None
    except InvalidKeyError as exc:
        return problem(400, exc.code, exc.message), None
    if objects.head(key) is not None:
        # An original is written once: a second POST with a still-valid policy must not swap the bytes
        # of an image that may already be processed.
        return problem(409, "Upload.AlreadyUploaded", "this upload has already been received"), None
    if not _awaits_upload(metadata.get(parsed.image_id), key):
        return _not_awaited(parsed.image_id), None
    return None, (parsed, content_type)


def _not_awaited(image_id: str) -> Response:
    return problem(
        409, "Upload.NotAwaited", f"image {image_id!r} is not waiting for an upload (deleted or already received)"
    )
