"""Uploads, listing, one image, deletion, counters: the routes' behaviour over the local adapters."""

from __future__ import annotations

import base64
import json
import re

import pytest

from tests.api.conftest import CHELSEA, COFFEE, declare, send, upload_and_process


def test_upload_returns_a_post_whose_policy_pins_key_type_and_size(client, alice):
    # WHEN declaring a PNG
    response = declare(client, alice)
    # THEN 201, a record awaiting its upload, and a policy pinning the key, the type and the size range
    assert response.status_code == 201
    body = response.json()
    assert body["duplicate"] is False
    assert body["image"]["status"] == "awaiting_upload"
    fields = body["upload"]["fields"]
    policy = json.loads(base64.b64decode(fields["policy"]))
    assert {"key": fields["key"]} in policy["conditions"]
    assert {"Content-Type": "image/png"} in policy["conditions"]
    assert ["content-length-range", 1, 2_000_000] in policy["conditions"]
    assert fields["key"].startswith("uploads/alice/" + body["image"]["id"] + "/")


def test_upload_keys_a_hostile_file_name_safely_and_shows_it_unchanged(client, alice):
    # GIVEN a file name with markup, spaces and a directory part
    name = "../<img src=x onerror=alert(1)> my cat.html"
    # WHEN declaring it
    body = declare(client, alice, filename=name).json()
    # THEN the key segment is safe and typed by the declared content, the display name kept for escaping
    key = body["upload"]["fields"]["key"]
    assert key.rsplit("/", 1)[-1] == "img-src=x-onerror=alert-1-my-cat.png"
    assert body["image"]["filename"] == "<img src=x onerror=alert(1)> my cat.html"


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"content_type": "text/html"}, 415, "Upload.TypeNotAllowed"),
        ({"size": 2_000_001}, 413, "Upload.TooLarge"),
        ({"size": 0}, 422, "Request.Invalid"),
        ({"filename": "x" * 256}, 422, "Request.Invalid"),
        ({"filename": "bad\x00name.png"}, 422, "Upload.FilenameInvalid"),
        ({"filename": "photos/"}, 422, "Upload.FilenameInvalid"),
        ({"filename": "bad\x85name.png"}, 422, "Upload.FilenameInvalid"),
        ({"filename": "holiday\u202egnp.exe"}, 422, "Upload.FilenameInvalid"),
        ({"filename": "a\u2067b.png"}, 422, "Upload.FilenameInvalid"),
        ({"sha256": "abc"}, 422, "Request.Invalid"),
        ({"extra": 1}, 422, "Request.Invalid"),
    ],
)
def test_upload_refuses_what_the_limits_do_not_allow(client, alice, change, status, code):
    body = {"filename": "a.png", "content_type": "image/png", "size": 10, "sha256": "a" * 64} | change
    response = client.post("/v1/uploads", json=body, headers=alice)
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert response.headers["content-type"].startswith("application/problem+json")


def test_exact_duplicate_answers_with_the_existing_image(client, runtime, alice):
    # GIVEN a processed image
    image_id = upload_and_process(client, runtime, alice)
    # WHEN the same bytes are declared again, under another name
    response = declare(client, alice, filename="copy.png")
    # THEN 200 with that image and nothing to upload
    assert response.status_code == 200
    assert response.json()["duplicate"] is True
    assert response.json()["image"]["id"] == image_id
    assert response.json()["upload"] is None


def test_redeclaring_bytes_that_never_arrived_reuses_the_record(client, alice):
    first = declare(client, alice).json()
    second = declare(client, alice)
    assert second.status_code == 201
    assert second.json()["image"]["id"] == first["image"]["id"]
    assert second.json()["upload"]["fields"]["key"] == first["upload"]["fields"]["key"]


def test_processed_image_shows_renditions_labels_and_categories(client, runtime, alice):
    image_id = upload_and_process(client, runtime, alice)
    image = client.get(f"/v1/images/{image_id}", headers=alice).json()
    assert image["status"] == "ready"
    assert (image["width"], image["height"]) == (451, 300)
    assert "Animals and Pets" in image["categories"]
    assert image["labels"][0]["name"] == "Cat"
    names = {r["name"] for r in image["renditions"]}
    assert {"compressed", "analysis"} <= names
    thumbnail = client.get(image["thumbnail_url"])
    assert thumbnail.status_code == 200
    assert thumbnail.headers["content-type"] == "image/jpeg"


