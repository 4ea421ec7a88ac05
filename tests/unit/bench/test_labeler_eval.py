"""The labeler evaluation's figures: a shown category is right when a person expected it; none may be right."""

from __future__ import annotations

import pytest

from bench.labeler_eval import NONE, Outcome, figures
from bench.labeler_photos import Photo, load_manifest
from lambdas.domain.labels import CATEGORIES

ANIMALS, PLANTS, NATURE = "Animals and Pets", "Plants and Flowers", "Nature and Outdoors"


def _photo(name: str, *expected: str) -> Photo:
    return Photo(package="test", file=f"/test/{name}.jpg", kind="test", expected=expected, content=name)


def test_precision_coverage_abstentions_and_confusions() -> None:
    # GIVEN a flower shown as an animal, a cat shown right, an abstract picture left alone, a meadow missed
    outcomes = [
        Outcome(_photo("flower", PLANTS, NATURE), (ANIMALS, PLANTS)),
        Outcome(_photo("cat", ANIMALS), (ANIMALS,)),
        Outcome(_photo("abstract"), ()),
        Outcome(_photo("meadow", NATURE), ()),
    ]
    # WHEN the figures are computed
    result = figures(outcomes)
    # THEN precision counts shown categories, coverage photos expecting some, and "none" is right for abstract
    assert result.precision == pytest.approx(2 / 3)
    assert result.coverage == pytest.approx(2 / 3)
    assert result.top_accuracy == pytest.approx(2 / 4)
    assert (result.abstentions, result.abstentions_right) == (2, 1)
    assert result.per_category == {ANIMALS: (1, 2), PLANTS: (1, 1)}
    assert result.confusions == {(PLANTS, ANIMALS): 1, (NATURE, NONE): 1}


def test_the_manifest_uses_only_known_categories_and_covers_every_kind() -> None:
    # GIVEN the committed manifest WHEN read THEN its photos are distinct, named with real categories, and varied
    photos = load_manifest()
    assert len(photos) >= 60
    assert len({photo.file for photo in photos}) == len(photos)
    assert {category for photo in photos for category in photo.expected} <= set(CATEGORIES)
    kinds = {photo.kind for photo in photos}
    assert {"scene", "plant", "animal", "person", "food", "building", "vehicle", "object", "abstract"} <= kinds
