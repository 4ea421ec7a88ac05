"""The client commands against a running server: recursive upload with dedup, search, show, rm."""

from __future__ import annotations

import shutil

from typer.testing import CliRunner

from imgmgr.cli import app
from tests.e2e.support import CHELSEA, PHOTOS


def _run(server, api_key, *args):
    env = {"IMGMGR_ENDPOINT": server.url, "IMGMGR_API_KEY": api_key, "COLUMNS": "200"}
    return CliRunner().invoke(app, list(args), env=env)


def test_upload_of_a_directory_skips_duplicates_and_hidden_files(server, api_key, tmp_path):
    # GIVEN a directory with a photo, the same photo in a subdirectory, another photo, a hidden one and a text file
    photos = tmp_path / "photos"
    (photos / "again").mkdir(parents=True)
    (photos / ".cache").mkdir()
    shutil.copy(CHELSEA, photos / "cat.png")
    shutil.copy(CHELSEA, photos / "again" / "cat-copy.png")
    shutil.copy(PHOTOS / "coffee.png", photos / "coffee.png")
    shutil.copy(PHOTOS / "rocket.jpg", photos / ".cache" / "rocket.jpg")
    (photos / "notes.txt").write_text("not an image")
    server.start()
    # WHEN uploading the directory, twice
    first = _run(server, api_key, "upload", str(photos), "--wait", "--timeout", "60")
    second = _run(server, api_key, "upload", str(photos))
    # THEN the first uploads two images and skips the copy; the second uploads nothing
    assert first.exit_code == 0, first.output
    assert "2 uploaded, 1 duplicate(s) skipped, 0 failed" in first.output
    assert second.exit_code == 0, second.output
    assert "0 uploaded, 3 duplicate(s) skipped, 0 failed" in second.output


def test_search_show_and_rm(server, api_key):
    server.start()
    assert _run(server, api_key, "upload", str(CHELSEA), "--wait").exit_code == 0
    # WHEN searching by category name and by label
    by_category = _run(server, api_key, "search", "animals and pets", "--json")
    by_label = _run(server, api_key, "search", "cat", "--json")
    import json

    (image,) = json.loads(by_category.output)
    assert [i["id"] for i in json.loads(by_label.output)] == [image["id"]]
    # AND showing it
    shown = _run(server, api_key, "show", image["id"])
    assert "Animals and Pets" in shown.output
    assert "compressed" in shown.output
    # WHEN removing it THEN it is gone
    assert _run(server, api_key, "rm", image["id"]).exit_code == 0
    assert json.loads(_run(server, api_key, "ls", "--json").output) == []
    missing = _run(server, api_key, "show", image["id"])
    assert missing.exit_code == 1
    assert "Image.NotFound" in missing.output
