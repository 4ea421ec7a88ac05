"""The rendition description is defined once: every layer's shape is derived from it, as these prove."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest

from lambdas.api.models import RenditionOut
from lambdas.domain.records import StoredRendition
from lambdas.imaging import ImageReport, Rendition
from lambdas.renditions import SHOWN_NAMES, RenditionInfo, shown_fields

DESCRIPTION = [f.name for f in dataclasses.fields(RenditionInfo)]
EVERY_FIELD = {
    "name": "compressed",
    "format": "webp",
    "mime": "image/webp",
    "width": 30,
    "height": 20,
    "size": 5,
    "quality": 80,
    "ssim": 0.97,
    "kept_original": True,
}


def test_the_description_sets_every_field_of_the_example():
    assert list(EVERY_FIELD) == DESCRIPTION


@pytest.mark.parametrize("layer", [Rendition, StoredRendition])
def test_each_layers_record_begins_with_the_description(layer):
    assert [f.name for f in dataclasses.fields(layer)][: len(DESCRIPTION)] == DESCRIPTION


def test_the_image_cores_rendition_measures_its_size_from_its_bytes():
    # GIVEN a rendition of five bytes
    rendition = Rendition(**_core_fields(), data=b"12345")
    # THEN its size is theirs, and its description leaves the bytes out
    assert rendition.size == 5
    assert rendition.info() == RenditionInfo(**EVERY_FIELD)
    assert "12345" not in repr(rendition)


def test_the_image_cores_rendition_takes_no_size():
    with pytest.raises(TypeError, match="size"):
        Rendition(**EVERY_FIELD, data=b"12345")


def test_a_stored_rendition_is_the_description_and_its_key():
    stored = StoredRendition.of(Rendition(**_core_fields(), data=b"12345"), key="renditions/i/compressed.webp")
    assert stored.described() == EVERY_FIELD
    assert stored.key == "renditions/i/compressed.webp"


def test_the_api_model_is_the_shown_description_then_its_own_fields():
    # THEN RenditionOut has every description field, required, under its shown name and type, in order
    fields = RenditionOut.model_fields
    assert list(fields)[: len(DESCRIPTION)] == list(shown_fields()) == [SHOWN_NAMES.get(n, n) for n in DESCRIPTION]
    for name, hint in shown_fields().items():
        assert fields[name].annotation == hint
        assert fields[name].is_required()
    assert list(fields)[len(DESCRIPTION) :] == ["saving", "url"]


def test_the_api_shows_a_stored_rendition_field_for_field():
    stored = StoredRendition(**EVERY_FIELD, key="renditions/i/compressed.webp")
    shown = RenditionOut.of(stored, saving=0.5, url="https://x/y").model_dump()
    assert shown == {**{SHOWN_NAMES.get(k, k): v for k, v in EVERY_FIELD.items()}, "saving": 0.5, "url": "https://x/y"}


def test_the_report_line_of_a_rendition_is_its_shown_description_but_its_name():
    report = ImageReport("png", "image/png", 30, 20, 9, 1, False, (RenditionInfo(**EVERY_FIELD),), {})
    line = json.loads(json.dumps(report.to_dict()))["renditions"]["compressed"]
    assert line == {SHOWN_NAMES.get(k, k): v for k, v in EVERY_FIELD.items() if k != "name"}


def test_a_field_missing_from_a_stored_form_takes_its_default_and_a_required_one_is_refused():
    plain = StoredRendition(**EVERY_FIELD, key="k").to_plain()
    assert StoredRendition.from_plain({k: v for k, v in plain.items() if k != "ssim"}).ssim is None
    with pytest.raises(KeyError, match="width"):
        StoredRendition.from_plain({k: v for k, v in plain.items() if k != "width"})


def test_a_field_of_a_type_the_plain_form_cannot_hold_is_refused_when_read():
    # GIVEN a description extended by a field that is not a plain value
    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Tagged(RenditionInfo):
        tags: tuple[str, ...] = ()

    # WHEN it is read from its plain form THEN the error names the field
    with pytest.raises(TypeError, match=r"^tags: "):
        Tagged.from_plain(Tagged(**EVERY_FIELD).to_plain())


def test_the_description_imports_nothing_heavy():
    code = "import sys, json\nimport lambdas.renditions\nprint(json.dumps(sorted(sys.modules)))"
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = {name.split(".")[0] for name in json.loads(output.stdout)}
    assert not loaded & {"PIL", "numpy", "pydantic", "fastapi", "boto3", "botocore"}


def _core_fields() -> dict[str, object]:
    """``EVERY_FIELD`` as the image core is given it: without the size, which it measures."""
    return {k: v for k, v in EVERY_FIELD.items() if k != "size"}
