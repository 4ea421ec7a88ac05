"""Write ``lambdas/domain/taxonomy.json``: every label of the offline vocabulary with its parents and categories.

The functions look up an owner's own tags there (``lambdas.domain.taxonomy``): a tag that names a known label
brings that label's parents and categories, so that the image's categories follow the owner's correction.
The offline vocabulary (``imgmgr/adapters/offline/vocabulary.json``) does not ship to Lambda; this compact copy
of its ``labels`` does. Run after changing the vocabulary: ``python tools/gen_taxonomy.py``;
``tests/unit/domain/test_taxonomy.py`` fails while the two disagree.
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VOCABULARY = ROOT / "imgmgr" / "adapters" / "offline" / "vocabulary.json"
TAXONOMY = ROOT / "lambdas" / "domain" / "taxonomy.json"


def taxonomy_text(vocabulary: Path = VOCABULARY) -> str:
    """The taxonomy file's text for ``vocabulary``: ``{label: [parents, categories]}``, sorted, compact."""
    labels = json.loads(vocabulary.read_text(encoding="utf-8"))["labels"]
    table = {name: [info["parents"], info["categories"]] for name, info in sorted(labels.items())}
    return json.dumps(table, separators=(",", ":"), ensure_ascii=False) + "\n"


if __name__ == "__main__":
    TAXONOMY.write_text(taxonomy_text(), encoding="utf-8")
    print(f"wrote {TAXONOMY.relative_to(ROOT)}")
