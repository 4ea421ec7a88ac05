"""Errors of the pipeline: one base class, subclasses that carry a stable, namespaced code.

``PermanentError`` means the input is bad and retrying cannot help: the image is recorded as failed
with the code. ``TransientError`` means a dependency faulted (throttling, timeout, unavailable): the
handler raises it so that Lambda retries, and the event lands in the dead-letter queue after retries.
"""

from __future__ import annotations


class ImgMgrError(Exception):
    """Base error of the system; ``code`` is stable and namespaced (``"Image.TooManyPixels"``)."""

    code: str = "ImgMgr.Error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class PermanentError(ImgMgrError):
    """Bad input or a broken invariant; retrying the same event cannot succeed."""

    code = "ImgMgr.Permanent"


class TransientError(ImgMgrError):
    """A dependency faulted; the same event may succeed when retried."""

    code = "ImgMgr.Transient"


class InvalidTransitionError(PermanentError):
    """A state change that does not move the record forward (``ready -> compressed``, ``deleted -> *``)."""

    code = "Record.InvalidTransition"


class RecordExistsError(PermanentError):
    """A record with the same image id exists already."""

    code = "Record.Exists"


class ContentExistsError(PermanentError):
    """Another live record of the owner holds the same content SHA-256; ``image_id`` names it.

    A store keeps ``(owner, content hash)`` unique over live records, so that the same bytes declared twice
    at once make one image: the request that lost reads ``image_id`` and answers with that image.
    """

    code = "Record.ContentExists"

    def __init__(self, message: str, *, image_id: str) -> None:
        super().__init__(message)
        self.image_id = image_id


class StaleRecordError(TransientError):
    """A conditional write lost: the record changed since it was read. Re-read and decide again."""

    code = "Record.Conflict"


class NotFoundError(PermanentError):
    """An object or record the event refers to does not exist (any more)."""

    code = "Object.NotFound"


class InvalidKeyError(PermanentError):
    """An object key outside the layout (``uploads/<owner>/<image_id>/<filename>``) or the data directory."""

    code = "Object.InvalidKey"


class InvalidQueryError(PermanentError):
    """A metadata query no index serves (no owner, category or label) or with a bad cursor or range."""

    code = "Query.Invalid"


class InvalidEditError(PermanentError):
    """An owner's edit the record cannot take: a tag that is empty or too long, too many tags or albums."""

    code = "Edit.Invalid"


class UploadTooLargeError(PermanentError):
    """The uploaded object is larger than the configured maximum upload size."""

    code = "Upload.TooLarge"


class ChecksumMismatchError(PermanentError):
    """The uploaded bytes do not have the SHA-256 the client declared when it asked to upload."""

    code = "Upload.ChecksumMismatch"


class ThrottledError(TransientError):
    """A dependency refused the call for rate or quota reasons (``ThrottlingException``...)."""

    code = "Dependency.Throttled"


class DependencyError(TransientError):
    """A dependency timed out, was unavailable or answered with a server error."""

    code = "Dependency.Unavailable"


class NotReadyError(TransientError):
    """A step ran before the step it depends on finished (an out-of-order event); retry later."""

    code = "Pipeline.NotReady"
