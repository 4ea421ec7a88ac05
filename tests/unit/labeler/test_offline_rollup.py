"""The evidence roll-up: many unlikely classes never make a confident parent; below the threshold, abstain.

Synthetic probability vectors over ImageNet's 1000 classes; no model is needed.
"""

from __future__ import annotations

import numpy as np
import pytest

from imgmgr.adapters.offline.vocabulary import Vocabulary

# ImageNet indices used below.
LADYBUG, FLY, BEE, ANT = 301, 308, 309, 310
COCKER_SPANIEL, SUSSEX_SPANIEL = 219, 220
TABBY_CAT = 281
CASTLE, BELL_TOWER, CHURCH = 483, 442, 497
LAKESHORE, BEACH, VALLEY = 975, 978, 979
DAISY = 985
#: Takes the remainder where a test wants it out of the way (toilet paper: no animal, scene or building).
FILLER = 999


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    return Vocabulary.load()


def _probabilities(shares: dict[int, float], rest: float = 0.0) -> np.ndarray:
    """Class probabilities with ``shares`` set and ``rest`` spread evenly over every other class."""
    probabilities = np.full(1000, rest / (1000 - len(shares)), dtype=np.float32)
    for index, share in shares.items():
        probabilities[index] = share
    return probabilities


def _categories(vocabulary: Vocabulary, scores: dict[str, float], min_confidence: float = 50.0) -> set[str]:
    labels = vocabulary.to_labels(scores, min_confidence=min_confidence, max_labels=10)
    return {category for label in labels for category in label.categories}


def test_many_small_insect_probabilities_do_not_make_a_confident_animal(vocabulary: Vocabulary) -> None:
    # GIVEN a flower photo as the model sees it: a little daisy, bits of many insects, the rest spread thin
    probabilities = _probabilities({DAISY: 0.16, LADYBUG: 0.08, FLY: 0.08, BEE: 0.1, ANT: 0.06}, rest=0.52)
    # WHEN parents score their best child
    scores = vocabulary.evidence_scores(probabilities)
    # THEN "Animal" is far below what the sum gives and below the default threshold
    assert vocabulary.label_scores(probabilities)["Animal"] > 50.0
    assert scores["Animal"] < 30.0
    assert "Animals and Pets" not in _categories(vocabulary, scores)


def test_siblings_pool_into_their_direct_parent(vocabulary: Vocabulary) -> None:
    # GIVEN two spaniel breeds at 40% and 30%
    probabilities = _probabilities({COCKER_SPANIEL: 0.4, SUSSEX_SPANIEL: 0.3, FILLER: 0.3})
    # WHEN scored THEN "Dog" gets both breeds, and its ancestors as much as their best child
    scores = vocabulary.evidence_scores(probabilities)
    assert scores["Dog"] == pytest.approx(70.0, abs=0.5)
    assert scores["Animal"] == pytest.approx(scores["Dog"])
    assert scores["Cocker Spaniel"] == pytest.approx(40.0, abs=0.5)
    assert _categories(vocabulary, scores) == {"Animals and Pets"}


def test_a_parent_never_scores_less_than_its_best_child(vocabulary: Vocabulary) -> None:
    # GIVEN a tabby cat at 60%
    scores = vocabulary.evidence_scores(_probabilities({TABBY_CAT: 0.6, FILLER: 0.4}))
    # THEN every ancestor of "Tabby Cat" scores at least 60%
    for parent in vocabulary.labels["Tabby Cat"].parents:
        assert scores[parent] >= scores["Tabby Cat"] - 1e-3 >= 59.9


def test_scene_classes_pool_into_nature(vocabulary: Vocabulary) -> None:
    # GIVEN an aerial view the model splits between valley, lakeshore and beach
    probabilities = _probabilities({VALLEY: 0.22, LAKESHORE: 0.21, BEACH: 0.2, FILLER: 0.37})
    # WHEN scored THEN "Nature" adds them up, and the photo is "Nature and Outdoors"
    scores = vocabulary.evidence_scores(probabilities)
    assert scores["Nature"] == pytest.approx(63.0, abs=0.5)
    assert _categories(vocabulary, scores) == {"Nature and Outdoors"}


