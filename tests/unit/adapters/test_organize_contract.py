"""The MetadataStore contract for the owner's organizing: favorites, own tags and corrections, albums.

Run against DynamoDB (moto) and SQLite, like ``test_metadata_store_contract``.
"""

from __future__ import annotations

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
