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