def test_building_classes_pool_into_architecture(vocabulary: Vocabulary) -> None:
    # GIVEN an old street the model splits between castle, bell tower and church
    probabilities = _probabilities({CASTLE: 0.31, BELL_TOWER: 0.11, CHURCH: 0.1, FILLER: 0.48})
    # WHEN scored THEN "Architecture" adds them up
    scores = vocabulary.evidence_scores(probabilities)
    assert scores["Architecture"] == pytest.approx(52.0, abs=0.5)
    assert _categories(vocabulary, scores) == {"Buildings and Architecture"}


def test_a_flat_distribution_abstains(vocabulary: Vocabulary) -> None:
    # GIVEN an abstract picture: no class stands out
    scores = vocabulary.evidence_scores(_probabilities({}, rest=1.0))
    # WHEN labels of 50% or more are asked for THEN there are none: no label, no category
    assert vocabulary.to_labels(scores, min_confidence=50.0, max_labels=10) == ()


def test_evidence_scores_refuse_a_wrong_shape(vocabulary: Vocabulary) -> None:
    with pytest.raises(ValueError, match=r"probabilities must have shape \(1000,\)"):
        vocabulary.evidence_scores(np.zeros(10, dtype=np.float32))


def test_classes_photographed_among_plants_pool_into_vegetation_not_animal(vocabulary: Vocabulary) -> None:
    # GIVEN the flower photo as the model sees it: a little daisy and bits of insects shot on flowers
    probabilities = _probabilities({DAISY: 0.16, LADYBUG: 0.08, BEE: 0.18, ANT: 0.1, FILLER: 0.48})
    # WHEN context labels pool their classes
    scores = vocabulary.evidence_scores(probabilities, contexts=True)
    # THEN "Vegetation" (Plants and Flowers) has them all, "Animal" still only its best child
    assert scores["Vegetation"] == pytest.approx(52.0, abs=0.5)
    assert scores["Plant"] >= scores["Vegetation"]
    assert scores["Animal"] < 30.0
    assert _categories(vocabulary, scores) == {"Plants and Flowers"}
    # AND without contexts the same photo abstains, as before
    assert not _categories(vocabulary, vocabulary.evidence_scores(probabilities))


def test_a_fly_on_a_table_is_no_evidence_of_vegetation(vocabulary: Vocabulary) -> None:
    # GIVEN a house fly (ImageNet's flies are not shot among plants) WHEN scored with contexts
    scores = vocabulary.evidence_scores(_probabilities({FLY: 0.9, FILLER: 0.1}), contexts=True)
    # THEN it is an animal and no vegetation
    assert "Vegetation" not in scores
    assert _categories(vocabulary, scores) == {"Animals and Pets"}


def test_observed_evidence_joins_the_classifiers_as_either_may_show_it(vocabulary: Vocabulary) -> None:
    # GIVEN 40% of context classes and, seen in the pixels, a further 0.5 of evidence of vegetation
    probabilities = _probabilities({BEE: 0.4, FILLER: 0.6})
    # WHEN scored THEN the two combine as 1 - (1 - 0.4)(1 - 0.5) = 70%
    scores = vocabulary.evidence_scores(probabilities, contexts=True, observed={"Vegetation": 0.5})
    assert scores["Vegetation"] == pytest.approx(70.0, abs=0.5)
    # AND observed evidence alone makes the label when the classifier has none of it
    alone = vocabulary.evidence_scores(_probabilities({FILLER: 1.0}), observed={"Vegetation": 0.6})
    assert alone["Vegetation"] == pytest.approx(60.0, abs=0.5)


@pytest.mark.parametrize(
    ("observed", "message"),
    [({"Vegetation": 1.5}, r"observed evidence of 'Vegetation' must be in \[0, 1\]"), ({"Nope": 0.5}, r"'Nope'")],
)
def test_observed_evidence_outside_0_1_or_of_an_unknown_label_is_refused(
    vocabulary: Vocabulary, observed: dict[str, float], message: str
) -> None:
    # GIVEN / WHEN observed evidence is out of range or names no label THEN it is refused by name
    with pytest.raises(ValueError, match=message):
        vocabulary.evidence_scores(_probabilities({FILLER: 1.0}), observed=observed)
