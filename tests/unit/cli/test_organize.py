"""The organizing commands over the in-process API: fav, unfav, tag, album, rm of several, ls filters."""

from __future__ import annotations

import json

from tests.unit.cli.test_output import api  # noqa: F401 - the fixture
from tests.unit.cli.test_search_and_ids import CAT_ID, CUP_ID, _run, _two_images


def _ls(api, *args: str) -> list[str]:  # noqa: F811
    result = _run(api, "ls", "--json", *args)
    assert result.exit_code == 0, result.output
    return [item["id"] for item in json.loads(result.output)]


def _album_id(output: str) -> str:
    return output.strip().rsplit(": ", 1)[1]


def test_fav_and_unfav_take_starts_of_ids_and_say_which_failed(api):  # noqa: F811
    # GIVEN a cat and a cup whose ids share "c0ffee00"
    _two_images(api)
    # WHEN both are marked by unique starts, with an unknown and an ambiguous one among them
    result = _run(api, "fav", "c0ffee001", CUP_ID, "beef", "c0ffee", columns=200)
    # THEN both are favorites, the two others are named with their reasons, and the exit code says so
    assert result.exit_code == 1
    assert f"{CAT_ID}: favorite" in result.output and f"{CUP_ID}: favorite" in result.output
    assert "beef:" in result.output and "Image.NotFound" in result.output
    assert "c0ffee:" in result.output and "Image.AmbiguousPrefix" in result.output
    assert _ls(api, "--favorites") == [CUP_ID, CAT_ID]
    # WHEN one is unmarked THEN only the other is left
    unmarked = _run(api, "unfav", "c0ffee002", columns=200)
    assert (unmarked.exit_code, unmarked.output.strip()) == (0, f"{CUP_ID}: not a favorite")
    assert _ls(api, "--favorites") == [CAT_ID]


def test_tag_adds_own_tags_and_removes_a_wrong_label(api):  # noqa: F811
    # GIVEN the cat, labelled Cat and Couch
    _two_images(api)
    # WHEN tagged with an own tag and the Couch label removed
    result = _run(api, "tag", "c0ffee001", "--add", "Grandma's sofa", "--remove", "couch", columns=200)
    # THEN the tags printed are the corrected ones, and show tells the corrections apart
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"{CAT_ID}: tags: ")
    assert "Grandma's sofa" in result.output and "Couch" not in result.output
    shown = _run(api, "show", CAT_ID, columns=200).output
    assert "your tags: Grandma's sofa" in shown and "removed labels: couch" in shown
    assert _ls(api, "--label", "grandma's sofa") == [CAT_ID]
    assert _ls(api, "--label", "couch") == []
    # AND removing alone works too; a tag command without a tag is refused
    assert "Grandma" not in _run(api, "tag", CAT_ID, "--remove", "grandma's sofa", columns=200).output
    assert _run(api, "tag", CAT_ID).exit_code == 2


def test_albums_are_made_filled_shown_renamed_and_removed_by_name_or_id(api):  # noqa: F811
    _two_images(api)
    # WHEN alice makes an album and puts both images into it by starts of their ids
    created = _run(api, "album", "create", "Kitchen and cat", columns=200)
    assert created.exit_code == 0, created.output
    album_id = _album_id(created.output)
    added = _run(api, "album", "add", "kitchen AND cat", "c0ffee001", "c0ffee002", columns=200)
    # THEN it holds both, by name or id, newest first
    assert added.exit_code == 0, added.output
    assert f"{CAT_ID}: in 'Kitchen and cat'" in added.output
    assert _ls(api, "--album", "Kitchen and cat") == [CUP_ID, CAT_ID]
    listed = json.loads(_run(api, "album", "ls", "--json").output)
    assert [(a["album_id"], a["count"], a["cover_image_id"]) for a in listed] == [(album_id, 2, CUP_ID)]
    shown = _run(api, "album", "show", album_id, columns=200)
    assert "Kitchen and cat" in shown.output and "2 image(s)" in shown.output and CAT_ID in shown.output
    assert f"Kitchen and cat ({album_id})" in _run(api, "show", CAT_ID, columns=200).output
    # WHEN one is taken out, the album renamed and chosen a cover
    assert _run(api, "album", "remove", album_id, CUP_ID).exit_code == 0
    assert _run(api, "album", "rename", album_id, "Cat").exit_code == 0
    covered = _run(api, "album", "cover", "cat", "c0ffee001", columns=200)
    assert covered.exit_code == 0, covered.output
    # THEN it shows so
    (album,) = json.loads(_run(api, "album", "ls", "--json").output)
    assert (album["name"], album["count"], album["cover_image_id"]) == ("Cat", 1, CAT_ID)
    # WHEN it is deleted THEN the images stay
    removed = _run(api, "album", "rm", "Cat", columns=200)
    assert removed.exit_code == 0, removed.output
    assert "its 1 image(s) stay" in removed.output
    assert _run(api, "album", "ls").output.strip().startswith("No albums yet")
    assert _ls(api) == [CUP_ID, CAT_ID]


def test_an_album_named_by_an_ambiguous_or_unknown_name_is_refused(api):  # noqa: F811
    _run(api, "album", "create", "Trip")
    _run(api, "album", "create", "trip")
    ambiguous = _run(api, "album", "show", "TRIP", columns=200)
    assert ambiguous.exit_code == 1
    assert "Album.AmbiguousName" in ambiguous.output and "give its ID" in ambiguous.output
    unknown = _run(api, "ls", "--album", "Holidays", columns=200)
    assert unknown.exit_code == 1 and "Album.NotFound" in unknown.output


def test_rm_deletes_several_at_once_and_names_those_it_could_not(api):  # noqa: F811
    _two_images(api)
    result = _run(api, "rm", CAT_ID, "c0ffee002", "nothing-here", columns=200)
    assert result.exit_code == 1
    assert f"deleted {CAT_ID}" in result.output and f"deleted {CUP_ID}" in result.output
    assert "nothing-here:" in result.output and "Image.NotFound" in result.output
    assert _ls(api) == []


def test_duplicates_prints_each_group_of_copies_and_says_when_there_are_none(api, tmp_path):  # noqa: F811
    from PIL import Image

    from tests.api.conftest import CHELSEA
    from tests.unit.cli.test_output import _upload

    # GIVEN no images THEN there is nothing to show, in words
    empty = _run(api, "duplicates", columns=200)
    assert (empty.exit_code, empty.output.strip()) == (0, "No near-duplicates found.")
    # GIVEN Chelsea and a copy at half size
    copy = tmp_path / "copy.jpg"
    with Image.open(CHELSEA) as image:
        image.convert("RGB").resize((image.width // 2, image.height // 2)).save(copy, "JPEG", quality=70)
    original = _upload(api, CHELSEA, "chelsea.png", process=True)
    small = _upload(api, copy, "copy.jpg", process=True)
    # WHEN listed THEN one group shows both, the newest first, with their pixels
    result = _run(api, "duplicates", columns=200)
    assert result.exit_code == 0, result.output
    assert "group 1: 2 copies" in result.output
    assert result.output.index(small) < result.output.index(original)
    assert "451x300" in result.output and "225x150" in result.output
