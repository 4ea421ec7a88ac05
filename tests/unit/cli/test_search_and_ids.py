"""The client commands over the in-process API: free-text search, empty results, full ids, id prefixes."""

from __future__ import annotations

from dataclasses import replace

from typer.testing import CliRunner

from imgmgr.cli import app
from lambdas.domain.labels import Label
from tests.api.conftest import CHELSEA, COFFEE
from tests.fakes import FakeLabeler
from tests.unit.cli.test_output import _upload, api  # noqa: F401 - the fixture

# Two ids with a common start, as long as the API's own (32 hex digits).
CAT_ID = "c0ffee00" + "1" * 24
CUP_ID = "c0ffee00" + "2" * 24


def _run(api, *args: str, columns: int = 80):  # noqa: F811 - the fixture
    _http, headers, _runtime = api
    return CliRunner().invoke(app, list(args), env={"IMGMGR_API_KEY": headers["x-api-key"], "COLUMNS": str(columns)})


def _two_images(api) -> None:  # noqa: F811
    """A ready cat (chelsea.png, Cat: Animal, Mammal, Pet; Couch) and a ready cup of coffee, known ids."""
    _http, _headers, runtime = api
    ids = iter([CAT_ID, CUP_ID])
    runtime.app.state.services = replace(runtime.app.state.services, new_id=lambda: next(ids))
    _upload(api, CHELSEA, "chelsea.png", process=True)
    cup = Label("Cup", 90.0, parents=("Tableware",), categories=("Kitchen and Dining",))
    runtime.pipeline.ports = replace(runtime.pipeline.ports, labeler=FakeLabeler([cup]))
    _upload(api, COFFEE, "a rather long file name of a cup of coffee on a table.png", process=True)


def test_ls_prints_every_id_whole_on_its_line_in_80_columns(api):  # noqa: F811
    # GIVEN two images WHEN listed in an 80-column terminal
    _two_images(api)
    result = _run(api, "ls")
    # THEN each full id is on one line, not wrapped or cut, and no line is wider than the terminal
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(CAT_ID in line for line in lines), result.output
    assert any(CUP_ID in line for line in lines), result.output
    assert max(len(line) for line in lines) <= 80


def test_search_finds_words_of_labels_parents_categories_and_file_names(api):  # noqa: F811
    _two_images(api)
    for words, expected in (("animals", CAT_ID), ("mammal", CAT_ID), ("chelsea", CAT_ID), ("coffee table", CUP_ID)):
        result = _run(api, "search", words, columns=200)
        assert result.exit_code == 0, result.output
        assert expected in result.output, (words, result.output)
        assert ({CAT_ID, CUP_ID} - {expected}).pop() not in result.output


def test_a_search_that_finds_nothing_says_so_and_succeeds(api):  # noqa: F811
    # GIVEN a cat WHEN searching a tabby THEN a sentence says nothing matched, and the exit code is 0
    _two_images(api)
    result = _run(api, "search", "tabby")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "No images match \u201ctabby\u201d."
    dated = _run(api, "search", "cat", "--to", "2000-01-01T00:00:00Z")
    assert dated.output.strip() == "No images match \u201ccat\u201d uploaded up to 2000-01-01T00:00:00Z."


def test_an_empty_listing_says_so(api):  # noqa: F811
    result = _run(api, "ls")
    assert (result.exit_code, result.output.strip()) == (0, "No images yet.")


def test_show_and_rm_take_a_unique_start_of_an_id(api):  # noqa: F811
    # GIVEN two images whose ids share "c0ffee00"
    _two_images(api)
    # WHEN shown by a unique start THEN that image is shown
    shown = _run(api, "show", "c0ffee001", columns=200)
    assert shown.exit_code == 0, shown.output
    assert "chelsea.png" in shown.output and CAT_ID in shown.output
    # WHEN removed by a unique start THEN that image, and only it, is gone
    removed = _run(api, "rm", "c0ffee002")
    assert removed.exit_code == 0, removed.output
    assert f"deleted {CUP_ID}" in removed.output
    assert CUP_ID not in _run(api, "ls", columns=200).output


def test_an_ambiguous_start_of_an_id_names_the_candidates(api):  # noqa: F811
    _two_images(api)
    result = _run(api, "show", "c0ffee", columns=200)
    assert result.exit_code == 1
    assert "Image.AmbiguousPrefix" in result.output
    assert CAT_ID in result.output and CUP_ID in result.output


def test_a_start_of_no_id_is_not_found(api):  # noqa: F811
    _two_images(api)
    result = _run(api, "show", "beef", columns=200)
    assert result.exit_code == 1
    assert "Image.NotFound" in result.output
    assert _run(api, "rm", "beef").exit_code == 1
