"""What the API app runs on: the ports, the host's authenticator and presigner, and the limits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from starlette.requests import Request

from lambdas.api.body_limit import DEFAULT_MAX_BODY_BYTES
from lambdas.ports import Clock, EventSink, MetadataStore, ObjectStore, Presigner, Retrier

if TYPE_CHECKING:
    from lambdas.analytics.figures import CachedFigures

#: Content types an upload may declare (the formats the image core decodes).
DEFAULT_CONTENT_TYPES: frozenset[str] = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/webp",
        "image/gif",
        "image/tiff",
        "image/bmp",
        "image/heic",
        "image/heif",
        "image/avif",
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class SignIn:
    """How the web page signs its users in when the deployment has a Cognito user pool (no secret: the
    page's app client is public and protects its code with PKCE)."""

    login_url: str
    """Base URL of the managed login (``/oauth2/authorize``, ``/oauth2/token``, ``/logout`` below it)."""
    client_id: str
    """The page's app client."""
    api_key_required: bool = True
    """Whether data calls need an API key besides the token. Default: ``True``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiLimits:
    """Limits on every input of the API."""

    max_upload_bytes: int = 100 * 1024 * 1024
    """Largest original a client may declare and upload, in bytes (the Lambdas' ``IMGMGR_MAX_UPLOAD_BYTES``
    default too). Default: 100 MiB."""

    content_types: frozenset[str] = DEFAULT_CONTENT_TYPES
    """Content types an upload may declare. Default: ``DEFAULT_CONTENT_TYPES``."""

    max_filename_chars: int = 255
    """Longest file name accepted, in characters. Default: 255."""

    upload_expiry_minutes: int = 10
    """How long a presigned upload stays valid, in minutes. Default: 10."""

    url_expiry_seconds: int = 900
    """How long a rendition URL stays valid, in seconds. Default: 900 (15 minutes)."""

    deleted_retain_seconds: int = 7 * 86400
    """How long the tombstone of a deleted image is kept (it counts nowhere). Default: 7 days."""

    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    """Largest request body a route takes (the host's streamed upload endpoint has its own bound), in bytes.
    Default: 64 KiB."""

    def __post_init__(self) -> None:
        if self.max_upload_bytes < 1:
            raise ValueError("max_upload_bytes must be positive")
        if self.max_body_bytes < 1024:
            raise ValueError("max_body_bytes must be at least 1024")
        if not self.content_types:
            raise ValueError("content_types must not be empty")
        if not 1 <= self.upload_expiry_minutes <= 60:
            raise ValueError("upload_expiry_minutes must be 1..60")
        if not 1 <= self.url_expiry_seconds <= 7 * 86400:
            raise ValueError("url_expiry_seconds must be 1..604800")


@runtime_checkable
class Authenticator(Protocol):
    """Who is calling: the owner identity, or ``ApiError`` 401/403. It may leave the id of the credential
    the caller used in ``request.state.credential`` (the local host's key id)."""

    def owner(self, request: Request) -> str: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiServices:
    """Everything the app needs; built once per container (Lambda) or process (local)."""

    metadata: MetadataStore
    objects: ObjectStore
    events: EventSink
    clock: Clock
    presigner: Presigner
    authenticator: Authenticator
    cursor_secret: bytes
    limits: ApiLimits = field(default_factory=ApiLimits)
    new_id: Callable[[], str] | None = None
    """Image id factory (tests fix it). Default: None (random 32 hex digits)."""
    analytics: CachedFigures | None = None
    """The usage figures (``lambdas.analytics.figures``). Default: None (the analytics route answers 503)."""
    sign_in: SignIn | None = None
    """The user pool the page signs in with (``GET /v1/sign-in``). Default: None (the route answers 404
    ``SignIn.NoUserPool`` and the page asks for an API key)."""
    retrier: Retrier | None = None
    """Runs a failed image's step again (locally the queue; on AWS an asynchronous invocation of the step's
    function). Default: None (the retry route answers 501 ``Retry.Unavailable``)."""
