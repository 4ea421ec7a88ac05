"""The thumbnail step stores the perceptual hash of the image it decoded, in both stores, from one decode."""

from __future__ import annotations

from PIL import ImageFile

from imgmgr.adapters.events import JsonlEventSink
from imgmgr.adapters.files import FileObjectStore
from imgmgr.adapters.sqlite import SqliteMetadataStore
from lambdas import imaging, steps
from lambdas.domain.records import new_record
from lambdas.imaging import phash
from tests.fakes import FakeClock, FakeLabeler
from tests.handlers.conftest import BUCKET, envelope, s3_event

OWNER = "alice"
IMAGE_ID = "img-0107"
KEY = f"uploads/{OWNER}/{IMAGE_ID}/photo.jpg"


def _local_ports(tmp_path) -> steps.Ports:
    return steps.Ports(
        objects=FileObjectStore(tmp_path / "data"),
        metadata=SqliteMetadataStore(tmp_path / "meta.sqlite3"),
        labeler=FakeLabeler(),
        events=JsonlEventSink(tmp_path / "events"),
        clock=FakeClock(tick_seconds=1),
    )


def test_the_thumbnail_step_stores_the_hash_of_its_source_locally(tmp_path, photo):
    # GIVEN a photo compressed on the local adapters, its record not hashed yet
    ports = _local_ports(tmp_path)
    ports.objects.put(KEY, photo, content_type="image/jpeg")
    steps.compress(ports, KEY)
    assert ports.metadata.get(IMAGE_ID).phash is None
    # WHEN the thumbnail step runs
    assert steps.thumbnail(ports, IMAGE_ID).outcome is steps.Outcome.DONE
    # THEN the stored record has the hash of the compressed rendition it derived the thumbnails from
    record = ports.metadata.get(IMAGE_ID)
    compressed = ports.objects.get(record.rendition("compressed").key)
    assert phash.is_hash(record.phash)
    assert record.phash == imaging.derive(compressed, ports.imaging).phash


def test_the_thumbnail_step_reads_and_decodes_its_source_once(tmp_path, photo, monkeypatch):
    # GIVEN a compressed photo, and every object read and every pixel decode counted from here on
    ports = _local_ports(tmp_path)
    ports.objects.put(KEY, photo, content_type="image/jpeg")
    steps.compress(ports, KEY)
    reads, decodes = [], []
    real_get, real_load = ports.objects.get, ImageFile.ImageFile.load
    monkeypatch.setattr(ports.objects, "get", lambda key: reads.append(key) or real_get(key))

    def load(image):
        if image.tile:  # pixels still to decode; a loaded image has none
            decodes.append(image.size)
        return real_load(image)

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    # WHEN the thumbnail step runs THEN it read one object and decoded it once, hash included
    assert steps.thumbnail(ports, IMAGE_ID).outcome is steps.Outcome.DONE
    assert phash.is_hash(ports.metadata.get(IMAGE_ID).phash)
    assert reads == [f"renditions/{IMAGE_ID}/compressed.jpg"]
    assert len(decodes) == 1


def test_the_thumbnail_function_stores_the_hash_in_dynamodb(aws, ports, handlers, context, photo):
    # GIVEN a photo taken through the compress and thumbnail functions on moto
    ports.metadata.create(new_record(image_id=IMAGE_ID, owner=OWNER, filename="photo.jpg", at=ports.clock.now()))
    aws["s3"].put_object(Bucket=BUCKET, Key=KEY, Body=photo)
    event = s3_event(KEY, len(photo))
    handlers.thumbnail(envelope(event, handlers.compress(event, context), function="compress"), context)
    # THEN the record read back from the table has the hash, and it finds itself as its own near-duplicate
    record = ports.metadata.get(IMAGE_ID)
    assert phash.is_hash(record.phash)
    near = ports.metadata.near_duplicates(OWNER, record.phash, max_distance=phash.NEAR_DUPLICATE_DISTANCE)
    assert [r.image_id for r in near] == [IMAGE_ID]


def _through_thumbnail(ports: steps.Ports, image_id: str, data: bytes) -> None:
    key = f"uploads/{OWNER}/{image_id}/photo.jpg"
    ports.objects.put(key, data, content_type="image/jpeg")
    assert steps.compress(ports, key).outcome is steps.Outcome.DONE
    assert steps.thumbnail(ports, image_id).outcome is steps.Outcome.DONE


def test_a_resized_copy_joins_the_group_of_the_photo_and_another_picture_does_not(tmp_path):
    from tests.unit.imaging.imaging_samples import save, scene

    # GIVEN a picture, a copy at half size re-encoded at q60, and a different picture
    picture = scene(1)
    original = save(picture, "JPEG", quality=92)
    half = save(picture.resize((picture.width // 2, picture.height // 2)), "JPEG", quality=60)
    other = save(scene(2), "JPEG", quality=92)
    ports = _local_ports(tmp_path)
    # WHEN all three go through compress and thumbnail, the copy after the picture
    _through_thumbnail(ports, "img-a", original)
    _through_thumbnail(ports, "img-b", half)
    _through_thumbnail(ports, "img-c", other)
    # THEN the picture and its copy are one group named by the picture, the other picture is in none
    assert ports.metadata.get("img-a").duplicate_group == "img-a"
    assert ports.metadata.get("img-b").duplicate_group == "img-a"
    assert ports.metadata.get("img-c").duplicate_group is None
    groups = ports.metadata.duplicate_groups(OWNER).groups
    assert [(g.group_id, [r.image_id for r in g.images]) for g in groups] == [("img-a", ["img-b", "img-a"])]
