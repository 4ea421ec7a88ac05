"""The client commands print what the API returns as plain text: a file name is never read as rich markup."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import imgmgr.cli
from imgmgr.cli import app
from imgmgr.client import ApiClient
from imgmgr.config import DataDir
from imgmgr.server import build_runtime
from tests.api.conftest import CHELSEA, COFFEE, declare, send
from tests.fakes import FakeLabeler

#: A name rich would print as "holiday.jpg" in red and bold, and one it would turn into a hyperlink (the API
#: keeps no "/" in a name, so none of them can break the markup parser: a local path can, see the last test).
STYLE_MARKUP = "[red]holiday[bold].jpg"
LINK_MARKUP = "[link=mailto:x@evil.example]cat.png"


@pytest.fixture
def api(tmp_path, monkeypatch):
    """The API in-process; the CLI's client talks to it. Yields the owner's headers and the runtime."""
    runtime = build_runtime(DataDir.resolve(tmp_path / "data"), labeler=FakeLabeler())
    key, _ = runtime.keys.create("alice")
    with TestClient(runtime.app, base_url="http://testserver") as http:
        monkeypatch.setattr(imgmgr.cli, "ApiClient", lambda endpoint, api_key: ApiClient(endpoint, api_key, http=http))
        yield http, {"x-api-key": key}, runtime


def _upload(api, path, filename: str, *, process: bool) -> str:
    http, headers, runtime = api
    answer = declare(http, headers, path, filename=filename).json()
    assert send(http, answer["upload"], path.read_bytes()).status_code == 204
    image_id = answer["image"]["id"]
    if process:
        for step in ("compress", "thumbnail", "categorize"):
            assert runtime.pipeline.run_step(step, image_id, answer["upload"]["fields"]["key"])
    return image_id


def _run(api, *args: str):
    _http, headers, _runtime = api
    env = {"IMGMGR_API_KEY": headers["x-api-key"], "COLUMNS": "200"}
    return CliRunner().invoke(app, list(args), env=env)


@pytest.mark.parametrize("command", [("ls",), ("search", "Animals and Pets")])
def test_listing_prints_file_names_as_they_are(api, command):
    # GIVEN ready images whose names look like rich markup
    _upload(api, CHELSEA, STYLE_MARKUP, process=True)
    _upload(api, COFFEE, LINK_MARKUP, process=True)
    # WHEN listing them THEN the command succeeds and prints both names verbatim
    result = _run(api, *command)
    assert result.exit_code == 0, result.output
    assert STYLE_MARKUP in result.output
    assert LINK_MARKUP in result.output


@pytest.mark.parametrize("filename", [STYLE_MARKUP, LINK_MARKUP])
def test_show_prints_the_file_name_as_it_is(api, filename):
    image_id = _upload(api, CHELSEA, filename, process=False)
    result = _run(api, "show", image_id)
    assert result.exit_code == 0, result.output
    assert filename in result.output


def test_an_error_detail_with_brackets_is_printed_as_it_is(api):
    # GIVEN an image id the API refuses, echoed back in the problem's detail
    result = _run(api, "show", "no[such]")
    # THEN the detail is printed as it is
    assert result.exit_code == 1
    assert "Image.NotFound: no image 'no[such]' for this key" in result.output


def test_the_upload_summary_prints_a_path_that_breaks_markup(api, tmp_path):
    # GIVEN a file under a directory named "trip[": its path holds "[/]", a closing tag matching nothing
    path = tmp_path / "trip[" / "]notes.txt"
    path.parent.mkdir()
    path.write_text("not an image")
    # WHEN uploading it THEN the summary names it (not a MarkupError) and the command exits 1 for the failure
    result = _run(api, "upload", str(path))
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert str(path) in result.output
    assert "not an image file type" in result.output
