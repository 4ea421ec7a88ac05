"""The local janitor: every delete finished whatever died when, records expired as DynamoDB's TTL does."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from imgmgr.adapters.files import FileObjectStore
from imgmgr.adapters.sqlite import SqliteMetadataStore
from imgmgr.janitor import Janitor
from lambdas.api.routes import ABANDONED_UPLOAD_TTL
from lambdas.api.services import ApiLimits
from lambdas.domain.records import new_record
from tests.fakes import FakeClock

OWNER = "alice"
RETAIN = ApiLimits().deleted_retain_seconds
SETTLE = 300


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def metadata(tmp_path):
    return SqliteMetadataStore(tmp_path / "metadata.sqlite3")


@pytest.fixture
def objects(tmp_path):
    return FileObjectStore(tmp_path / "objects")


@pytest.fixture
def janitor(metadata, objects, clock):
    return Janitor(metadata=metadata, objects=objects, clock=clock, settle_seconds=SETTLE)


def _declared(metadata, clock, image_id="img-1"):
    """A record as POST /v1/uploads writes it: awaiting its upload, expiring after ABANDONED_UPLOAD_TTL."""
    now = clock.now()
    record = new_record(
        image_id=image_id, owner=OWNER, filename="cat.jpg", at=now, expires_at=now + ABANDONED_UPLOAD_TTL
    )
    return metadata.create(record)


def _left(objects, image_id="img-1"):
    return [*objects.list(f"uploads/{OWNER}/{image_id}/"), *objects.list(f"renditions/{image_id}/")]


def test_a_delete_killed_after_its_tombstone_is_purged_and_recorded_once_settled(metadata, objects, clock, janitor):
    # GIVEN an image with its original and a rendition no record names (a step killed before its commit),
    # deleted by a DELETE killed right after writing the tombstone
    record = _declared(metadata, clock)
    objects.put(record.original_key, b"original", content_type="image/jpeg")
    objects.put("renditions/img-1/compressed.jpg", b"rendition", content_type="image/jpeg")
    metadata.delete(record.image_id, at=clock.now(), retain_seconds=RETAIN)
    # WHEN the janitor sweeps
    done = janitor.sweep()
    # THEN nothing of the image is left, but the purge is not recorded while a step may still write
    assert (done.purged, _left(objects)) == (1, [])
    assert [t.image_id for t in metadata.unpurged_tombstones()] == ["img-1"]
    # AND WHEN a step still running writes a rendition, and the janitor sweeps after the settling time
    objects.put("renditions/img-1/thumb-256.jpg", b"late", content_type="image/jpeg")
    clock.advance(seconds=SETTLE + 1)
    assert janitor.sweep().purged == 1
    # THEN that is gone too, and the purge is recorded: the next sweep has nothing to do
    assert _left(objects) == []
    assert metadata.unpurged_tombstones() == []
    assert janitor.sweep().purged == 0


def test_an_abandoned_upload_expires_after_its_ttl_like_dynamodb(metadata, objects, clock, janitor):
    # GIVEN a declared upload whose bytes never came, and one whose bytes arrived but are not processed yet
    abandoned = _declared(metadata, clock, "img-1")
    arrived = _declared(metadata, clock, "img-2")
    objects.put(arrived.original_key, b"original", content_type="image/jpeg")
    # WHEN the janitor sweeps before the TTL THEN both stay
    assert janitor.sweep().expired == 0
    assert metadata.get(abandoned.image_id) is not None
    # WHEN it sweeps after the TTL
    clock.advance(seconds=ABANDONED_UPLOAD_TTL.total_seconds() + 5)
    done = janitor.sweep()
    # THEN the abandoned record is gone, and the one whose original is stored waits for compress
    assert done.expired == 1
    assert metadata.get(abandoned.image_id) is None
    assert metadata.get(arrived.image_id) is not None


def test_a_tombstone_expires_after_the_retention_once_its_purge_is_recorded(metadata, objects, clock):
    # GIVEN a tombstone kept for less time than the janitor waits before it records a purge
    janitor = Janitor(metadata=metadata, objects=objects, clock=clock, settle_seconds=2 * 3600)
    record = _declared(metadata, clock)
    metadata.transition(
        record, record.uploaded(at=clock.now(), size=8, sha256="ab", sniffed_format=None, sniffed_mime=None)
    )
    objects.put(record.original_key, b"original", content_type="image/jpeg")
    metadata.delete(record.image_id, at=clock.now(), retain_seconds=3600)
    # WHEN the retention has passed but the purge is not recorded yet THEN the tombstone stays
    clock.advance(hours=1, seconds=1)
    assert janitor.sweep().expired == 0
    assert metadata.get(record.image_id) is not None
    # WHEN the purge is recorded THEN the tombstone expires in the same sweep, and nothing is left
    clock.advance(hours=1)
    assert janitor.sweep().expired == 1
    assert metadata.get(record.image_id) is None
    assert _left(objects) == []


def test_a_record_that_moved_on_since_it_was_read_is_not_expired(metadata, clock):
    # GIVEN a declared upload read as expired, whose bytes arrive before it is removed
    record = _declared(metadata, clock)
    clock.advance(days=2)
    (due,) = metadata.expired(clock.now())
    metadata.transition(
        record, record.uploaded(at=clock.now(), size=8, sha256="ab", sniffed_format=None, sniffed_mime=None)
    )
    # WHEN the janitor removes what it read THEN the record stays
    assert metadata.expire(due) is False
    assert metadata.get(record.image_id) is not None


def test_only_expiring_records_are_removed(metadata, clock):
    record = _declared(metadata, clock)
    uploaded = metadata.transition(
        record, record.uploaded(at=clock.now(), size=8, sha256="ab", sniffed_format=None, sniffed_mime=None)
    )
    with pytest.raises(ValueError, match="never expires"):
        metadata.expire(uploaded)


def test_sweeps_go_past_a_page_of_tombstones(metadata, objects, clock, janitor):
    # GIVEN more unfinished deletes than one page of the store holds
    for number in range(130):
        record = _declared(metadata, clock, f"img-{number}")
        objects.put(record.original_key, b"original", content_type="image/jpeg")
        metadata.delete(record.image_id, at=clock.now() - timedelta(seconds=SETTLE + 1), retain_seconds=RETAIN)
    # WHEN the janitor sweeps THEN every one is purged and recorded
    assert janitor.sweep().purged == 130
    assert list(objects.list("uploads/")) == []
    assert metadata.unpurged_tombstones() == []


def _processed(tmp_path, metadata, objects, clock, data, name):
    """A record taken through the real compress step with the default originals policy (expire, 30 days)."""
    from lambdas import steps
    from lambdas.domain.originals import OriginalsPolicy
    from tests.fakes import FakeLabeler, RecordingEventSink

    ports = steps.Ports(
        objects=objects,
        metadata=metadata,
        labeler=FakeLabeler(),
        events=RecordingEventSink(),
        clock=clock,
        originals=OriginalsPolicy(),
    )
    image_id = f"img-{name.split('.')[0]}"
    record = metadata.create(new_record(image_id=image_id, owner=OWNER, filename=name, at=clock.now()))
    objects.put(record.original_key, data, content_type="image/jpeg")
    steps.compress(ports, record.original_key)
    return ports, metadata.get(image_id)


def test_originals_are_removed_when_the_policy_says_and_never_the_only_copy(tmp_path, metadata, objects, clock):
    # GIVEN a photo whose compressed rendition is verified, and a tiny PNG that stands in for its own rendition
    import io

    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(1)
    photo = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (240, 320, 3), dtype=np.uint8), "RGB").save(photo, "JPEG", quality=97)
    dot = io.BytesIO()
    Image.new("RGB", (24, 16), (10, 200, 30)).save(dot, "PNG")
    ports, compressed = _processed(tmp_path, metadata, objects, clock, photo.getvalue(), "photo.jpg")
    _, kept = _processed(tmp_path, metadata, objects, clock, dot.getvalue(), "dot.png")
    assert compressed.original_expires_at is not None and kept.original_expires_at is None
    janitor = Janitor(metadata=metadata, objects=objects, clock=clock, settle_seconds=SETTLE, ports=ports)
    stored = metadata.usage(OWNER).bytes_stored
    # WHEN the janitor sweeps before the date THEN both originals stay
    assert janitor.sweep().originals == 0
    # WHEN it sweeps after the date (30 days, at the next midnight)
    clock.advance(seconds=31 * 86400)
    assert janitor.sweep().originals == 1
    # THEN the photo's original is gone and recorded, its rendition stays; the PNG is untouched
    assert objects.head(compressed.original_key) is None
    assert objects.head(compressed.rendition("compressed").key) is not None
    assert objects.head(kept.original_key) is not None
    assert metadata.get(compressed.image_id).original_removed_at is not None
    assert metadata.usage(OWNER).bytes_stored == stored - len(photo.getvalue())
    assert janitor.sweep().originals == 0


def test_a_server_restarted_with_the_keep_policy_removes_no_original(tmp_path, metadata, objects, clock):
    # GIVEN a photo scheduled for removal under expire, then the server restarted with --originals keep
    import io

    import numpy as np
    from PIL import Image

    from lambdas.domain.originals import OriginalsPolicy

    rng = np.random.default_rng(2)
    photo = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (240, 320, 3), dtype=np.uint8), "RGB").save(photo, "JPEG", quality=97)
    ports, scheduled = _processed(tmp_path, metadata, objects, clock, photo.getvalue(), "photo.jpg")
    assert scheduled.original_expires_at is not None
    keeping = replace(ports, originals=OriginalsPolicy(policy="keep"))
    janitor = Janitor(metadata=metadata, objects=objects, clock=clock, settle_seconds=SETTLE, ports=keeping)
    # WHEN it sweeps after the date THEN the original stays
    clock.advance(seconds=31 * 86400)
    assert janitor.sweep().originals == 0
    assert objects.head(scheduled.original_key) is not None
