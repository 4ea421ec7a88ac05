"""The image detail's EXIF summary and the listing's thumbnails (for a srcset)."""

from __future__ import annotations

import hashlib

from tests.api.conftest import send, upload_and_process
from tests.unit.imaging import imaging_samples as samples


def _process_jpeg(client, runtime, headers, data: bytes) -> str:
    body = {"filename": "x-t5.jpg", "content_type": "image/jpeg", "size": len(data)}
    answer = client.post("/v1/uploads", json={**body, "sha256": hashlib.sha256(data).hexdigest()}, headers=headers)
    assert send(client, answer.json()["upload"], data).status_code == 204
    image_id = answer.json()["image"]["id"]
    key = answer.json()["upload"]["fields"]["key"]
    for step in ("compress", "thumbnail", "categorize"):
        assert runtime.pipeline.run_step(step, image_id, key)
    return image_id


def test_detail_shows_camera_lens_and_exposure_of_a_jpeg_with_exif(client, runtime, alice):
    # GIVEN a processed JPEG carrying a camera's EXIF (and GPS, and a serial number)
    image_id = _process_jpeg(client, runtime, alice, samples.jpeg(640, 480, exif=samples.camera_exif()))
    # WHEN its detail is read
    exif = client.get(f"/v1/images/{image_id}", headers=alice).json()["exif"]
    # THEN the summary is there, without anything private; absent values are absent (null), not made up
    assert exif["make"] == "Fujifilm"
    assert exif["model"] == "X-T5"
    assert exif["lens"] == "XF35mmF1.4 R"
    assert (exif["exposure_time"], exif["f_number"], exif["iso"], exif["focal_length"]) == (0.004, 2.8, 400, 35.0)
    assert exif["taken_at"] == "2026-12-01T14:05:06+01:00"
    assert "SN123" not in str(exif)
    assert None not in exif.values()
    # AND the listing does not carry it (detail only)
    assert client.get("/v1/images", headers=alice).json()["items"][0]["exif"] is None


def test_an_image_without_exif_has_none(client, runtime, alice):
    image_id = upload_and_process(client, runtime, alice)
    assert client.get(f"/v1/images/{image_id}", headers=alice).json()["exif"] is None


def test_listed_images_carry_every_thumbnail_with_its_width_smallest_first(client, runtime, alice):
    upload_and_process(client, runtime, alice)
    item = client.get("/v1/images", headers=alice).json()["items"][0]
    widths = [t["width"] for t in item["thumbnails"]]
    assert len(widths) >= 2
    assert widths == sorted(widths)
    assert all(t["name"].startswith("thumb-") for t in item["thumbnails"])
    assert client.get(item["thumbnails"][-1]["url"]).status_code == 200


def test_openapi_documents_exif_and_thumbnails(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    image = schemas["ImageOut"]["properties"]
    assert {"exif", "thumbnails"} <= set(image)
    assert {"taken_at", "make", "model", "lens", "exposure_time", "f_number", "iso", "focal_length"} <= set(
        schemas["ExifOut"]["properties"]
    )
    assert set(schemas["ThumbnailOut"]["properties"]) == {"name", "width", "height", "url"}
