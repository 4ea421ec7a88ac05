"""Search synonyms: a small reviewed table from WordNet, each synonym one indexed word of a label."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from imgmgr.adapters.offline.vocabulary import Vocabulary
from lambdas.domain.queries import search_words
from lambdas.domain.synonyms import SYNONYMS_PATH, canonical_words, synonyms

REPO = Path(__file__).resolve().parents[3]
WORDNET = Path("/usr/share/wordnet")


@pytest.mark.parametrize(
    ("synonym", "word"),
    [("kitty", "cat"), ("puss", "cat"), ("automobile", "car"), ("sofa", "couch"), ("puppy", "dog")],
)
def test_everyday_synonyms_search_the_labels_word(synonym: str, word: str) -> None:
    assert canonical_words((synonym,)) == (word,)


def test_the_table_is_small_and_maps_normalized_words_to_other_words() -> None:
    # GIVEN the shipped table (it is in the function archive, read on the first search)
    table = synonyms()
    # THEN it is a few KiB; no word maps to itself or to another synonym; both sides are as searches
    # normalize them (so the lookup after search_words finds them)
    assert SYNONYMS_PATH.stat().st_size < 16 * 1024 and 50 < len(table) < 600
    assert all(synonym != word for synonym, word in table.items())
    assert not set(table.values()) & set(table)
    assert all(search_words(word) == (word,) for pair in table.items() for word in pair)


def test_the_table_ships_in_the_function_archive() -> None:
    from constructs_lib.packaging import function_entries

    assert "lambdas/domain/synonyms.json" in {name for name, _path in function_entries(REPO / "lambdas")}


def test_every_synonym_searches_a_word_of_a_label_and_hides_none() -> None:
    # GIVEN the words images are indexed under (the labels' words, as the offline vocabulary names them)
    indexed = {word for label in Vocabulary.load().labels for word in search_words(label)}
    # THEN each synonym's word is one of them, and no synonym is one (it would hide that word's images)
    table = synonyms()
    assert set(table.values()) <= indexed
    assert not set(table) & indexed


def test_search_words_keep_their_order_without_repeats() -> None:
    assert canonical_words(("garden", "kitty", "cat", "sofa")) == ("garden", "cat", "couch")
    assert canonical_words(()) == ()


@pytest.mark.skipif(
    not (WORDNET / "data.noun").exists(), reason="WordNet 3.0 is not installed (Debian package wordnet-base)"
)
def test_the_committed_table_is_what_the_generator_produces() -> None:
    # GIVEN the generator and WordNet WHEN it checks the committed file THEN it is up to date
    result = subprocess.run(
        [sys.executable, str(REPO / "tools" / "gen_synonyms.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