def test_listing_filters_by_category_and_label(client, runtime, alice):
    image_id = upload_and_process(client, runtime, alice)
    by_category = client.get("/v1/images", params={"category": "Animals and Pets"}, headers=alice).json()
    by_label = client.get("/v1/images", params={"label": "cat"}, headers=alice).json()
    by_other = client.get("/v1/images", params={"category": "Vehicles and Automotive"}, headers=alice).json()
    assert [i["id"] for i in by_category["items"]] == [image_id]
    assert [i["id"] for i in by_label["items"]] == [image_id]
    assert by_other["items"] == []


def _search(client, headers, **params) -> list[str]:
    response = client.get("/v1/images", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def test_free_text_finds_labels_by_a_word_or_a_parent_categories_by_a_word_and_file_names(client, runtime, alice):
    # GIVEN Chelsea (chelsea.png) labelled Tabby Cat (parents Cat, Pet, Animal, Mammal) and a coffee cup
    from dataclasses import replace

    from lambdas.domain.labels import Label
    from tests.fakes import FakeLabeler

    tabby = Label("Tabby Cat", 97.0, parents=("Cat", "Pet", "Animal", "Mammal"), categories=("Animals and Pets",))
    runtime.pipeline.ports = replace(runtime.pipeline.ports, labeler=FakeLabeler([tabby]))
    cat = upload_and_process(client, runtime, alice)
    cup = Label("Coffee Cup", 92.0, parents=("Cup",), categories=("Kitchen and Dining",))
    runtime.pipeline.ports = replace(runtime.pipeline.ports, labeler=FakeLabeler([cup]))
    coffee = upload_and_process(client, runtime, alice, COFFEE)
    # WHEN searching by free text THEN each form finds its image
    assert _search(client, alice, q="tabby") == [cat]
    assert _search(client, alice, q="animals") == [cat]
    assert _search(client, alice, q="Mammal") == [cat]
    assert _search(client, alice, q="chelsea") == [cat]
    assert _search(client, alice, q="kitchen coffee") == [coffee]
    assert _search(client, alice, q="cup") == [coffee]
    # AND the other parameters still work beside it
    assert _search(client, alice, q="tabby", category="Animals and Pets") == [cat]
    assert _search(client, alice, q="tabby", category="Kitchen and Dining") == []
    assert _search(client, alice, label="tabby cat") == [cat]


def test_free_text_searches_a_synonym_as_the_label_it_stands_for(client, runtime, alice):
    # GIVEN Chelsea, a Cat on a Couch (the fake labeler's labels)
    cat = upload_and_process(client, runtime, alice)
    # WHEN searching synonyms of the labels THEN she is found, as by the labels' own words
    assert _search(client, alice, q="kitty") == [cat]
    assert _search(client, alice, q="Sofa kitties") == [cat]
    assert _search(client, alice, q="puppy") == []


def test_free_text_is_bounded_by_the_upload_date(client, runtime, alice):
    # GIVEN a cat uploaded now
    cat = upload_and_process(client, runtime, alice)
    uploaded = client.get(f"/v1/images/{cat}", headers=alice).json()["created_at"]
    # WHEN searching from its upload, or up to a day before THEN it is found, or not
    assert _search(client, alice, q="cat", **{"from": uploaded}) == [cat]
    assert _search(client, alice, q="cat", **{"to": "2000-01-01T00:00:00Z"}) == []


def test_free_text_that_matches_nothing_is_an_empty_page(client, runtime, alice, bob):
    # GIVEN a cat of alice WHEN bob searches it, or alice searches a dog THEN the page is empty
    upload_and_process(client, runtime, alice)
    assert _search(client, bob, q="cat") == []
    assert _search(client, alice, q="dog") == []


def test_listing_pages_newest_first_with_a_cursor(client, alice):
    ids = [
        declare(client, alice, CHELSEA if n == 0 else COFFEE, filename=f"{n}.png").json()["image"]["id"]
        for n in range(2)
    ]
    first = client.get("/v1/images", params={"limit": 1}, headers=alice).json()
    second = client.get("/v1/images", params={"limit": 1, "cursor": first["next_cursor"]}, headers=alice).json()
    assert [first["items"][0]["id"], second["items"][0]["id"]] == ids[::-1]
    assert second["next_cursor"] is None


def test_a_tampered_cursor_is_refused(client, alice):
    for name in ("a.png", "b.png"):
        declare(client, alice, COFFEE if name == "a.png" else CHELSEA, filename=name)
    cursor = client.get("/v1/images", params={"limit": 1}, headers=alice).json()["next_cursor"]
    payload, signature = cursor.split(".")
    forged = base64.urlsafe_b64encode(base64.urlsafe_b64decode(payload + "==").replace(b"alice", b"bobby")).rstrip(b"=")
    response = client.get("/v1/images", params={"cursor": forged.decode() + "." + signature}, headers=alice)
    assert (response.status_code, response.json()["code"]) == (400, "Cursor.Invalid")


def test_a_cursor_cannot_be_used_by_another_owner_or_with_other_filters(client, alice, bob):
    for path in (CHELSEA, COFFEE):
        declare(client, alice, path)
    cursor = client.get("/v1/images", params={"limit": 1}, headers=alice).json()["next_cursor"]
    as_bob = client.get("/v1/images", params={"cursor": cursor}, headers=bob)
    other_filter = client.get("/v1/images", params={"cursor": cursor, "status": "ready"}, headers=alice)
    assert (as_bob.status_code, as_bob.json()["code"]) == (400, "Cursor.Invalid")
    assert (other_filter.status_code, other_filter.json()["code"]) == (400, "Cursor.Invalid")


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"limit": 101}, "Request.Invalid"),
        ({"category": "Animals and Pets", "label": "cat"}, "Query.Invalid"),
        ({"from": "2026-01-01T00:00:00"}, "Query.Invalid"),
        ({"to": "1.1"}, "Query.Invalid"),
        ({"from": "1767225600"}, "Query.Invalid"),
        ({"status": "deleted"}, "Query.Invalid"),
        ({"q": "x" * 201}, "Request.Invalid"),
        ({"q": "one two three four five six seven eight nine"}, "Query.Invalid"),
        ({"q": "and the"}, "Query.Invalid"),
    ],
)
def test_listing_refuses_bad_queries(client, alice, params, code):
    response = client.get("/v1/images", params=params, headers=alice)
    assert response.status_code in (400, 422)
    assert response.json()["code"] == code


