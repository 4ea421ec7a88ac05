"""``imgmgr upload`` against a running server: a file that failed is retried, errors read as sentences."""

from __future__ import annotations

from typer.testing import CliRunner

from imgmgr.cli import app


def _run(server, api_key, *args):
    env = {"IMGMGR_ENDPOINT": server.url, "IMGMGR_API_KEY": api_key, "COLUMNS": "250"}
    return CliRunner().invoke(app, list(args), env=env)


def test_uploading_a_file_that_failed_again_retries_it(server, api_key, tmp_path):
    # GIVEN a file that is no image, uploaded once: it failed
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"these bytes are no picture at all " * 20)
    server.start()
    first = _run(server, api_key, "upload", str(broken), "--wait", "--timeout", "60")
    assert first.exit_code == 1, first.output
    assert "This file is not an image." in first.output
    # WHEN the same file is uploaded again
    second = _run(server, api_key, "upload", str(broken), "--wait", "--timeout", "60")
    # THEN it is retried (not skipped as a duplicate), and fails again in plain words (the same bytes)
    assert "0 uploaded, 0 duplicate(s) skipped, 0 failed, 1 retried" in second.output, second.output
    assert "failed: This file is not an image. (Image.NotAnImage)" in second.output
    assert second.exit_code == 1


def test_an_empty_file_is_refused_in_plain_words(server, api_key, tmp_path):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    server.start()
    result = _run(server, api_key, "upload", str(empty))
    assert result.exit_code == 1
    assert "The file is empty. (Request.Invalid)" in result.output
    assert "Input should be" not in result.output
