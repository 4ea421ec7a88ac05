"""The owner's organizing over the local adapters: edits (favorite, own tags, corrections), albums, batches."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

import lambdas.api.organize
from lambdas.api.body_limit import DEFAULT_MAX_BODY_BYTES
from lambdas.domain.labels import Label, Labeling
from tests.api.conftest import CHELSEA, COFFEE, declare, send, upload_and_process

ALBUM_ID = re.compile(r"^al_[0-9a-f]{24}$")


def _declared(client, headers, count: int, *, start: int = 0) -> list[str]:
    """``count`` images awaiting their upload (live, cheap: no bytes, no pipeline), oldest first."""
    ids = []
    for n in range(start, start + count):
        body = {"filename": f"{n}.png", "content_type": "image/png", "size": 10, "sha256": f"{n + 1:064x}"}
        response = client.post("/v1/uploads", json=body, headers=headers)
        assert response.status_code == 201, response.text
        ids.append(response.json()["image"]["id"])
    return ids


def _listed(client, headers, **params) -> list[str]:
    response = client.get("/v1/images", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def _album(client, headers, name: str = "Holidays") -> dict:
    response = client.post("/v1/albums", json={"name": name}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def _batch(client, headers, image_ids, action: str, **fields):
    return client.post("/v1/images/batch", json={"image_ids": image_ids, "action": action, **fields}, headers=headers)


# --- edits of one image ------------------------------------------------------------------------------------
def test_an_edit_marks_a_favorite_and_an_own_tag_is_shown_and_searched(client, runtime, alice):
    # GIVEN Chelsea, labelled Cat (Animal, Mammal, Pet) and Couch
    image_id = upload_and_process(client, runtime, alice)
    # WHEN alice marks it a favorite and tags it
    response = client.patch(
        f"/v1/images/{image_id}", json={"favorite": True, "add_tags": ["Grandma's sofa"]}, headers=alice
    )
    # THEN the image says so, the tag is among its tags, and it is found by the tag and its words
    assert response.status_code == 200, response.text
    image = response.json()
    assert (image["favorite"], image["user_tags"], image["removed_labels"]) == (True, ["Grandma's sofa"], [])
    assert "Grandma's sofa" in image["tags"]
    assert image["renditions"]  # the answer is the detail of the image, as GET gives it
    assert _listed(client, alice, label="grandma's sofa") == [image_id]
    assert _listed(client, alice, q="sofa") == [image_id]
    assert _listed(client, alice, favorite="true") == [image_id]
    assert client.get(f"/v1/images/{image_id}", headers=alice).json()["favorite"] is True


def test_a_removed_label_is_hidden_unsearched_and_its_category_leaves_the_counts(client, runtime, alice):
    image_id = upload_and_process(client, runtime, alice)
    # WHEN alice removes the Couch label as wrong
    image = client.patch(f"/v1/images/{image_id}", json={"remove_tags": ["couch"]}, headers=alice).json()
    # THEN it is neither shown nor searched, and its category is gone from the image and the counts
    assert [label["name"] for label in image["labels"]] == ["Cat"]
    assert image["removed_labels"] == ["couch"]
    assert "Couch" not in image["tags"] and "Furniture" not in image["tags"]
    assert image["categories"] == ["Animals and Pets"]
    assert _listed(client, alice, label="couch") == []
    assert _listed(client, alice, q="couch") == []
    counts = client.get("/v1/categories", headers=alice).json()["categories"]
    assert counts == [{"name": "Animals and Pets", "count": 1}]
    # AND adding it back restores it
    restored = client.patch(f"/v1/images/{image_id}", json={"add_tags": ["Couch"]}, headers=alice).json()
    assert restored["removed_labels"] == [] and "Furniture and Furnishings" in restored["categories"]


def test_a_correction_survives_categorization(client, runtime, alice):
    # GIVEN an image tagged Horse by its owner while it was still being processed
    answer = declare(client, alice).json()
    image_id, key = answer["image"]["id"], answer["upload"]["fields"]["key"]
    assert send(client, answer["upload"], CHELSEA.read_bytes()).status_code == 204
    for step in ("compress", "thumbnail"):
        assert runtime.pipeline.run_step(step, image_id, key)
    assert client.patch(f"/v1/images/{image_id}", json={"add_tags": ["Horse"]}, headers=alice).status_code == 200
    # WHEN categorize labels it (Cat, Couch), the owner removes Couch, and it is labelled again (a redrive)
    assert runtime.pipeline.run_step("categorize", image_id, key)
    assert client.patch(f"/v1/images/{image_id}", json={"remove_tags": ["Couch"]}, headers=alice).status_code == 200
    metadata = runtime.pipeline.ports.metadata
    current = metadata.get(image_id)
    couch = Label("Couch", 81.0, parents=("Furniture",), categories=("Furniture and Furnishings",))
    metadata.transition(current, current.categorized(at=current.updated_at, labeling=Labeling((couch,), "fake")))
    # THEN the image keeps both corrections: its own tag (a known label: its category too), no couch
    image = client.get(f"/v1/images/{image_id}", headers=alice).json()
    assert image["user_tags"] == ["Horse"] and "Horse" in image["tags"]
    assert image["labels"] == []
    assert "Animals and Pets" in image["categories"] and "Furniture and Furnishings" not in image["categories"]
    assert _listed(client, alice, label="horse") == [image_id]
    assert _listed(client, alice, label="couch") == []


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "Request.Invalid"),
        ({"favorite": None}, "Request.Invalid"),
        ({"add_tags": ["x" * 65]}, "Request.Invalid"),
        ({"add_tags": [""]}, "Request.Invalid"),
        ({"add_tags": [f"tag {n}" for n in range(41)]}, "Request.Invalid"),
        ({"remove_tags": "cat"}, "Request.Invalid"),
        ({"add_tags": ["   "]}, "Edit.Invalid"),
        ({"add_tags": ["bell\x07"]}, "Edit.Invalid"),
        ({"favorite": True, "labels": []}, "Request.Invalid"),
    ],
)
def test_an_edit_is_checked(client, alice, body, code):
    (image_id,) = _declared(client, alice, 1)
    response = client.patch(f"/v1/images/{image_id}", json=body, headers=alice)
    assert (response.status_code, response.json()["code"]) == (422, code)


def test_a_tag_too_long_is_named_in_words(client, alice):
    (image_id,) = _declared(client, alice, 1)
    response = client.patch(f"/v1/images/{image_id}", json={"add_tags": ["x" * 65]}, headers=alice)
    assert response.json()["detail"] == "The tag to add is too long (at most 64 characters)."


def test_own_tags_beyond_the_limit_are_refused_over_edits(client, alice):
    (image_id,) = _declared(client, alice, 1)
    first = client.patch(f"/v1/images/{image_id}", json={"add_tags": [f"a{n}" for n in range(40)]}, headers=alice)
    assert first.status_code == 200
    more = client.patch(f"/v1/images/{image_id}", json={"add_tags": ["one more"]}, headers=alice)
    assert (more.status_code, more.json()["code"]) == (422, "Edit.Invalid")


def test_an_edit_that_changes_nothing_writes_nothing(client, runtime, alice):
    (image_id,) = _declared(client, alice, 1)
    client.patch(f"/v1/images/{image_id}", json={"favorite": True}, headers=alice)
    version = runtime.pipeline.ports.metadata.get(image_id).version
    again = client.patch(f"/v1/images/{image_id}", json={"favorite": True}, headers=alice)
    assert again.status_code == 200
    assert runtime.pipeline.ports.metadata.get(image_id).version == version


def test_another_owners_image_cannot_be_edited_nor_seen_edited(client, alice, bob):
    (image_id,) = _declared(client, alice, 1)
    response = client.patch(f"/v1/images/{image_id}", json={"favorite": True}, headers=bob)
    assert (response.status_code, response.json()["code"]) == (404, "Image.NotFound")
    assert client.patch("/v1/images/nothing-here", json={"favorite": True}, headers=alice).status_code == 404
    client.patch(f"/v1/images/{image_id}", json={"favorite": True}, headers=alice)
    assert _listed(client, bob, favorite="true") == []


def test_a_deleted_image_cannot_be_edited(client, alice):
    (image_id,) = _declared(client, alice, 1)
    assert client.delete(f"/v1/images/{image_id}", headers=alice).status_code == 204
    response = client.patch(f"/v1/images/{image_id}", json={"favorite": True}, headers=alice)
    assert (response.status_code, response.json()["code"]) == (404, "Image.NotFound")


@pytest.mark.parametrize(
    "params",
    [
        {"favorite": "true", "category": "Animals and Pets"},
        {"favorite": "true", "label": "cat"},
        {"album": "al_" + "0" * 24, "label": "cat"},
        {"album": "al_" + "0" * 24, "favorite": "true"},
    ],
)
def test_favorite_and_album_exclude_category_label_and_each_other(client, alice, params):
    response = client.get("/v1/images", params=params, headers=alice)
    assert (response.status_code, response.json()["code"]) == (422, "Query.Invalid")
    assert "cannot be combined" in response.json()["detail"]


def test_favorite_false_filters_nothing(client, alice):
    ids = _declared(client, alice, 2)
    client.patch(f"/v1/images/{ids[0]}", json={"favorite": True}, headers=alice)
    assert _listed(client, alice, favorite="false") == ids[::-1]
    assert _listed(client, alice, favorite="true") == ids[:1]


# --- albums ------------------------------------------------------------------------------------------------
def test_an_album_is_created_listed_renamed_and_shown_with_its_count(client, alice):
    # WHEN alice creates two albums
    zoo = _album(client, alice, "  Zoo   trip ")
    beach = _album(client, alice, "beach")
    # THEN each has a generated id, its trimmed name, no image and no cover; the listing is by name
    assert ALBUM_ID.match(zoo["album_id"]) and zoo["album_id"] != beach["album_id"]
    assert (zoo["name"], zoo["count"], zoo["cover_image_id"], zoo["cover_url"]) == ("Zoo trip", 0, None, None)
    listed = client.get("/v1/albums", headers=alice).json()["items"]
    assert [album["name"] for album in listed] == ["beach", "Zoo trip"]
    # WHEN renamed THEN the new name is shown
    renamed = client.patch(f"/v1/albums/{zoo['album_id']}", json={"name": "Zoo"}, headers=alice)
    assert (renamed.status_code, renamed.json()["name"]) == (200, "Zoo")
    assert client.get(f"/v1/albums/{zoo['album_id']}", headers=alice).json()["name"] == "Zoo"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"name": ""}, 422, "Request.Invalid"),
        ({"name": "x" * 101}, 422, "Request.Invalid"),
        ({"name": "   "}, 422, "Edit.Invalid"),
        ({"name": "tab\there"}, 201, None),
        ({"name": "bell\x07"}, 422, "Edit.Invalid"),
        ({}, 422, "Request.Invalid"),
    ],
)
def test_an_album_name_is_checked(client, alice, body, status, code):
    response = client.post("/v1/albums", json=body, headers=alice)
    assert response.status_code == status
    assert response.json().get("code") == code


def test_an_owner_keeps_a_bounded_number_of_albums(client, alice, bob, monkeypatch):
    monkeypatch.setattr(lambdas.api.organize, "MAX_ALBUMS_PER_OWNER", 2)
    _album(client, alice, "one")
    _album(client, alice, "two")
    response = client.post("/v1/albums", json={"name": "three"}, headers=alice)
    assert (response.status_code, response.json()["code"]) == (409, "Album.TooMany")
    assert client.post("/v1/albums", json={"name": "bob's"}, headers=bob).status_code == 201


def test_an_albums_images_are_listed_newest_first_a_page_at_a_time(client, alice):
    # GIVEN five images in an album, and one outside it
    ids = _declared(client, alice, 6)
    album = _album(client, alice)
    assert _batch(client, alice, ids[:5], "add_to_album", album_id=album["album_id"]).status_code == 200
    # WHEN listing the album two at a time
    pages, cursor = [], None
    while True:
        params = {"album": album["album_id"], "limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get("/v1/images", params=params, headers=alice).json()
        pages.append([item["id"] for item in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    # THEN every image of the album comes once, newest first, and the album counts them
    assert pages == [ids[4:2:-1], ids[2:0:-1], ids[:1]]
    assert client.get(f"/v1/albums/{album['album_id']}", headers=alice).json()["count"] == 5
    # AND a page's cursor is refused for another filter
    first = client.get("/v1/images", params={"album": album["album_id"], "limit": 2}, headers=alice).json()
    other = client.get("/v1/images", params={"cursor": first["next_cursor"], "limit": 2}, headers=alice)
    assert (other.status_code, other.json()["code"]) == (400, "Cursor.Invalid")


def test_the_cover_is_the_chosen_image_else_the_newest(client, runtime, alice):
    # GIVEN an album with a processed image (thumbnails) and, newer, an image still awaited
    processed = upload_and_process(client, runtime, alice)
    (awaited,) = _declared(client, alice, 1)
    album = _album(client, alice)
    _batch(client, alice, [processed, awaited], "add_to_album", album_id=album["album_id"])
    album_path = f"/v1/albums/{album['album_id']}"
    # THEN without a chosen cover it is the newest image, which has no thumbnail yet
    shown = client.get(album_path, headers=alice).json()
    assert (shown["count"], shown["cover_image_id"], shown["cover_url"]) == (2, awaited, None)
    # WHEN the processed image is chosen THEN it is the cover, with its smallest thumbnail
    chosen = client.patch(album_path, json={"cover_image_id": processed}, headers=alice).json()
    image = client.get(f"/v1/images/{processed}", headers=alice).json()
    assert chosen["cover_image_id"] == processed
    assert chosen["cover_url"] is not None and chosen["cover_url"].split("?")[0] == image["thumbnail_url"].split("?")[0]
    assert client.get("/v1/albums", headers=alice).json()["items"][0]["cover_image_id"] == processed
    # WHEN the chosen cover leaves the album THEN the newest image shows again
    _batch(client, alice, [processed], "remove_from_album", album_id=album["album_id"])
    assert client.get(album_path, headers=alice).json()["cover_image_id"] == awaited
    # AND a null cover resets the choice
    reset = client.patch(album_path, json={"cover_image_id": None}, headers=alice).json()
    assert reset["cover_image_id"] == awaited


def test_a_cover_must_be_an_image_of_the_album(client, alice, bob):
    inside, outside = _declared(client, alice, 2)
    (bobs,) = _declared(client, bob, 1, start=10)
    album = _album(client, alice)
    _batch(client, alice, [inside], "add_to_album", album_id=album["album_id"])
    for image_id in (outside, bobs, "no-such-image"):
        response = client.patch(f"/v1/albums/{album['album_id']}", json={"cover_image_id": image_id}, headers=alice)
        assert (response.status_code, response.json()["code"]) == (422, "Album.CoverNotInAlbum")
    empty = client.patch(f"/v1/albums/{album['album_id']}", json={}, headers=alice)
    assert (empty.status_code, empty.json()["code"]) == (422, "Request.Invalid")


def test_deleting_an_album_keeps_its_images(client, runtime, alice):
    # GIVEN an album of three images (more than one page is read by the route: the page size is 100)
    ids = _declared(client, alice, 3)
    album = _album(client, alice)
    other = _album(client, alice, "other")
    _batch(client, alice, ids, "add_to_album", album_id=album["album_id"])
    _batch(client, alice, ids[:1], "add_to_album", album_id=other["album_id"])
    # WHEN it is deleted
    response = client.delete(f"/v1/albums/{album['album_id']}", headers=alice)
    # THEN the album is gone, the images stay (out of it, still in the other), the other album unchanged
    assert response.status_code == 204
    assert client.get(f"/v1/albums/{album['album_id']}", headers=alice).json()["code"] == "Album.NotFound"
    assert [a["album_id"] for a in client.get("/v1/albums", headers=alice).json()["items"]] == [other["album_id"]]
    assert _listed(client, alice) == ids[::-1]
    assert [client.get(f"/v1/images/{i}", headers=alice).json()["albums"] for i in ids] == [[other["album_id"]], [], []]
    assert client.get(f"/v1/albums/{other['album_id']}", headers=alice).json()["count"] == 1
    assert client.delete(f"/v1/albums/{album['album_id']}", headers=alice).status_code == 404


def test_another_owners_album_is_not_found_everywhere(client, alice, bob):
    album = _album(client, alice)
    (image_id,) = _declared(client, alice, 1)
    (bobs,) = _declared(client, bob, 1, start=10)
    _batch(client, alice, [image_id], "add_to_album", album_id=album["album_id"])
    path = f"/v1/albums/{album['album_id']}"
    answers = [
        client.get(path, headers=bob),
        client.patch(path, json={"name": "mine"}, headers=bob),
        client.delete(path, headers=bob),
        client.get("/v1/images", params={"album": album["album_id"]}, headers=bob),
        _batch(client, bob, [bobs], "add_to_album", album_id=album["album_id"]),
        _batch(client, bob, [image_id], "remove_from_album", album_id=album["album_id"]),
    ]
    assert [(a.status_code, a.json()["code"]) for a in answers] == [(404, "Album.NotFound")] * len(answers)
    assert client.get("/v1/albums", headers=bob).json() == {"items": []}
    # AND alice's album is as it was
    assert client.get(path, headers=alice).json()["name"] == "Holidays"
    assert _listed(client, alice, album=album["album_id"]) == [image_id]


def test_an_unknown_or_malformed_album_is_not_found(client, alice):
    for album_id in ("al_" + "f" * 24, "holidays", "al_XYZ"):
        assert client.get(f"/v1/albums/{album_id}", headers=alice).json()["code"] == "Album.NotFound"
        response = client.get("/v1/images", params={"album": album_id}, headers=alice)
        assert (response.status_code, response.json()["code"]) == (404, "Album.NotFound")


# --- batches -----------------------------------------------------------------------------------------------
def test_a_batch_answers_each_image_in_order_an_unknown_one_failing_alone(client, alice, bob):
    # GIVEN two images of alice's and one of bob's
    mine = _declared(client, alice, 2)
    (bobs,) = _declared(client, bob, 1, start=10)
    # WHEN alice favorites them with an unknown id among them
    response = _batch(client, alice, [mine[0], "nothing-here", bobs, mine[1]], "favorite")
    # THEN hers are favorites, the others are 404 each, in the order asked
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [(r["image_id"], r["status"], r["code"]) for r in results] == [
        (mine[0], 200, None),
        ("nothing-here", 404, "Image.NotFound"),
        (bobs, 404, "Image.NotFound"),
        (mine[1], 200, None),
    ]
    assert results[0]["image"]["favorite"] is True and results[1]["image"] is None
    assert _listed(client, alice, favorite="true") == mine[::-1]
    assert client.get(f"/v1/images/{bobs}", headers=bob).json()["favorite"] is False


def test_a_batch_tags_untags_and_unfavorites(client, alice):
    ids = _declared(client, alice, 2)
    tagged = _batch(client, alice, ids, "add_tags", tags=["Trip", "Summer"]).json()["results"]
    assert [r["image"]["user_tags"] for r in tagged] == [["Trip", "Summer"]] * 2
    assert "Summer" in tagged[0]["image"]["tags"]  # searched once ready (labels index ready images)
    untagged = _batch(client, alice, ids[:1], "remove_tags", tags=["trip"]).json()["results"]
    assert untagged[0]["image"]["user_tags"] == ["Summer"]
    _batch(client, alice, ids, "favorite")
    _batch(client, alice, ids[:1], "unfavorite")
    assert _listed(client, alice, favorite="true") == ids[1:]


def test_a_batch_reports_an_edit_an_image_cannot_take(client, alice):
    ids = _declared(client, alice, 2)
    client.patch(f"/v1/images/{ids[0]}", json={"add_tags": [f"a{n}" for n in range(40)]}, headers=alice)
    results = _batch(client, alice, ids, "add_tags", tags=["extra"]).json()["results"]
    assert [(r["status"], r["code"]) for r in results] == [(422, "Edit.Invalid"), (200, None)]


def test_a_batch_deletes_like_the_delete_route(client, runtime, alice, bob):
    # GIVEN a processed image, an awaited one and bob's
    processed = upload_and_process(client, runtime, alice)
    (awaited,) = _declared(client, alice, 1)
    (bobs,) = _declared(client, bob, 1, start=10)
    # WHEN alice deletes the three, and the first again
    results = _batch(client, alice, [processed, bobs, awaited], "delete").json()["results"]
    again = _batch(client, alice, [processed], "delete").json()["results"]
    # THEN hers are gone with their objects and counters; bob's is untouched; a repeat is 204 too
    assert [(r["status"], r["code"], r["image"]) for r in results] == [
        (204, None, None),
        (404, "Image.NotFound", None),
        (204, None, None),
    ]
    assert [r["status"] for r in again] == [204]
    assert _listed(client, alice) == []
    assert list(runtime.pipeline.ports.objects.list(f"renditions/{processed}/")) == []
    assert client.get("/v1/stats", headers=alice).json()["images"] == 0
    assert client.get(f"/v1/images/{bobs}", headers=bob).status_code == 200


def test_a_batch_into_an_album_and_out_of_it(client, alice):
    ids = _declared(client, alice, 3)
    album = _album(client, alice)
    added = _batch(client, alice, ids, "add_to_album", album_id=album["album_id"]).json()["results"]
    assert [r["image"]["albums"] for r in added] == [[album["album_id"]]] * 3
    _batch(client, alice, ids[:2], "remove_from_album", album_id=album["album_id"])
    assert _listed(client, alice, album=album["album_id"]) == ids[2:]
    assert client.get(f"/v1/albums/{album['album_id']}", headers=alice).json()["count"] == 1


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"image_ids": [], "action": "favorite"}, "at least 1"),
        ({"image_ids": [f"i{n}" for n in range(101)], "action": "favorite"}, "at most 100"),
        ({"image_ids": ["a", "a"], "action": "favorite"}, "more than once"),
        ({"image_ids": ["a"], "action": "paint"}, "must be one of"),
        ({"image_ids": ["a"], "action": "add_tags"}, "tags is missing"),
        ({"image_ids": ["a"], "action": "favorite", "tags": ["x"]}, "does not apply"),
        ({"image_ids": ["a"], "action": "add_to_album"}, "album id is missing"),
        ({"image_ids": ["a"], "action": "delete", "album_id": "al_" + "0" * 24}, "does not apply"),
        ({"image_ids": ["x" * 129], "action": "favorite"}, "too long"),
    ],
)
def test_a_batch_request_is_checked_as_a_whole(client, alice, body, detail):
    response = client.post("/v1/images/batch", json=body, headers=alice)
    assert (response.status_code, response.json()["code"]) == (422, "Request.Invalid")
    assert detail in response.json()["detail"]


def test_the_body_limit_applies_to_the_new_routes(client, alice):
    (image_id,) = _declared(client, alice, 1)
    big = {"add_tags": ["x" * 60] * (DEFAULT_MAX_BODY_BYTES // 60)}
    for method, path in (("PATCH", f"/v1/images/{image_id}"), ("POST", "/v1/images/batch"), ("POST", "/v1/albums")):
        response = client.request(method, path, json=big, headers=alice)
        assert (response.status_code, response.json()["code"]) == (413, "Request.TooLarge")


def test_the_new_routes_are_documented(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {"get", "delete", "patch"} <= paths["/v1/images/{image_id}"].keys()
    assert set(paths["/v1/albums"]) == {"get", "post"}
    assert set(paths["/v1/albums/{album_id}"]) == {"get", "patch", "delete"}
    assert set(paths["/v1/images/batch"]) == {"post"}
    assert {"favorite", "album"} <= {p["name"] for p in paths["/v1/images"]["get"]["parameters"]}


class _Interloper:
    """The store, except that another writer changes the record just before each of the first ``times``
    edits is written (as a pipeline step or a second tab would): those writes lose."""

    def __init__(self, store, times: int) -> None:
        self.store = store
        self.times = times

    def transition(self, current, updated):
        if self.times > 0:
            self.times -= 1
            latest = self.store.get(current.image_id)
            self.store.transition(latest, latest.corrected(at=latest.updated_at, add_tags=(f"other {self.times}",)))
        return self.store.transition(current, updated)

    def __getattr__(self, name: str):
        return getattr(self.store, name)


def _interloped(runtime, times: int) -> None:
    services = runtime.app.state.services
    runtime.app.state.services = replace(services, metadata=_Interloper(services.metadata, times))


def test_an_edit_that_loses_to_another_writer_is_applied_again_to_what_it_wrote(client, runtime, alice):
    (image_id,) = _declared(client, alice, 1)
    _interloped(runtime, 1)
    response = client.patch(f"/v1/images/{image_id}", json={"favorite": True}, headers=alice)
    # THEN the edit and the other writer's change are both kept
    assert response.status_code == 200, response.text
    assert (response.json()["favorite"], response.json()["user_tags"]) == (True, ["other 0"])


def test_an_edit_that_keeps_losing_is_a_conflict(client, runtime, alice):
    (image_id,) = _declared(client, alice, 1)
    _interloped(runtime, lambdas.api.organize.EDIT_ATTEMPTS)
    response = client.patch(f"/v1/images/{image_id}", json={"favorite": True}, headers=alice)
    assert (response.status_code, response.json()["code"]) == (409, "Record.Conflict")
    # AND in a batch, that image alone is the conflict
    (other,) = _declared(client, alice, 1, start=1)
    runtime.app.state.services.metadata.times = lambdas.api.organize.EDIT_ATTEMPTS
    results = _batch(client, alice, [image_id, other], "favorite").json()["results"]
    assert [(r["status"], r["code"]) for r in results] == [(409, "Record.Conflict"), (200, None)]


# --- near-duplicates ---------------------------------------------------------------------------------------
def test_a_resized_copy_is_listed_with_its_photo_as_near_duplicates_until_one_is_deleted(
    client, runtime, alice, bob, tmp_path
):
    from PIL import Image

    # GIVEN Chelsea, a copy at half size as JPEG, and another photo
    copy = tmp_path / "chelsea-small.jpg"
    with Image.open(CHELSEA) as image:
        image.convert("RGB").resize((image.width // 2, image.height // 2)).save(copy, "JPEG", quality=70)
    original = upload_and_process(client, runtime, alice)
    small = upload_and_process(client, runtime, alice, copy)
    upload_and_process(client, runtime, alice, COFFEE)
    # WHEN alice lists her near-duplicates THEN the two copies are one group, newest first
    response = client.get("/v1/duplicates", headers=alice)
    assert response.status_code == 200, response.text
    page = response.json()
    assert [[image["id"] for image in group["images"]] for group in page["groups"]] == [[small, original]]
    assert page["groups"][0]["group_id"] == original and page["next_cursor"] is None
    assert page["groups"][0]["images"][0]["duplicate_group"] == original
    # AND bob has none
    assert client.get("/v1/duplicates", headers=bob).json()["groups"] == []
    # WHEN the copy is deleted THEN the group of one is no longer listed
    assert _batch(client, alice, [small], "delete").json()["results"][0]["status"] == 204
    assert client.get("/v1/duplicates", headers=alice).json()["groups"] == []


def test_duplicate_pages_take_only_their_own_cursor_and_a_bounded_limit(client, alice, bob):
    assert client.get("/v1/duplicates", params={"limit": 51}, headers=alice).status_code == 422
    assert client.get("/v1/duplicates", params={"cursor": "forged"}, headers=alice).status_code == 400
    assert client.get("/v1/duplicates", headers={}).status_code == 401