def test_delete_removes_objects_record_and_counters(client, runtime, alice):
    # GIVEN a processed image
    image_id = upload_and_process(client, runtime, alice)
    assert client.get("/v1/stats", headers=alice).json()["images"] == 1
    # WHEN deleting it
    response = client.delete(f"/v1/images/{image_id}", headers=alice)
    # THEN nothing of it is left: objects, record (404), counters
    assert response.status_code == 204
    assert list(runtime.pipeline.ports.objects.list("uploads/")) == []
    assert list(runtime.pipeline.ports.objects.list(f"renditions/{image_id}/")) == []
    assert client.get(f"/v1/images/{image_id}", headers=alice).status_code == 404
    assert client.get("/v1/stats", headers=alice).json() == {"images": 0, "bytes_stored": 0, "bytes_saved": 0}
    assert client.get("/v1/categories", headers=alice).json() == {"categories": []}


def test_delete_can_be_repeated(client, runtime, alice):
    image_id = upload_and_process(client, runtime, alice)
    assert client.delete(f"/v1/images/{image_id}", headers=alice).status_code == 204
    assert client.delete(f"/v1/images/{image_id}", headers=alice).status_code == 204


def test_categories_and_stats_count_the_owners_ready_images(client, runtime, alice):
    upload_and_process(client, runtime, alice)
    categories = client.get("/v1/categories", headers=alice).json()["categories"]
    stats = client.get("/v1/stats", headers=alice).json()
    assert {"name": "Animals and Pets", "count": 1} in categories
    assert stats["images"] == 1
    assert stats["bytes_stored"] > CHELSEA.stat().st_size
    assert stats["bytes_saved"] > 0


