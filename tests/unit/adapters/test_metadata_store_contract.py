"""The MetadataStore contract, run against DynamoDB (moto) and SQLite."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from lambdas.domain.errors import (
    ContentExistsError,
    InvalidQueryError,
    InvalidTransitionError,
    RecordExistsError,
    StaleRecordError,
)
from lambdas.domain.labels import Label, Labeling
from lambdas.domain.queries import ImageQuery, search_words
from lambdas.domain.records import ImageRecord, StoredRendition, Usage, new_record, rendition_key
from lambdas.domain.states import ImageState
from lambdas.domain.synonyms import canonical_words
from lambdas.ports import MetadataStore

T0 = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
CAT = Labeling(
    (Label("Cat", 98.0, parents=("Animal", "Pet"), categories=("Animals and Pets",)),),
    "fake",
)
TABBY = Labeling(
    (Label("Tabby Cat", 97.0, parents=("Cat", "Pet", "Animal", "Mammal"), categories=("Animals and Pets",)),),
    "fake",
)
CAR = Labeling(
    (Label("Car", 91.0, parents=("Vehicle",), categories=("Vehicles and Automotive",)),),
    "fake",
)


def _awaiting(
    image_id: str, owner: str = "alice", *, minutes: int = 0, sha: str | None = None, filename: str = "photo.jpg"
) -> ImageRecord:
    return new_record(
        image_id=image_id,
        owner=owner,
        filename=filename,
        at=T0 + timedelta(minutes=minutes),
        declared_mime="image/jpeg",
        declared_bytes=1000,
        declared_sha256=sha,
    )


def _rendition(image_id: str, name: str, size: int) -> StoredRendition:
    return StoredRendition(
        name=name,
        key=rendition_key(image_id, name, "jpeg"),
        format="jpeg",
        mime="image/jpeg",
        width=100,
        height=80,
        size=size,
    )


def _advance_to(store: MetadataStore, record: ImageRecord, state: ImageState, labeling: Labeling = CAT):
    """Drive a created record along the happy path up to ``state``."""
    at = record.created_at + timedelta(seconds=30)
    steps = [
        (
            ImageState.UPLOADED,
            lambda r: r.uploaded(
                at=at, size=1000, sha256=f"sha-{r.image_id}", sniffed_format="jpeg", sniffed_mime="image/jpeg"
            ),
        ),
        (
            ImageState.COMPRESSED,
            lambda r: r.compressed(
                at=at,
                rendition=_rendition(r.image_id, "compressed", 400),
                width=100,
                height=80,
                fmt="jpeg",
                mime="image/jpeg",
            ),
        ),
        (ImageState.THUMBNAILED, lambda r: r.thumbnailed(at=at, renditions=(_rendition(r.image_id, "thumb-256", 50),))),
        (ImageState.READY, lambda r: r.categorized(at=at, labeling=labeling)),
    ]
    for target, move in steps:
        record = store.transition(record, move(record))
        if target is state:
            break
    return record


def _ready(store, image_id, owner="alice", *, minutes=0, labeling=CAT, filename="photo.jpg"):
    created = store.create(_awaiting(image_id, owner, minutes=minutes, filename=filename))
    return _advance_to(store, created, ImageState.READY, labeling)


def _search(store, text: str, owner: str = "alice", **filters) -> list[str]:
    return [r.image_id for r in store.query(ImageQuery(owner=owner, words=search_words(text), **filters)).items]


def test_both_stores_implement_the_port(metadata_store):
    assert isinstance(metadata_store, MetadataStore)


def test_create_then_get_returns_the_record_at_version_1(metadata_store):
    # GIVEN a new record WHEN created and read back THEN it is the same record at version 1
    created = metadata_store.create(_awaiting("img-1"))
    assert metadata_store.get("img-1") == created
    assert created.version == 1


def test_create_twice_raises_record_exists(metadata_store):
    # GIVEN an existing record WHEN one with the same id is created THEN it is refused
    metadata_store.create(_awaiting("img-1"))
    with pytest.raises(RecordExistsError, match="img-1"):
        metadata_store.create(_awaiting("img-1", owner="bob"))


def test_get_of_an_unknown_id_is_none(metadata_store):
    assert metadata_store.get("nope") is None


def test_a_full_record_round_trips(metadata_store):
    # GIVEN a ready record with renditions, labels and floats WHEN read back THEN nothing is lost
    ready = _ready(metadata_store, "img-1")
    assert metadata_store.get("img-1") == ready
    assert ready.labels[0].parents == ("Animal", "Pet")
    assert ready.rendition("thumb-256").size == 50


def test_extra_values_round_trip_with_their_number_types(metadata_store):
    # GIVEN a record whose extra holds nested ints and floats
    created = metadata_store.create(_awaiting("img-1"))
    updated = ImageRecord.from_dict({**created.to_dict(), "extra": {"timings_ms": {"compress": 12.5, "n": 3}}})
    metadata_store.transition(created, updated)
    # WHEN read back THEN the values and their types are kept
    extra = metadata_store.get("img-1").extra
    assert extra == {"timings_ms": {"compress": 12.5, "n": 3}}
    assert isinstance(extra["timings_ms"]["n"], int)


def test_exif_summary_round_trips_and_old_records_load_without_it(metadata_store):
    # GIVEN a record with an EXIF summary (text, ints and fractional floats) and one stored before it existed
    created = metadata_store.create(_awaiting("img-1"))
    exif = {"make": "Fujifilm", "iso": 400, "exposure_time": 0.004, "f_number": 2.8, "taken_at": "2026-12-01T14:05:06"}
    metadata_store.transition(created, replace(created, exif=exif))
    old = {k: v for k, v in _awaiting("img-2").to_dict().items() if k != "exif"}
    # WHEN read back THEN the summary is kept, and the old form loads with an empty one
    assert metadata_store.get("img-1").exif == exif
    assert ImageRecord.from_dict(old).exif == {}


def test_transition_stores_the_new_state_and_bumps_the_version(metadata_store):
    # GIVEN a created record WHEN it moves to uploaded THEN the stored record says so at version 2
    created = metadata_store.create(_awaiting("img-1"))
    moved = _advance_to(metadata_store, created, ImageState.UPLOADED)
    assert (metadata_store.get("img-1").state, moved.version) == (ImageState.UPLOADED, 2)


def test_of_two_writers_from_the_same_read_only_one_wins(metadata_store):
    # GIVEN two steps that read the same version
    created = metadata_store.create(_awaiting("img-1"))
    first = created.uploaded(at=T0, size=1000, sha256="a", sniffed_format="jpeg", sniffed_mime="image/jpeg")
    second = created.uploaded(at=T0, size=2000, sha256="b", sniffed_format="jpeg", sniffed_mime="image/jpeg")
    metadata_store.transition(created, first)
    # WHEN the second writes THEN it loses and the first one's write stands
    with pytest.raises(StaleRecordError, match="img-1"):
        metadata_store.transition(created, second)
    assert metadata_store.get("img-1").sha256 == "a"


def test_a_lost_write_does_not_count_twice(metadata_store):
    # GIVEN a ready image, and a duplicate categorize that read the thumbnailed record
    created = metadata_store.create(_awaiting("img-1"))
    thumbnailed = _advance_to(metadata_store, created, ImageState.THUMBNAILED)
    metadata_store.transition(thumbnailed, thumbnailed.categorized(at=T0, labeling=CAT))
    # WHEN the duplicate tries to write THEN it loses and the category is counted once
    with pytest.raises(StaleRecordError):
        metadata_store.transition(thumbnailed, thumbnailed.categorized(at=T0, labeling=CAT))
    assert metadata_store.category_counts("alice") == {"Animals and Pets": 1}


def test_a_backward_transition_is_refused(metadata_store):
    # GIVEN a ready record WHEN written back as thumbnailed THEN the store refuses it
    ready = _ready(metadata_store, "img-1")
    backward = ImageRecord.from_dict({**ready.to_dict(), "state": "thumbnailed"})
    with pytest.raises(InvalidTransitionError, match="does not move forward"):
        metadata_store.transition(ready, backward)
    assert metadata_store.get("img-1").state is ImageState.READY


def test_a_retryable_failure_resumes_where_it_failed(metadata_store):
    # GIVEN a record that failed transiently while compressed
    compressed = _advance_to(metadata_store, metadata_store.create(_awaiting("img-1")), ImageState.COMPRESSED)
    failed = metadata_store.transition(
        compressed,
        compressed.failed(at=T0, code="Dependency.Throttled", message="slow down", step="thumbnail", retryable=True),
    )
    # WHEN the retry finishes the step THEN the record is thumbnailed and the failure is cleared
    resumed = metadata_store.transition(failed, failed.thumbnailed(at=T0, renditions=()))
    assert (resumed.state, resumed.failure) == (ImageState.THUMBNAILED, None)


@pytest.mark.parametrize("retryable", [False, True])
def test_a_failure_before_the_upload_keeps_the_record_for_good(metadata_store, retryable):
    # GIVEN an upload declared with the abandoned-upload expiry (DynamoDB TTL) that the API sets
    declared = metadata_store.create(replace(_awaiting("img-1"), expires_at=T0 + timedelta(days=1)))
    assert metadata_store.get("img-1").expires_at == T0 + timedelta(days=1)
    # WHEN compress fails before recording the upload (checksum mismatch, too large, object missing)
    metadata_store.transition(
        declared,
        declared.failed(at=T0, code="Upload.ChecksumMismatch", message="x", step="compress", retryable=retryable),
    )
    # THEN the stored failed record carries no expiry: it stays until the image (and its original) is deleted
    stored = metadata_store.get("img-1")
    assert (stored.state, stored.expires_at) == (ImageState.FAILED, None)


def test_owner_listing_is_newest_first_and_leaves_others_out(metadata_store):
    # GIVEN three images of alice and one of bob
    for minutes, image_id in enumerate(["img-a", "img-b", "img-c"]):
        metadata_store.create(_awaiting(image_id, minutes=minutes))
    metadata_store.create(_awaiting("img-bob", owner="bob", minutes=9))
    # WHEN alice's images are listed THEN they come newest first, without bob's
    page = metadata_store.query(ImageQuery(owner="alice"))
    assert [r.image_id for r in page.items] == ["img-c", "img-b", "img-a"]
    assert page.next is None


def test_pages_cover_every_image_once(metadata_store):
    # GIVEN seven images
    for minutes in range(7):
        metadata_store.create(_awaiting(f"img-{minutes}", minutes=minutes))
    # WHEN listed three at a time, following the cursor
    seen, cursor = [], None
    while True:
        page = metadata_store.query(ImageQuery(owner="alice", limit=3, cursor=cursor))
        seen += [r.image_id for r in page.items]
        if page.next is None:
            break
        cursor = page.next
    # THEN every image came exactly once, newest first
    assert seen == [f"img-{m}" for m in reversed(range(7))]


def test_owner_listing_filters_by_state(metadata_store):
    # GIVEN one ready and one awaiting image
    _ready(metadata_store, "img-ready")
    metadata_store.create(_awaiting("img-waiting", minutes=1))
    # WHEN listing ready ones THEN only the ready one comes back
    page = metadata_store.query(ImageQuery(owner="alice", state=ImageState.READY))
    assert [r.image_id for r in page.items] == ["img-ready"]


def test_owner_listing_filters_by_date_range(metadata_store):
    # GIVEN images created at minutes 0..4
    for minutes in range(5):
        metadata_store.create(_awaiting(f"img-{minutes}", minutes=minutes))
    # WHEN listing minutes 1..3 THEN exactly those come back, inclusive
    query = ImageQuery(owner="alice", since=T0 + timedelta(minutes=1), until=T0 + timedelta(minutes=3))
    assert [r.image_id for r in metadata_store.query(query).items] == ["img-3", "img-2", "img-1"]


def test_category_listing_per_owner_and_overall(metadata_store):
    # GIVEN cats of alice and bob, a car of alice and an unfinished image
    _ready(metadata_store, "img-cat-a", minutes=1)
    _ready(metadata_store, "img-cat-b", owner="bob", minutes=2)
    _ready(metadata_store, "img-car", minutes=3, labeling=CAR)
    _advance_to(metadata_store, metadata_store.create(_awaiting("img-wip", minutes=4)), ImageState.THUMBNAILED)
    # WHEN listing by category THEN alice's cats, or everyone's, newest first
    mine = metadata_store.query(ImageQuery(owner="alice", category="Animals and Pets"))
    everyone = metadata_store.query(ImageQuery(category="Animals and Pets"))
    assert [r.image_id for r in mine.items] == ["img-cat-a"]
    assert [r.image_id for r in everyone.items] == ["img-cat-b", "img-cat-a"]


def test_label_listing_matches_parents_case_insensitively(metadata_store):
    # GIVEN a cat (whose parents are Animal and Pet)
    _ready(metadata_store, "img-cat")
    # WHEN listing by a parent in another case THEN the cat is found
    page = metadata_store.query(ImageQuery(owner="alice", label="  aNIMAL "))
    assert [r.image_id for r in page.items] == ["img-cat"]


def test_a_search_word_finds_a_label_by_a_word_of_its_name_and_by_its_parents(metadata_store):
    # GIVEN a tabby cat (parents Cat, Pet, Animal, Mammal) and a car
    _ready(metadata_store, "img-tabby", minutes=1, labeling=TABBY)
    _ready(metadata_store, "img-car", minutes=2, labeling=CAR)
    # WHEN searching a word of the label, a parent, a plural of a parent, in any case
    # THEN the tabby is found, and the car is not
    assert _search(metadata_store, "tabby") == ["img-tabby"]
    assert _search(metadata_store, "MAMMAL") == ["img-tabby"]
    assert _search(metadata_store, "cats") == ["img-tabby"]
    assert _search(metadata_store, "vehicle") == ["img-car"]


def test_a_synonym_finds_the_label_it_stands_for_in_one_word(metadata_store):
    # GIVEN a tabby (a Cat) and a car
    _ready(metadata_store, "img-tabby", minutes=1, labeling=TABBY)
    _ready(metadata_store, "img-car", minutes=2, labeling=CAR)

    # WHEN searching synonyms, as the API turns them into the words of the query (one canonical word each)
    def by_synonyms(text: str) -> list[str]:
        words = canonical_words(search_words(text))
        return [r.image_id for r in metadata_store.query(ImageQuery(owner="alice", words=words)).items]

    # THEN "kitty" finds the cat, "automobiles" the car, and "kitty" with "cat" is one word, the cat
    assert by_synonyms("kitty") == ["img-tabby"]
    assert by_synonyms("automobiles") == ["img-car"]
    assert by_synonyms("Kitty cat") == ["img-tabby"]
    assert by_synonyms("kitty automobile") == []


def test_a_search_word_finds_a_category_by_a_word_of_its_name(metadata_store):
    # GIVEN a cat ("Animals and Pets") and a car ("Vehicles and Automotive")
    _ready(metadata_store, "img-cat", minutes=1)
    _ready(metadata_store, "img-car", minutes=2, labeling=CAR)
    # WHEN searching "animals", "Automotive" THEN the image of that category is found
    assert _search(metadata_store, "animals") == ["img-cat"]
    assert _search(metadata_store, "Automotive") == ["img-car"]


def test_a_search_word_finds_a_word_of_the_file_name(metadata_store):
    # GIVEN two cats, one named after a holiday
    _ready(metadata_store, "img-1", minutes=1, filename="Lisbon_holiday-2025.jpg")
    _ready(metadata_store, "img-2", minutes=2, filename="IMG_0042.jpg")
    # WHEN searching words of the file name (not its extension) THEN only that image is found
    assert _search(metadata_store, "lisbon") == ["img-1"]
    assert _search(metadata_store, "2025") == ["img-1"]
    assert _search(metadata_store, "img 0042") == ["img-2"]
    assert _search(metadata_store, "jpg") == []


def test_a_search_keeps_the_images_that_match_every_word(metadata_store):
    # GIVEN a tabby named "garden" and a plain cat named "garden"
    _ready(metadata_store, "img-tabby", minutes=1, labeling=TABBY, filename="garden.jpg")
    _ready(metadata_store, "img-cat", minutes=2, filename="garden.jpg")
    # WHEN searching two words THEN only the image with both is found, whichever word is read first
    assert _search(metadata_store, "garden tabby") == ["img-tabby"]
    assert _search(metadata_store, "tabby garden") == ["img-tabby"]
    assert _search(metadata_store, "garden cat") == ["img-cat", "img-tabby"]


def test_a_search_is_bounded_by_the_upload_date_and_pages_follow_the_cursor(metadata_store):
    # GIVEN five cats uploaded at minutes 0..4
    for minutes in range(5):
        _ready(metadata_store, f"img-{minutes}", minutes=minutes)
    # WHEN searching minutes 1..3, two at a time
    window = {"since": T0 + timedelta(minutes=1), "until": T0 + timedelta(minutes=3)}
    first = metadata_store.query(ImageQuery(owner="alice", words=("animal",), limit=2, **window))
    second = metadata_store.query(ImageQuery(owner="alice", words=("animal",), limit=2, cursor=first.next, **window))
    # THEN exactly those come back, newest first, across the pages
    assert [r.image_id for r in first.items + second.items] == ["img-3", "img-2", "img-1"]
    assert second.next is None


def test_a_search_that_matches_nothing_is_an_empty_page(metadata_store):
    # GIVEN a cat of alice, a not yet ready image named "dog", a dog of bob
    _ready(metadata_store, "img-cat", minutes=1)
    _advance_to(metadata_store, metadata_store.create(_awaiting("img-wip", filename="dog.jpg")), ImageState.THUMBNAILED)
    dog = Labeling((Label("Dog", 90.0, parents=("Animal",), categories=("Animals and Pets",)),), "fake")
    _ready(metadata_store, "img-dog", owner="bob", minutes=2, labeling=dog)
    # WHEN alice searches "dog" THEN nothing comes back: neither unfinished images nor other owners' images
    page = metadata_store.query(ImageQuery(owner="alice", words=("dog",)))
    assert (page.items, page.next) == ((), None)


def test_a_deleted_image_is_not_found_by_its_words(metadata_store):
    # GIVEN a tabby WHEN deleted THEN a search finds nothing
    _ready(metadata_store, "img-tabby", labeling=TABBY)
    metadata_store.delete("img-tabby", at=T0 + timedelta(hours=1))
    assert _search(metadata_store, "tabby") == []


def test_a_search_by_words_needs_an_owner_and_at_most_eight_words():
    with pytest.raises(InvalidQueryError, match="owner"):
        ImageQuery(words=("cat",))
    with pytest.raises(InvalidQueryError, match="at most 8"):
        ImageQuery(owner="alice", words=tuple(f"w{n}" for n in range(9)))


def test_category_listing_with_a_state_other_than_ready_is_empty(metadata_store):
    # GIVEN a ready cat WHEN listing cats that are failed THEN there are none
    _ready(metadata_store, "img-cat")
    page = metadata_store.query(ImageQuery(category="Animals and Pets", state=ImageState.FAILED))
    assert page.items == ()


def test_category_listing_pages_follow_the_cursor(metadata_store):
    # GIVEN five ready cats
    for minutes in range(5):
        _ready(metadata_store, f"img-{minutes}", minutes=minutes)
    # WHEN listed two at a time
    first = metadata_store.query(ImageQuery(category="Animals and Pets", limit=2))
    second = metadata_store.query(ImageQuery(category="Animals and Pets", limit=2, cursor=first.next))
    # THEN the pages continue each other
    assert [r.image_id for r in first.items + second.items] == ["img-4", "img-3", "img-2", "img-1"]


def test_a_cursor_that_is_not_the_stores_is_refused(metadata_store):
    with pytest.raises(InvalidQueryError, match="cursor"):
        metadata_store.query(ImageQuery(owner="alice", cursor='{"forged": true}'))


def test_find_by_hash_uses_the_declared_hash_before_upload(metadata_store):
    # GIVEN an upload declared with a hash WHEN looked up by it THEN it is found for its owner only
    metadata_store.create(_awaiting("img-1", sha="abc"))
    assert metadata_store.find_by_hash("alice", "abc").image_id == "img-1"
    assert metadata_store.find_by_hash("bob", "abc") is None


def test_find_by_hash_uses_the_measured_hash_after_upload(metadata_store):
    # GIVEN an image whose bytes hashed to sha-img-1
    _advance_to(metadata_store, metadata_store.create(_awaiting("img-1")), ImageState.UPLOADED)
    # WHEN looked up by it THEN it is found
    assert metadata_store.find_by_hash("alice", "sha-img-1").image_id == "img-1"


def test_find_by_hash_ignores_deleted_images(metadata_store):
    metadata_store.create(_awaiting("img-1", sha="abc"))
    metadata_store.delete("img-1", at=T0)
    assert metadata_store.find_by_hash("alice", "abc") is None


def test_a_second_live_record_with_the_same_hash_is_refused_naming_the_first(metadata_store):
    # GIVEN an upload of alice declared with a hash
    metadata_store.create(_awaiting("img-1", sha="abc"))
    # WHEN another record of alice declares the same hash THEN it is refused, naming the first
    with pytest.raises(ContentExistsError, match="img-1") as refused:
        metadata_store.create(_awaiting("img-2", sha="abc", minutes=1))
    assert refused.value.image_id == "img-1"
    # AND nothing of the second was stored or counted
    assert metadata_store.get("img-2") is None
    assert [r.image_id for r in metadata_store.query(ImageQuery(owner="alice")).items] == ["img-1"]


def test_the_same_bytes_of_another_owner_are_another_image(metadata_store):
    metadata_store.create(_awaiting("img-1", sha="abc"))
    metadata_store.create(_awaiting("img-2", "bob", sha="abc"))
    assert metadata_store.find_by_hash("bob", "abc").image_id == "img-2"
    assert metadata_store.find_by_hash("alice", "abc").image_id == "img-1"


def test_a_ready_image_keeps_its_hash(metadata_store):
    # GIVEN an image declared with the hash its bytes have (sha-img-1), taken to ready
    _advance_to(metadata_store, metadata_store.create(_awaiting("img-1", sha="sha-img-1")), ImageState.READY)
    # WHEN the same bytes are declared again THEN the ready image holds them
    with pytest.raises(ContentExistsError, match="img-1"):
        metadata_store.create(_awaiting("img-2", sha="sha-img-1", minutes=1))


def test_deleting_an_image_frees_its_hash(metadata_store):
    # GIVEN a ready image, deleted
    _advance_to(metadata_store, metadata_store.create(_awaiting("img-1", sha="sha-img-1")), ImageState.READY)
    metadata_store.delete("img-1", at=T0 + timedelta(hours=1))
    # WHEN the same bytes are declared again THEN they make a new image, found by the hash
    metadata_store.create(_awaiting("img-2", sha="sha-img-1", minutes=90))
    assert metadata_store.find_by_hash("alice", "sha-img-1").image_id == "img-2"


def test_a_record_whose_bytes_another_image_holds_moves_on_without_taking_the_hash(metadata_store):
    # GIVEN an upload declared with the hash sha-img-2, and an object adopted from the bucket (no declared
    # hash) whose bytes turn out to hash to sha-img-2 too
    metadata_store.create(_awaiting("img-1", sha="sha-img-2"))
    adopted = _advance_to(metadata_store, metadata_store.create(_awaiting("img-2", minutes=1)), ImageState.READY)
    # THEN the adopted image is ready and counted, and found by its hash like the first
    assert adopted.state is ImageState.READY
    assert metadata_store.usage("alice").images == 1
    assert metadata_store.find_by_hash("alice", "sha-img-2").image_id in {"img-1", "img-2"}
    # AND deleting it leaves the hash with the first
    metadata_store.delete("img-2", at=T0 + timedelta(hours=1))
    with pytest.raises(ContentExistsError, match="img-1"):
        metadata_store.create(_awaiting("img-3", sha="sha-img-2", minutes=90))
    assert metadata_store.find_by_hash("alice", "sha-img-2").image_id == "img-1"


def test_category_counts_per_owner_and_overall(metadata_store):
    # GIVEN two cats (alice, bob) and a car (alice)
    _ready(metadata_store, "img-1")
    _ready(metadata_store, "img-2", owner="bob")
    _ready(metadata_store, "img-3", labeling=CAR)
    # WHEN counted THEN per owner and overall counts match
    assert metadata_store.category_counts("alice") == {"Animals and Pets": 1, "Vehicles and Automotive": 1}
    assert metadata_store.category_counts() == {"Animals and Pets": 2, "Vehicles and Automotive": 1}


def test_usage_counts_originals_and_renditions(metadata_store):
    # GIVEN a ready image: original 1000 B, compressed 400 B, thumbnail 50 B
    _ready(metadata_store, "img-1")
    # WHEN usage is read THEN it counts one image, 1450 B stored and 600 B saved, for alice and overall
    assert metadata_store.usage("alice") == Usage(images=1, bytes_stored=1450, bytes_saved=600)
    assert metadata_store.usage() == Usage(images=1, bytes_stored=1450, bytes_saved=600)
    assert metadata_store.usage("bob") == Usage()


def test_delete_removes_the_image_from_listings_and_counters(metadata_store):
    # GIVEN two ready cats
    _ready(metadata_store, "img-1")
    _ready(metadata_store, "img-2", minutes=1)
    # WHEN one is deleted
    tombstone = metadata_store.delete("img-1", at=T0 + timedelta(hours=1))
    # THEN it is a tombstone that expires, gone from listings, counts and usage
    assert tombstone.state is ImageState.DELETED
    assert tombstone.expires_at == T0 + timedelta(hours=1, days=7)
    assert [r.image_id for r in metadata_store.query(ImageQuery(owner="alice")).items] == ["img-2"]
    assert [r.image_id for r in metadata_store.query(ImageQuery(label="cat")).items] == ["img-2"]
    assert metadata_store.category_counts() == {"Animals and Pets": 1}
    assert metadata_store.usage("alice").images == 1


def test_delete_is_idempotent(metadata_store):
    # GIVEN a deleted image WHEN deleted again THEN the counters do not move again
    _ready(metadata_store, "img-1")
    metadata_store.delete("img-1", at=T0)
    again = metadata_store.delete("img-1", at=T0)
    assert again.state is ImageState.DELETED
    assert metadata_store.usage("alice") == Usage()
    assert metadata_store.category_counts("alice") == {}


def test_keys_reserved_in_the_same_state_are_kept_by_the_tombstone(metadata_store):
    # GIVEN a compressed image whose thumbnail keys a step reserved (a write that keeps the state)
    compressed = _advance_to(metadata_store, metadata_store.create(_awaiting("img-1")), ImageState.COMPRESSED)
    key = rendition_key("img-1", "thumb-256", "jpeg")
    reserved = metadata_store.transition(compressed, compressed.reserving({key}))
    # WHEN the image is deleted (and deleted again)
    metadata_store.delete("img-1", at=T0)
    again = metadata_store.delete("img-1", at=T0)
    # THEN the stored tombstone still names the reserved key, beside the original and the rendition
    assert (reserved.state, reserved.version) == (ImageState.COMPRESSED, compressed.version + 1)
    assert again.object_keys() == {compressed.original_key, rendition_key("img-1", "compressed", "jpeg"), key}
    assert metadata_store.get("img-1") == again


def test_delete_of_an_unknown_image_is_none(metadata_store):
    assert metadata_store.delete("nope", at=T0) is None


def test_a_deleted_image_cannot_come_back(metadata_store):
    # GIVEN a deleted tombstone WHEN a late step tries to move it on THEN it is refused
    tombstone = metadata_store.delete(metadata_store.create(_awaiting("img-1")).image_id, at=T0)
    with pytest.raises(InvalidTransitionError, match="does not move forward"):
        tombstone.uploaded(at=T0, size=1, sha256="x", sniffed_format=None, sniffed_mime=None)
