"""The one table of plain sentences covers every error code the system can answer or record."""

from __future__ import annotations

import re
from pathlib import Path

from lambdas.messages import messages, plain

ROOT = Path(__file__).resolve().parents[2]
#: A namespaced code in the source: ``code = "Image.NotAnImage"``, ``ApiError(404, "Image.NotFound", ...)``.
CODE = re.compile(r'"((?:[A-Z][A-Za-z]+)\.(?:[A-Z][A-Za-z]+))"')


def source_codes() -> set[str]:
    codes: set[str] = set()
    for package in ("lambdas", "imgmgr"):
        for path in (ROOT / package).rglob("*.py"):
            codes.update(CODE.findall(path.read_text(encoding="utf-8")))
    return codes


def test_every_code_in_the_source_has_a_plain_sentence():
    # GIVEN every namespaced code string the API, the pipeline and the local host use
    codes = source_codes()
    assert {"Image.NotAnImage", "Request.Invalid", "Upload.TypeNotAllowed", "Retry.Unavailable"} <= codes
    # THEN each has its sentence
    assert sorted(codes - messages().keys()) == []


def test_a_sentence_takes_the_detail_where_it_says_so():
    assert plain("Image.NotAnImage", "cannot identify image file") == "This file is not an image."
    assert plain("Request.Invalid", "The file is empty.") == "The file is empty."
    assert plain("Http.418", "teapot") == "The server answered with an error (teapot)."
    assert plain("Nobody.Knows", "some detail") == "some detail"
