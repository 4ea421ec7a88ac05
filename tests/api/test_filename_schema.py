"""The file-name pattern of the OpenAPI document means what the server checks, in every regex dialect.

Schema-driven clients (and the property-based test of the running server) generate names from the
document's pattern with JSON Schema's ECMA semantics; the server validates with pydantic and then with
``naming.display_name``. A character the three judge differently is a valid request refused, or the reverse.
"""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from lambdas.api.errors import ApiError
from lambdas.api.models import UploadRequest
from lambdas.api.naming import FILENAME_PATTERN, display_name

#: Every Latin-1 code point, the text-direction controls and their neighbours, Unicode's spaces, the BOM.
CHARACTERS = [
    *map(chr, range(0x100)),
    *map(chr, range(0x2000, 0x2030)),
    *map(chr, range(0x2060, 0x2070)),
    "\u1680",
    "\u205f",
    "\u3000",
    "\ufeff",
]
SHA = "0" * 64


def _model_accepts(name: str) -> bool:
    try:
        UploadRequest(filename=name, content_type="image/jpeg", size=1, sha256=SHA)
    except ValidationError:
        return False
    return True


def _server_accepts(name: str) -> bool:
    if not _model_accepts(name):
        return False
    try:
        display_name(name, max_chars=255)
    except ApiError:
        return False
    return True


@pytest.mark.parametrize("where", ["end", "middle"])
def test_the_pattern_python_pydantic_and_the_naming_check_agree_on_every_character(where):
    for character in CHARACTERS:
        name = f"photo{character}" if where == "end" else f"pho{character}to.jpg"
        by_pattern = re.fullmatch(FILENAME_PATTERN, name) is not None
        assert by_pattern == _model_accepts(name) == _server_accepts(name), (hex(ord(character)), where)


def test_the_pattern_uses_no_class_escape_whose_meaning_differs_between_dialects():
    # ECMA's \s has U+FEFF and not U+0085; Python's and Rust's are the other way round (\d, \w and \b too).
    assert not re.search(r"\\[sSdDwWbB]", FILENAME_PATTERN)


def test_control_and_direction_characters_are_refused_and_ordinary_names_pass():
    assert not _server_accepts("\u009f\u0085")
    assert not _server_accepts("photo\u202egnp.exe")
    assert not _server_accepts("photo.jpg\u2028")
    assert _server_accepts("été à Zürich.jpg")
    assert _server_accepts("holiday/beach.jpg")
