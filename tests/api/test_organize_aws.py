"""The owner's organizing in Lambda (Mangum behind API Gateway) over moto's S3 and DynamoDB."""

from __future__ import annotations

from dataclasses import replace

from lambdas import config, steps
from tests.api.conftest import CHELSEA
from tests.api.test_api_aws import BUCKET, aws, call, declare  # noqa: F401 - the fixture
from tests.fakes import FakeLabeler


def _processed(s3) -> str:
    """Chelsea declared by alice, put in S3 and taken through the three steps (moto runs no Lambda)."""
    _status, _headers, body = declare()
    key, image_id = body["upload"]["fields"]["key"], body["image"]["id"]
    s3.put_object(Bucket=BUCKET, Key=key, Body=CHELSEA.read_bytes(), ContentType="image/png")
    ports = replace(config.aws_ports(), labeler=FakeLabeler())
    steps.compress(ports, key)
    steps.thumbnail(ports, image_id)
    steps.categorize(ports, image_id)
    return image_id


def _ids(query: dict, key_id: str = "alice-key") -> list[str]:
    status, _h, page = call("GET", "/v1/images", key_id=key_id, query=query)
    assert status == 200, page
    return [item["id"] for item in page["items"]]


def test_edits_favorites_and_corrections_over_dynamodb(aws):  # noqa: F811
    # GIVEN Chelsea, labelled Cat and Couch
    image_id = _processed(aws)
    # WHEN alice favorites it, tags it and removes the Couch label; bob tries to edit it
    status, _h, image = call(
        "PATCH",
        f"/v1/images/{image_id}",
        body={"favorite": True, "add_tags": ["Grandma's garden"], "remove_tags": ["couch"]},
    )
    bob_status, _h, bob_body = call("PATCH", f"/v1/images/{image_id}", key_id="bob-key", body={"favorite": False})
    # THEN the image shows the corrections and is found by them, never by the removed label; bob gets 404
    assert status == 200, image
    assert (image["favorite"], image["user_tags"], image["removed_labels"]) == (True, ["Grandma's garden"], ["couch"])
    assert [label["name"] for label in image["labels"]] == ["Cat"]
    assert "Furniture and Furnishings" not in image["categories"]
    assert _ids({"favorite": "true"}) == [image_id]
    assert _ids({"label": "grandma's garden"}) == [image_id]
    assert _ids({"q": "garden"}) == [image_id]
    assert _ids({"label": "couch"}) == []
    assert _ids({"favorite": "true"}, key_id="bob-key") == []
    assert (bob_status, bob_body["code"]) == (404, "Image.NotFound")
    _s, _h, counts = call("GET", "/v1/categories")
    assert counts == {"categories": [{"name": "Animals and Pets", "count": 1}]}


def test_albums_and_batches_over_dynamodb(aws):  # noqa: F811
    # GIVEN a processed image and an album of alice's
    image_id = _processed(aws)
    status, _h, album = call("POST", "/v1/albums", body={"name": "Cats"})
    assert status == 201, album
    album_id = album["album_id"]
    # WHEN alice adds her image and an unknown id in one batch; bob tries his own batch into her album
    status, _h, batch = call(
        "POST",
        "/v1/images/batch",
        body={"image_ids": [image_id, "nothing-here"], "action": "add_to_album", "album_id": album_id},
    )
    bob_status, _h, bob_body = call(
        "POST",
        "/v1/images/batch",
        key_id="bob-key",
        body={"image_ids": [image_id], "action": "add_to_album", "album_id": album_id},
    )
    # THEN her image is in it (its count, its cover with a presigned thumbnail), the unknown id alone failed
    assert status == 200, batch
    assert [(r["status"], r["code"]) for r in batch["results"]] == [(200, None), (404, "Image.NotFound")]
    assert (bob_status, bob_body["code"]) == (404, "Album.NotFound")
    assert _ids({"album": album_id}) == [image_id]
    _s, _h, listed = call("GET", "/v1/albums")
    (shown,) = listed["items"]
    assert (shown["count"], shown["cover_image_id"]) == (1, image_id)
    assert "X-Amz-Signature=" in shown["cover_url"]
    _s, _h, chosen = call("PATCH", f"/v1/albums/{album_id}", body={"cover_image_id": image_id, "name": "Cat"})
    assert (chosen["name"], chosen["cover_image_id"]) == ("Cat", image_id)
    # WHEN the album is deleted THEN the image stays, out of it
    assert call("DELETE", f"/v1/albums/{album_id}")[0] == 204
    _s, _h, image = call("GET", f"/v1/images/{image_id}")
    assert image["albums"] == []
    assert call("GET", f"/v1/albums/{album_id}")[0] == 404
    # AND a batch delete purges the image's objects from the bucket
    _s, _h, deleted = call("POST", "/v1/images/batch", body={"image_ids": [image_id], "action": "delete"})
    assert [r["status"] for r in deleted["results"]] == [204]
    assert aws.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0


def test_an_albums_images_page_newest_first_over_dynamodb(aws):  # noqa: F811
    # GIVEN three awaited images of alice's (live: albums list them in any state) in an album
    ids = []
    for n in range(3):
        body = {"filename": f"{n}.png", "content_type": "image/png", "size": 10, "sha256": f"{n + 1:064x}"}
        ids.append(call("POST", "/v1/uploads", body=body)[2]["image"]["id"])
    album_id = call("POST", "/v1/albums", body={"name": "Few"})[2]["album_id"]
    call("POST", "/v1/images/batch", body={"image_ids": ids, "action": "add_to_album", "album_id": album_id})
    # WHEN listed two at a time THEN every image comes once, newest first
    _s, _h, first = call("GET", "/v1/images", query={"album": album_id, "limit": "2"})
    _s, _h, second = call("GET", "/v1/images", query={"album": album_id, "limit": "2", "cursor": first["next_cursor"]})
    assert [i["id"] for i in first["items"]] + [i["id"] for i in second["items"]] == ids[::-1]
    assert second["next_cursor"] is None
    assert call("GET", f"/v1/albums/{album_id}")[2]["count"] == 3
