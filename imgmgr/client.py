"""A small client of the HTTP API (local or deployed), used by the CLI."""

from __future__ import annotations

import hashlib
import io
import mimetypes
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

import httpx

from lambdas.messages import plain

#: Media types by extension, for the types ``mimetypes`` may not know.
CONTENT_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".jpe": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".gif": "image/gif",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".bmp": "image/bmp",
    ".heic": "image/heic",
    ".heif": "image/heif",
    ".avif": "image/avif",
}


class ApiClientError(Exception):
    """The API answered with a problem (or could not be reached: ``status`` 0)."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}" if status == 0 else f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail

    @property
    def plain(self) -> str:
        """The error in plain words (``lambdas.messages``), for people; programs match ``code``."""
        return plain(self.code, self.detail)


def content_type_of(path: Path) -> str | None:
    """The image media type of ``path`` by its extension; ``None`` when it is not an image type."""
    known = CONTENT_TYPES.get(path.suffix.lower())
    if known:
        return known
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed if guessed and guessed.startswith("image/") else None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def image_files(paths: list[Path]) -> Iterator[Path]:
    """Files named, and image files under directories named (recursively, sorted, hidden ones skipped)."""
    for path in paths:
        if path.is_dir():
            for found in sorted(path.rglob("*")):
                relative = found.relative_to(path).parts
                if found.is_file() and not any(p.startswith(".") for p in relative) and content_type_of(found):
                    yield found
        else:
            yield path


class _ProgressReader(io.RawIOBase):
    """A file whose reads report how many bytes went out."""

    def __init__(self, file: IO[bytes], on_bytes: Callable[[int], None]) -> None:
        self._file = file
        self._on_bytes = on_bytes

    def read(self, size: int | None = -1) -> bytes:
        data = self._file.read(-1 if size is None else size)
        self._on_bytes(len(data))
        return data

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._file.seekable()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def fileno(self) -> int:
        return self._file.fileno()


DELETE_RETRY_PAUSES = (0.5, 1.0, 2.0)
"""Seconds between the attempts of a DELETE that got no answer or a transient one."""
_TRANSIENT_STATUSES = frozenset({0, 429, 500, 502, 503, 504})
#: Most images of one batch request (the API's bound).
BATCH_SIZE = 100


@dataclass
class ApiClient:
    """The API at ``endpoint`` with ``api_key``."""

    endpoint: str
    api_key: str | None
    timeout: float = 60.0
    http: httpx.Client | None = field(default=None, repr=False)
    """The HTTP client for the API calls (a test passes one over the app). Default: one built for ``endpoint``."""
    _sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    def __post_init__(self) -> None:
        headers = {"x-api-key": self.api_key} if self.api_key else {}
        if self.http is not None:
            self.http.headers.update(headers)
        self._http = self.http or httpx.Client(
            base_url=self.endpoint.rstrip("/") + "/", headers=headers, timeout=self.timeout
        )

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ApiClientError(0, "Client.Unreachable", f"{self.endpoint}: {exc}") from exc
        if response.status_code >= 400:
            raise _problem(response)
        return response

    def create_upload(self, *, filename: str, content_type: str, size: int, sha256: str) -> dict[str, Any]:
        body = {"filename": filename, "content_type": content_type, "size": size, "sha256": sha256}
        return self._call("POST", "v1/uploads", json=body).json()

    def send(self, target: dict[str, Any], path: Path, on_bytes: Callable[[int], None] = lambda _n: None) -> None:
        """POST the file to a presigned ``target`` (S3 or the local upload endpoint), fields first."""
        with path.open("rb") as file:
            reader = cast(IO[bytes], _ProgressReader(file, on_bytes))
            files = {"file": (path.name, reader, target["fields"].get("Content-Type"))}
            try:
                # No API key here: the presigned policy is the authorization (and S3 must not see the key).
                response = httpx.post(target["url"], data=target["fields"], files=files, timeout=self.timeout)
            except httpx.HTTPError as exc:
                raise ApiClientError(0, "Client.Unreachable", f"{target['url']}: {exc}") from exc
        if response.status_code >= 300:
            raise _problem(response)

    def retry_image(self, image_id: str) -> dict[str, Any]:
        """Run a failed image's processing again from its stored original; the image (its retry pending)."""
        return self._call("POST", f"v1/images/{image_id}/retry").json()

    def list_images(self, **filters: Any) -> dict[str, Any]:
        params = {name: value for name, value in filters.items() if value is not None}
        return self._call("GET", "v1/images", params=params).json()

    def get_image(self, image_id: str) -> dict[str, Any]:
        return self._call("GET", f"v1/images/{image_id}").json()

    def delete_image(self, image_id: str) -> None:
        """Delete the image; a DELETE that got no answer or a transient one (a function that died or timed
        out behind API Gateway: 502/503/504, throttling: 429) is sent again, since only a repeat can finish
        what the first one left (the image is gone from every listing; its tombstone names every object)."""
        self._repeated("DELETE", f"v1/images/{image_id}")

    def _repeated(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """An idempotent request, sent again after no answer or a transient one (see ``delete_image``)."""
        pauses = iter(DELETE_RETRY_PAUSES)
        while True:
            try:
                return self._call(method, path, **kwargs)
            except ApiClientError as exc:
                pause = next(pauses, None)
                if pause is None or exc.status not in _TRANSIENT_STATUSES:
                    raise
                self._sleep(pause)

    def edit_image(
        self,
        image_id: str,
        *,
        favorite: bool | None = None,
        add_tags: tuple[str, ...] = (),
        remove_tags: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        """Mark or unmark a favorite, add and remove tags (removals after additions); the image."""
        body: dict[str, Any] = {"add_tags": list(add_tags), "remove_tags": list(remove_tags)}
        if favorite is not None:
            body["favorite"] = favorite
        return self._call("PATCH", f"v1/images/{image_id}", json=body).json()

    def batch(
        self, image_ids: list[str], action: str, *, tags: tuple[str, ...] = (), album_id: str | None = None
    ) -> list[dict[str, Any]]:
        """One action on every image of ``image_ids`` (``BATCH_SIZE`` per request), a result per id in their
        order. Every action is idempotent: a request that got no answer or a transient one is sent again."""
        results: list[dict[str, Any]] = []
        for start in range(0, len(image_ids), BATCH_SIZE):
            body: dict[str, Any] = {"image_ids": image_ids[start : start + BATCH_SIZE], "action": action}
            if tags:
                body["tags"] = list(tags)
            if album_id is not None:
                body["album_id"] = album_id
            results.extend(self._repeated("POST", "v1/images/batch", json=body).json()["results"])
        return results

    def duplicates(self) -> list[dict[str, Any]]:
        """Every group of near-duplicates (``GET /v1/duplicates``, all pages), by group id."""
        groups: list[dict[str, Any]] = []
        cursor = None
        while True:
            params = {"limit": 50} if cursor is None else {"limit": 50, "cursor": cursor}
            page = self._call("GET", "v1/duplicates", params=params).json()
            groups.extend(page["groups"])
            cursor = page["next_cursor"]
            if cursor is None:
                return groups

    def albums(self) -> list[dict[str, Any]]:
        """Every album, by name."""
        return self._call("GET", "v1/albums").json()["items"]

    def create_album(self, name: str) -> dict[str, Any]:
        return self._call("POST", "v1/albums", json={"name": name}).json()

    def edit_album(self, album_id: str, **changes: str | None) -> dict[str, Any]:
        """Rename (``name``) or choose the cover (``cover_image_id``; None: the newest image) of an album."""
        return self._call("PATCH", f"v1/albums/{album_id}", json=changes).json()

    def delete_album(self, album_id: str) -> None:
        """Delete the album (its images stay); sent again like ``delete_image``: a repeat finishes it."""
        self._repeated("DELETE", f"v1/albums/{album_id}")

    def categories(self) -> list[dict[str, Any]]:
        return self._call("GET", "v1/categories").json()["categories"]

    def usage(self) -> dict[str, Any]:
        return self._call("GET", "v1/stats").json()

    def analytics(
        self, *, first: str | None = None, last: str | None = None, figures: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        """The usage figures of the period from ``first`` to ``last`` (``YYYY-MM-DD``; None: the API's
        default), all or only ``figures``."""
        params: list[tuple[str, str]] = [(name, value) for name, value in (("from", first), ("to", last)) if value]
        params += [("figure", name) for name in figures]
        return self._call("GET", "v1/analytics", params=params).json()


def _problem(response: httpx.Response) -> ApiClientError:
    try:
        body = response.json()
        return ApiClientError(response.status_code, str(body.get("code")), str(body.get("detail")))
    except ValueError:
        # S3 answers POST failures with XML: keep its code if there is one.
        text = response.text
        code = text.split("<Code>", 1)[1].split("</Code>", 1)[0] if "<Code>" in text else f"Http.{response.status_code}"
        return ApiClientError(response.status_code, code, text[:200])
