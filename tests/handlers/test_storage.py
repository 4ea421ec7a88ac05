"""Bytes stored once: the analysis JPEG that has its thumbnail's pixels shares the thumbnail's object."""

from __future__ import annotations

from lambdas.domain.records import new_record
from tests.handlers.conftest import BUCKET, envelope, s3_event

OWNER = "alice"
IMAGE_ID = "img-0091"


def test_the_analysis_jpeg_is_stored_once_under_its_thumbnails_key(aws, ports, handlers, context, photo):
    # GIVEN a photo taken through compress and thumbnail (the analysis edge is the 1024 thumbnail's)
    key = f"uploads/{OWNER}/{IMAGE_ID}/photo.jpg"
    ports.metadata.create(new_record(image_id=IMAGE_ID, owner=OWNER, filename="photo.jpg", at=ports.clock.now()))
    aws["s3"].put_object(Bucket=BUCKET, Key=key, Body=photo)
    event = s3_event(key, len(photo))
    handlers.thumbnail(envelope(event, handlers.compress(event, context), function="compress"), context)
    record = ports.metadata.get(IMAGE_ID)
    # THEN the analysis rendition points at the thumbnail's object, and only that object exists
    analysis, thumb = record.rendition("analysis"), record.rendition("thumb-1024")
    assert analysis.key == thumb.key == f"renditions/{IMAGE_ID}/thumb-1024.jpg"
    listed = aws["s3"].list_objects_v2(Bucket=BUCKET, Prefix=f"renditions/{IMAGE_ID}/")["Contents"]
    assert sorted(item["Key"].rsplit("/", 1)[1] for item in listed) == [
        "compressed.jpg",
        "thumb-1024.jpg",
        "thumb-256.jpg",
    ]
    # AND the usage counts those bytes once
    stored = {item["Key"]: item["Size"] for item in listed}
    assert ports.metadata.usage(OWNER).bytes_stored == len(photo) + sum(stored.values())
