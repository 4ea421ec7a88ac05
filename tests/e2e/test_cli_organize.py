"""The organizing commands against a running server: favorites, own tags, an album, several deleted at once."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from imgmgr.cli import app
from tests.e2e.support import CHELSEA, PHOTOS


def _run(server, api_key, *args):
    env = {"IMGMGR_ENDPOINT": server.url, "IMGMGR_API_KEY": api_key, "COLUMNS": "200"}
    return CliRunner().invoke(app, list(args), env=env)


def test_favorite_tag_album_and_remove_several(server, api_key):
    # GIVEN two processed photos
    server.start()
    assert _run(server, api_key, "upload", str(CHELSEA), str(PHOTOS / "coffee.png"), "--wait").exit_code == 0
    listed = json.loads(_run(server, api_key, "ls", "--json").output)
    by_name = {item["filename"]: item["id"] for item in listed}
    cat, cup = by_name["chelsea.png"], by_name["coffee.png"]
    newest_first = [item["id"] for item in listed]  # uploaded at once: either may be the newer
    # WHEN the cat is a favorite tagged by its owner, and both go into an album
    assert _run(server, api_key, "fav", cat[:8]).exit_code == 0
    assert _run(server, api_key, "tag", cat, "--add", "Grandma's sofa").exit_code == 0
    assert _run(server, api_key, "album", "create", "Home").exit_code == 0
    assert _run(server, api_key, "album", "add", "home", cat, cup).exit_code == 0
    # THEN each listing finds them
    assert [i["id"] for i in json.loads(_run(server, api_key, "ls", "--favorites", "--json").output)] == [cat]
    assert [i["id"] for i in json.loads(_run(server, api_key, "search", "sofa", "--json").output)] == [cat]
    shown = json.loads(_run(server, api_key, "album", "show", "Home", "--json").output)
    assert (shown["album"]["count"], [i["id"] for i in shown["images"]]) == (2, newest_first)
    # WHEN both are removed at once THEN the album is empty and stays
    assert _run(server, api_key, "rm", cat, cup).exit_code == 0
    (album,) = json.loads(_run(server, api_key, "album", "ls", "--json").output)
    assert (album["name"], album["count"], album["cover_image_id"]) == ("Home", 0, None)
