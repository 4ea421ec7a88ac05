"""Search synonyms: a word of a free-text search that is a synonym searches the indexed word it stands for.

Images are indexed under the words of their labels, categories and file name
(``lambdas.domain.queries.record_words``); a search for "kitty" or "automobile" should find the cats and
the cars. The table (``synonyms.json`` beside this module, generated from WordNet by
``tools/gen_synonyms.py`` and reviewed) maps each synonym to exactly **one** canonical word, the word of
a label: a search reads one word's index and filters the records it finds by the others, so a synonym
must neither add an index read (as "this word or that" would) nor a word. Images are indexed the same
way (``record_words`` maps every word it indexes through this table), so a file ``kitty.jpg``, an own tag
"Grandma's sofa" or a Rekognition label "Puppy" (Rekognition's labels are more than the offline vocabulary's
the table was made from) is found by "kitty", "sofa" and "puppy", which search "cat", "couch" and "dog". A
word indexed under an older table keeps its form until the image is written again.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

SYNONYMS_PATH = Path(__file__).with_name("synonyms.json")
"""The table: ``{"synonyms": {"kitty": "cat", ...}}``, normalized words (``queries.search_words``) both sides."""


@functools.cache
def synonyms() -> Mapping[str, str]:
    """Synonym -> canonical word, read from ``SYNONYMS_PATH`` once per process (on the first search)."""
    table = json.loads(SYNONYMS_PATH.read_text(encoding="utf-8"))["synonyms"]
    return MappingProxyType(dict(table))


def canonical_words(words: tuple[str, ...]) -> tuple[str, ...]:
    """``words`` (normalized by ``queries.search_words``) with each synonym replaced by its canonical word,
    in order, each once (``("kitty", "sofa")`` -> ``("cat", "couch")``; ``("kitty", "cat")`` -> ``("cat",)``)."""
    table = synonyms()
    return tuple(dict.fromkeys(table.get(word, word) for word in words))
