"""Rekognition's labels as the system knows them: each label's parents and categories.

``taxonomy.json`` is the offline vocabulary's label table (``tools/gen_taxonomy.py`` writes it), shipped
with the functions so that an owner's own tag that names a known label ("Horse") brings that label's
parents ("Mammal", "Animal") and categories ("Animals and Pets") to the image, locally and in AWS alike.
It is read once, on the first lookup.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from lambdas.domain.labels import Label

_PATH = Path(__file__).with_name("taxonomy.json")


@cache
def _table() -> dict[str, Label]:
    raw = json.loads(_PATH.read_text(encoding="utf-8"))
    return {
        " ".join(name.split()).casefold(): Label(
            name=name, confidence=100.0, parents=tuple(info[0]), categories=tuple(info[1])
        )
        for name, info in raw.items()
    }


def known_label(name: str) -> Label | None:
    """The label ``name`` names (case and spacing aside), with its parents and categories; ``None`` if unknown."""
    return _table().get(" ".join(name.split()).casefold())
