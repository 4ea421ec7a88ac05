"""File names are user input: the object key gets a safe form, the record keeps the original for display."""

from __future__ import annotations

import re
import unicodedata

from lambdas.api.errors import ApiError

_UNSAFE = re.compile(r"[^A-Za-z0-9._@=+-]+")
_MAX_KEY_SEGMENT = 128
#: C0 and C1 controls and DEL: binary, never part of a name.
CONTROL_CHARS = r"\x00-\x1f\x7f-\x9f"
#: Bidirectional embeddings, overrides and isolates: shown, they reorder the name ("photo\u202egnp.exe").
BIDI_CHARS = r"\u202a-\u202e\u2066-\u2069"
#: The white space ``str.strip`` removes that is neither a control nor a direction character, listed: ``\s``
#: means other sets in JSON Schema's (ECMA) regexes than in Python's and pydantic's (U+0085, U+FEFF), and
#: the schema must mean what the server checks.
SPACE_CHARS = r" \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
#: The request schema's pattern of a file name: what ``display_name`` accepts, in a regex every dialect reads
#: alike (no controls or direction characters; not ending in a separator or white space).
FILENAME_PATTERN = rf"^[^{CONTROL_CHARS}{BIDI_CHARS}]*[^{CONTROL_CHARS}{BIDI_CHARS}/\\{SPACE_CHARS}]$"
_CONTROL = re.compile(f"[{CONTROL_CHARS}]")
_BIDI_CONTROL = re.compile(f"[{BIDI_CHARS}]")
_EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/gif": "gif",
    "image/tiff": "tif",
    "image/bmp": "bmp",
    "image/heic": "heic",
    "image/heif": "heif",
    "image/avif": "avif",
}


def display_name(filename: str, *, max_chars: int) -> str:
    """The name shown to the user: stripped of any directory part; refused when empty, too long or binary."""
    if len(filename) > max_chars:
        raise ApiError(422, "Upload.FilenameTooLong", f"filename must be at most {max_chars} characters")
    if _CONTROL.search(filename):
        raise ApiError(422, "Upload.FilenameInvalid", "filename must not contain control characters")
    if _BIDI_CONTROL.search(filename):
        raise ApiError(422, "Upload.FilenameInvalid", "filename must not contain text-direction controls")
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not name:
        raise ApiError(422, "Upload.FilenameInvalid", "filename must name a file")
    return name


def key_segment(name: str, content_type: str) -> str:
    """A safe object key segment for ``name``: ASCII, no separators, no ``..``, at most 128 characters."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    stem, dot, _extension = ascii_name.rpartition(".")
    if not dot:
        stem = ascii_name
    stem = _UNSAFE.sub("-", stem).strip("-._")
    stem = re.sub(r"\.{2,}", ".", stem)
    # The extension follows the declared type, never the user's name: "x.html" must not be served as HTML.
    extension = _EXTENSIONS.get(content_type, "img")
    stem = stem[: _MAX_KEY_SEGMENT - len(extension) - 1].rstrip("-._") or "image"
    if not stem[0].isalnum():
        stem = "image-" + stem
        stem = stem[: _MAX_KEY_SEGMENT - len(extension) - 1]
    return f"{stem}.{extension}"
