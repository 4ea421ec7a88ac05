"""The MetadataStore contract for the owner's organizing: favorites, own tags and corrections, albums.

Run against DynamoDB (moto) and SQLite, like ``test_metadata_store_contract``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from lambdas.domain.albums import new_album
from lambdas.domain.errors import (
    InvalidEditError,
    InvalidQueryError,
    NotFoundError,
    RecordExistsError,
    StaleRecordError,
)
from lambdas.domain.labels import Label, Labeling
from lambdas.domain.queries import ImageQuery, search_words
from lambdas.domain.states import ImageState
from tests.unit.adapters.test_metadata_store_contract import CAR, CAT, T0, _awaiting, _ready

#: A horse the model took for a dog (the issue's "Dog 69 %").
DOG = Labeling(
    (
        Label("Dog", 69.0, parents=("Mammal", "Animal", "Pet"), categories=("Animals and Pets",)),
        Label("Person", 55.0, parents=(), categories=("Person Description",)),
    ),
    "fake",
)
LATER = T0 + timedelta(hours=1)


def _ids(page) -> list[str]:
    return [record.image_id for record in page.items]


def _edit(store, image_id, **changes):
    current = store.get(image_id)
    return store.transition(current, current.corrected(at=LATER, **changes))


def _file(store, image_id, *, add=(), remove=()):
    current = store.get(image_id)
    return store.transition(current, current.filed(at=LATER, add=add, remove=remove))


def _album(store, album_id="al_00000000000000a1", name="Holidays", owner="alice"):
    return store.create_album(new_album(album_id=album_id, owner=owner, name=name, at=T0))


# --- favorites -------------------------------------------------------------------------------------------
def test_favorites_are_listed_per_owner_newest_first_and_can_be_unset(metadata_store):
    for index, image_id in enumerate(("a", "b", "c")):
        _ready(metadata_store, image_id, minutes=index)
    _ready(metadata_store, "bob-1", owner="bob", minutes=5)
    _edit(metadata_store, "a", favorite=True)
    _edit(metadata_store, "c", favorite=True)
    _edit(metadata_store, "bob-1", favorite=True)
    assert _ids(metadata_store.query(ImageQuery(owner="alice", favorite=True))) == ["c", "a"]
    _edit(metadata_store, "c", favorite=False)
    assert _ids(metadata_store.query(ImageQuery(owner="alice", favorite=True))) == ["a"]
    assert metadata_store.get("c").favorite is False


def test_a_favorite_that_is_still_processing_is_listed_and_a_deleted_one_is_not(metadata_store):
    created = metadata_store.create(_awaiting("p"))
    metadata_store.transition(created, created.corrected(at=LATER, favorite=True))
    assert _ids(metadata_store.query(ImageQuery(owner="alice", favorite=True))) == ["p"]
    assert _ids(metadata_store.query(ImageQuery(owner="alice", favorite=True, state=ImageState.READY))) == []
    metadata_store.delete("p", at=LATER)
    assert _ids(metadata_store.query(ImageQuery(owner="alice", favorite=True))) == []


def test_favorites_need_an_owner_and_exclude_a_category(metadata_store):
    with pytest.raises(InvalidQueryError, match="required"):
        ImageQuery(favorite=True)
    with pytest.raises(InvalidQueryError, match="exclude"):
        ImageQuery(owner="alice", category="Animals and Pets", favorite=True)


# --- own tags and corrections ----------------------------------------------------------------------------
def test_an_own_tag_is_searched_like_a_label_and_by_its_words(metadata_store):
    _ready(metadata_store, "a", labeling=CAT)
    _ready(metadata_store, "b", labeling=CAT, minutes=1)
    _edit(metadata_store, "a", add_tags=("Grandma's garden",))
    assert _ids(metadata_store.query(ImageQuery(owner="alice", label="grandma's garden"))) == ["a"]
    assert _ids(metadata_store.query(ImageQuery(owner="alice", words=search_words("garden")))) == ["a"]
    assert metadata_store.get("a").effective_tags()[-1] == "Grandma's garden"


def test_a_removed_label_is_no_longer_found_and_its_category_leaves_the_counts(metadata_store):
    # GIVEN a horse labelled Dog and Person (two categories)
    _ready(metadata_store, "horse", labeling=DOG)
    assert metadata_store.category_counts("alice") == {"Animals and Pets": 1, "Person Description": 1}
    # WHEN the owner removes the wrong labels and tags it Horse
    _edit(metadata_store, "horse", add_tags=("horse",), remove_tags=("Dog", "person"))
    # THEN it is found as a horse and as an animal (the known label's parents), never as a dog or a person
    assert _ids(metadata_store.query(ImageQuery(owner="alice", label="Horse"))) == ["horse"]
    assert _ids(metadata_store.query(ImageQuery(owner="alice", label="Animal"))) == ["horse"]
    assert _ids(metadata_store.query(ImageQuery(owner="alice", label="Dog"))) == []
    assert _ids(metadata_store.query(ImageQuery(owner="alice", words=search_words("dog")))) == []
    assert _ids(metadata_store.query(ImageQuery(owner="alice", category="Person Description"))) == []
    # AND the category counts follow: Horse brings Animals and Pets, Person Description is gone
    assert metadata_store.category_counts("alice") == {"Animals and Pets": 1}
    assert metadata_store.category_counts() == {"Animals and Pets": 1}


def test_labelling_again_keeps_the_owners_corrections(metadata_store):
    _ready(metadata_store, "horse", labeling=DOG)
    _edit(metadata_store, "horse", add_tags=("Horse",), remove_tags=("Dog",))
    # WHEN the image is labelled again (a redrive of categorize) with the same wrong labels
    current = metadata_store.get("horse")
    relabelled = metadata_store.transition(current, current.categorized(at=LATER, labeling=DOG))
    # THEN the correction holds
    assert "Dog" not in relabelled.effective_tags()
    assert "Horse" in relabelled.effective_tags()
    assert _ids(metadata_store.query(ImageQuery(owner="alice", label="dog"))) == []
    assert _ids(metadata_store.query(ImageQuery(owner="alice", label="horse"))) == ["horse"]


def test_adding_back_a_removed_label_restores_it(metadata_store):
    _ready(metadata_store, "a", labeling=CAT)
    _edit(metadata_store, "a", remove_tags=("Cat",))
    assert metadata_store.category_counts("alice") == {}
    restored = _edit(metadata_store, "a", add_tags=("cat",))
    assert restored.removed_labels == () and restored.user_tags == ()
    assert metadata_store.category_counts("alice") == {"Animals and Pets": 1}
    assert _ids(metadata_store.query(ImageQuery(owner="alice", label="cat"))) == ["a"]


def test_tags_are_checked(metadata_store):
    record = _ready(metadata_store, "a", labeling=CAR)
    for bad in ("", "   ", "x" * 65, "bell\x07"):
        with pytest.raises(InvalidEditError):
            record.corrected(at=LATER, add_tags=(bad,))
    with pytest.raises(InvalidEditError, match="at most 40"):
        record.corrected(at=LATER, add_tags=tuple(f"tag {n}" for n in range(41)))


def test_a_tag_on_an_image_still_processing_counts_once_it_is_ready(metadata_store):
    created = metadata_store.create(_awaiting("a"))
    edited = metadata_store.transition(created, created.corrected(at=LATER, add_tags=("Horse",)))
    assert metadata_store.category_counts("alice") == {}
    from tests.unit.adapters.test_metadata_store_contract import _advance_to

    _advance_to(metadata_store, edited, ImageState.READY, CAR)
    assert metadata_store.category_counts("alice") == {"Animals and Pets": 1, "Vehicles and Automotive": 1}


# --- albums ----------------------------------------------------------------------------------------------
def test_an_album_lists_its_images_newest_first_with_a_cursor_and_counts_them(metadata_store):
    album = _album(metadata_store)
    for index in range(5):
        _ready(metadata_store, f"img-{index}", minutes=index)
    for index in (0, 1, 3, 4):
        _file(metadata_store, f"img-{index}", add=(album.album_id,))
    first = metadata_store.query(ImageQuery(owner="alice", album=album.album_id, limit=3))
    assert _ids(first) == ["img-4", "img-3", "img-1"]
    second = metadata_store.query(ImageQuery(owner="alice", album=album.album_id, limit=3, cursor=first.next))
    assert _ids(second) == ["img-0"] and second.next is None
    assert metadata_store.get_album(album.album_id).count == 4


def test_an_image_leaves_an_album_and_a_deleted_image_leaves_every_album(metadata_store):
    holidays = _album(metadata_store)
    cats = _album(metadata_store, "al_00000000000000b2", "Cats")
    _ready(metadata_store, "a")
    _ready(metadata_store, "b", minutes=1)
    _file(metadata_store, "a", add=(holidays.album_id, cats.album_id))
    _file(metadata_store, "b", add=(holidays.album_id,))
    _file(metadata_store, "b", remove=(holidays.album_id,))
    assert _ids(metadata_store.query(ImageQuery(owner="alice", album=holidays.album_id))) == ["a"]
    metadata_store.delete("a", at=LATER)
    assert _ids(metadata_store.query(ImageQuery(owner="alice", album=holidays.album_id))) == []
    assert _ids(metadata_store.query(ImageQuery(owner="alice", album=cats.album_id))) == []
    assert [a.count for a in metadata_store.albums("alice")] == [0, 0]


def test_albums_are_listed_by_name_per_owner(metadata_store):
    _album(metadata_store, "al_00000000000000a1", "zoo")
    _album(metadata_store, "al_00000000000000a2", "Beach")
    _album(metadata_store, "al_00000000000000a3", "Mine", owner="bob")
    assert [a.name for a in metadata_store.albums("alice")] == ["Beach", "zoo"]
    assert [a.name for a in metadata_store.albums("bob")] == ["Mine"]
    assert metadata_store.albums("carol") == ()


def test_an_album_is_renamed_and_given_a_cover_without_losing_its_count(metadata_store):
    album = _album(metadata_store)
    _ready(metadata_store, "a")
    _file(metadata_store, "a", add=(album.album_id,))
    current = metadata_store.get_album(album.album_id)
    updated = metadata_store.update_album(current, current.renamed("Summer 2026", at=LATER).covered("a", at=LATER))
    assert (updated.name, updated.cover_image_id, updated.count, updated.version) == ("Summer 2026", "a", 1, 2)
    assert metadata_store.get_album(album.album_id) == updated
    uncovered = metadata_store.update_album(updated, updated.covered(None, at=LATER))
    assert uncovered.cover_image_id is None and uncovered.count == 1


def test_a_stale_album_update_is_refused_and_a_missing_one_is_not_found(metadata_store):
    album = _album(metadata_store)
    metadata_store.update_album(album, album.renamed("One", at=LATER))
    with pytest.raises(StaleRecordError):
        metadata_store.update_album(album, album.renamed("Two", at=LATER))
    metadata_store.delete_album(album.album_id)
    with pytest.raises(NotFoundError):
        metadata_store.update_album(album, album.renamed("Three", at=LATER))


def test_an_album_id_is_unique(metadata_store):
    _album(metadata_store)
    with pytest.raises(RecordExistsError):
        _album(metadata_store, name="Again")


def test_deleting_an_album_leaves_its_images(metadata_store):
    album = _album(metadata_store)
    _ready(metadata_store, "a")
    _file(metadata_store, "a", add=(album.album_id,))
    _file(metadata_store, "a", remove=(album.album_id,))
    deleted = metadata_store.delete_album(album.album_id)
    assert deleted is not None and deleted.name == "Holidays"
    assert metadata_store.get_album(album.album_id) is None
    assert metadata_store.delete_album(album.album_id) is None
    assert metadata_store.albums("alice") == ()
    assert metadata_store.get("a").state is ImageState.READY


def test_a_count_written_after_an_album_was_deleted_reads_as_no_album(metadata_store):
    # GIVEN an image in an album that is deleted without taking the image out first
    album = _album(metadata_store)
    _ready(metadata_store, "a")
    _file(metadata_store, "a", add=(album.album_id,))
    metadata_store.delete_album(album.album_id)
    # WHEN the image leaves it later (its own deletion decrements the count)
    metadata_store.delete("a", at=LATER)
    # THEN there is still no album
    assert metadata_store.get_album(album.album_id) is None
    assert metadata_store.albums("alice") == ()


def test_an_image_is_in_at_most_50_albums(metadata_store):
    record = _ready(metadata_store, "a")
    with pytest.raises(InvalidEditError, match="at most 50"):
        record.filed(at=LATER, add=tuple(f"al_{n:016x}" for n in range(51)))


# --- near-duplicates -------------------------------------------------------------------------------------
def _hashed(store, image_id, phash, *, owner="alice", minutes=0):
    record = _ready(store, image_id, owner=owner, minutes=minutes)
    return store.transition(record, replace(record, phash=phash, updated_at=LATER))


def _group(store, image_id, group):
    current = store.get(image_id)
    return store.transition(current, current.grouped(at=LATER, group=group))


def test_near_duplicates_are_found_through_the_hash_bands_nearest_first(metadata_store):
    base = 0x9F3A_5C01_77E2_B4D8
    _hashed(metadata_store, "original", f"{base:016x}")
    _hashed(metadata_store, "resized", f"{base ^ 0b101:016x}", minutes=1)  # 2 bits away
    _hashed(metadata_store, "cropped", f"{base ^ 0x0101_0101_0001_0000:016x}", minutes=2)  # 5 bits, 4 bands
    _hashed(metadata_store, "other", f"{base ^ 0xFFFF_FFFF_0000_0000:016x}", minutes=3)  # 32 bits away
    _hashed(metadata_store, "bobs", f"{base:016x}", owner="bob")
    near = metadata_store.near_duplicates("alice", f"{base:016x}", max_distance=7)
    assert [r.image_id for r in near] == ["original", "resized", "cropped"]
    assert [r.image_id for r in metadata_store.near_duplicates("alice", f"{base:016x}", max_distance=3)] == [
        "original",
        "resized",
    ]


def test_a_deleted_image_is_no_near_duplicate(metadata_store):
    _hashed(metadata_store, "a", "00000000000000ff")
    metadata_store.delete("a", at=LATER)
    assert metadata_store.near_duplicates("alice", "00000000000000ff", max_distance=7) == ()


def test_duplicate_groups_list_groups_of_two_or_more_live_images_with_a_cursor(metadata_store):
    for index, image_id in enumerate(("a1", "a2", "b1", "b2", "b3", "c1", "c2", "d1")):
        _hashed(metadata_store, image_id, f"{index:016x}", minutes=index)
    for image_id in ("a1", "a2"):
        _group(metadata_store, image_id, "a1")
    for image_id in ("b1", "b2", "b3"):
        _group(metadata_store, image_id, "b1")
    for image_id in ("c1", "c2"):
        _group(metadata_store, image_id, "c1")
    _group(metadata_store, "d1", "d1")  # alone: not listed
    metadata_store.delete("c2", at=LATER)  # c1 is left alone: not listed
    first = metadata_store.duplicate_groups("alice", limit=1)
    assert [(g.group_id, [r.image_id for r in g.images]) for g in first.groups] == [("a1", ["a2", "a1"])]
    second = metadata_store.duplicate_groups("alice", limit=5, cursor=first.next)
    assert [(g.group_id, [r.image_id for r in g.images]) for g in second.groups] == [("b1", ["b3", "b2", "b1"])]
    assert second.next is None
    assert metadata_store.duplicate_groups("bob").groups == ()


def test_a_group_cursor_is_checked(metadata_store):
    with pytest.raises(InvalidQueryError):
        metadata_store.duplicate_groups("alice", cursor="not json")
    with pytest.raises(InvalidQueryError):
        metadata_store.duplicate_groups("alice", limit=0)


def test_copies_join_the_group_of_their_oldest_copy_whichever_is_hashed_last(metadata_store):
    from lambdas.domain.duplicates import join_near_duplicates

    original = _hashed(metadata_store, "original", "ffff0000ffff0000")
    copy = _hashed(metadata_store, "copy", "ffff0000ffff0003", minutes=1)
    other = _hashed(metadata_store, "other", "0123456789abcdef", minutes=2)
    joined = join_near_duplicates(metadata_store, copy, max_distance=7, at=LATER)
    assert joined.duplicate_group == "original"
    assert metadata_store.get("original").duplicate_group == "original"
    # a third copy hashed later joins the same group; an unrelated photo joins none
    third = _hashed(metadata_store, "third", "ffff0000ffff0001", minutes=3)
    assert join_near_duplicates(metadata_store, third, max_distance=7, at=LATER).duplicate_group == "original"
    assert join_near_duplicates(metadata_store, other, max_distance=7, at=LATER).duplicate_group is None
    groups = metadata_store.duplicate_groups("alice").groups
    assert [(g.group_id, [r.image_id for r in g.images]) for g in groups] == [
        ("original", ["third", "copy", "original"])
    ]
    assert original.duplicate_group is None  # the value read before stays as it was