def test_unknown_route_is_a_problem(client):
    response = client.get("/v1/nothing-here")
    assert (response.status_code, response.json()["code"]) == (404, "Route.NotFound")


def test_the_api_reference_is_served_with_its_own_relative_assets_only(client):
    # GIVEN the reference page, open without a key like the web page
    page = client.get("/docs")
    assert page.status_code == 200 and "default-src 'none'" in page.headers["content-security-policy"]
    script = client.get("/static/docs.js")
    assert script.status_code == 200
    # THEN it loads nothing from elsewhere (no CDN: it works offline) and nothing from the host's root
    # (absolute paths would leave an API Gateway stage such as /prod/docs)
    for text in (page.text, script.text):
        assert "http://" not in text and "https://" not in text and "//cdn" not in text
        assert not re.search(r"""(src|href)="/|fetch\(["']/""", text)
    assert 'fetch("openapi.json"' in script.text


def test_openapi_documents_the_routes_and_the_key(client):
    document = client.get("/openapi.json").json()
    assert {"/v1/uploads", "/v1/images", "/v1/images/{image_id}", "/v1/categories", "/v1/stats", "/v1/health"} <= set(
        document["paths"]
    )
    assert document["components"]["securitySchemes"]["APIKeyHeader"]["name"] == "x-api-key"


def test_web_page_is_served_with_a_strict_content_security_policy(client):
    page = client.get("/")
    script = client.get("/static/app.js")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert '<script src="static/app.js"' in page.text
    assert not any(sink in script.text for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"))


def test_upload_endpoint_stores_the_file_and_queues_compress(client, runtime, alice):
    answer = declare(client, alice).json()
    response = send(client, answer["upload"], CHELSEA.read_bytes())
    assert response.status_code == 204
    assert runtime.pipeline.ports.objects.get(answer["upload"]["fields"]["key"]) == CHELSEA.read_bytes()
    assert runtime.queue.counts().pending == 1


def test_bytes_that_arrived_but_wait_for_the_pipeline_are_a_duplicate(client, alice):
    # GIVEN an upload received and not yet processed (no worker runs here)
    first = declare(client, alice).json()
    send(client, first["upload"], CHELSEA.read_bytes())
    # WHEN the same bytes are declared again
    response = declare(client, alice)
    # THEN nothing is to be uploaded
    assert response.status_code == 200
    assert response.json()["duplicate"] is True
    assert response.json()["image"]["id"] == first["image"]["id"]


def test_an_image_parked_after_its_last_attempt_is_shown_as_no_longer_retrying(client, runtime, alice):
    # GIVEN an image whose categorize step hits a bug on every attempt the local queue makes
    from dataclasses import replace

    answer = declare(client, alice).json()
    assert send(client, answer["upload"], CHELSEA.read_bytes()).status_code == 204
    image_id, key = answer["image"]["id"], answer["upload"]["fields"]["key"]
    for step in ("compress", "thumbnail"):
        assert runtime.pipeline.run_step(step, image_id, key)

    class Broken:
        def detect(self, image):
            raise KeyError("Labels")

    runtime.pipeline.ports = replace(runtime.pipeline.ports, labeler=Broken())
    attempts = runtime.queue.max_attempts
    shown = []
    for _attempt in range(attempts):
        with pytest.raises(KeyError):
            runtime.pipeline.run_step("categorize", image_id, key)
        shown.append(client.get(f"/v1/images/{image_id}", headers=alice).json()["failure"])
    # THEN until the last attempt the page keeps watching (retryable); the last one parks it: no longer
    # retrying, so the page and the CLI stop polling, and it says an operator's redrive is needed
    assert [(f["retryable"], f["parked"]) for f in shown] == [(True, False)] * (attempts - 1) + [(False, True)]
    assert shown[-1]["code"] == "Pipeline.InternalError"
