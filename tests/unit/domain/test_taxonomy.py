"""The shipped taxonomy is the offline vocabulary's label table, and an owner's tag finds its label there."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from lambdas.domain.taxonomy import known_label

ROOT = Path(__file__).resolve().parents[3]


def test_the_taxonomy_file_is_what_the_generator_writes_from_the_vocabulary():
    spec = importlib.util.spec_from_file_location("gen_taxonomy", ROOT / "tools" / "gen_taxonomy.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (ROOT / "lambdas" / "domain" / "taxonomy.json").read_text(encoding="utf-8") == module.taxonomy_text()


def test_a_tag_finds_its_label_whatever_its_case_and_spacing():
    horse = known_label("  HORSE ")
    assert horse is not None
    assert (horse.name, horse.categories) == ("Horse", ("Animals and Pets",))
    assert "Animal" in horse.parents
    assert known_label("grandma's garden") is None
