"""The offline labeler's vocabulary: ImageNet-1k classes mapped onto Rekognition's labels and categories.

The mapping lives in ``vocabulary.json`` next to this module, generated and reviewed with
``tools/gen_vocabulary.py``. Each class has one label; each label has parents and categories. A label's
confidence is scored one of two ways:

- ``label_scores`` (the first rule, kept for comparison): the summed probability of every class that is it
  or descends from it. Ten dog breeds at 8% each give "Dog" 80%, but forty insect classes at 2% each also
  give "Animal" 80% on a photo of flowers, which ImageNet has no class for.
- ``evidence_scores`` (the default): a label's *evidence* is the summed probability of the classes that
  are it or its direct children (dog breeds pool into "Dog", cats into "Cat", but bees, ants and
  butterflies do not pool into "Animal"), or of all its descendants for the labels in
  ``POOLED_LABELS`` (scene classes: valley, lakeshore, alp and sandbar are alternative names of one
  landscape; castle, bell tower and monastery of one old building). A label then scores the largest evidence among itself and its descendants: a parent is
  as confident as its most confident child, never the sum of many unlikely ones.

  *Context labels* pool on purpose the classes whose photos show them around their subject
  (``"context"`` of a class in ``vocabulary.json``): ImageNet's bees, butterflies, ladybirds and tree frogs
  are photographed among leaves and flowers, so together they are evidence of "Vegetation", although
  none of them alone is of "Animal". Evidence observed outside the classifier (the labeler's green share)
  joins a label's own as ``1 - (1 - a)(1 - b)``: either may show it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from imgmgr.adapters.offline.errors import OfflineLabelerError
from lambdas.domain.labels import CATEGORIES, Label

#: The reviewed mapping shipped with the code.
VOCABULARY_PATH = Path(__file__).with_name("vocabulary.json")
#: Labels whose descendants all pool their probabilities: ImageNet's scene classes (valley, alp, lakeshore,
#: sandbar...) name one landscape, its building classes (castle, bell tower, monastery...) one building.
#: Measured on ``bench/labeler_eval.json``: pooling "Plant" or "Food" as well changed nothing.
POOLED_LABELS = frozenset({"Nature", "Architecture"})


@dataclass(frozen=True, slots=True)
class LabelInfo:
    """One label of the vocabulary: its ancestors (nearest first) and its categories."""

    name: str
    parents: tuple[str, ...]
    categories: tuple[str, ...]


class Vocabulary:
    """Turns class probabilities into Rekognition-style labels."""

    def __init__(
        self,
        labels: dict[str, LabelInfo],
        class_labels: list[str],
        class_contexts: list[tuple[str, ...]] | None = None,
    ) -> None:
        self.labels = labels
        self.class_labels = tuple(class_labels)
        self._names = tuple(sorted(labels))
        row = {name: i for i, name in enumerate(self._names)}
        # contributions[l, c] = 1 when class c is label l or one of its descendants.
        self._contributions = np.zeros((len(self._names), len(class_labels)), dtype=np.float32)
        # evidence[l, c] = 1 when class c is label l, a direct child of l, or a descendant of a pooled l.
        self._evidence = np.zeros_like(self._contributions)
        for column, name in enumerate(class_labels):
            parents = labels[name].parents
            for target in (name, *parents):
                self._contributions[row[target], column] = 1.0
            for target in (name, *parents[:1], *(parent for parent in parents if parent in POOLED_LABELS)):
                self._evidence[row[target], column] = 1.0
        # context[l, c] = 1 when the photos of class c show label l around their subject.
        self._context = np.zeros_like(self._contributions)
        for column, contexts in enumerate(class_contexts or ()):
            for context in contexts:
                self._context[row[context], column] = 1.0
        self._rows = row
        # (ancestor, descendant) rows of every label pair, for a parent's "best child" score.
        pairs = [(row[parent], row[name]) for name, info in labels.items() for parent in info.parents]
        self._ancestor_rows = np.array([a for a, _ in pairs], dtype=np.intp)
        self._descendant_rows = np.array([d for _, d in pairs], dtype=np.intp)

    @classmethod
    def load(cls, path: Path = VOCABULARY_PATH) -> Vocabulary:
        """Read and check the mapping file; raises :class:`OfflineLabelerError` when it is inconsistent."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            raw_labels: dict[str, dict[str, list[str]]] = data["labels"]
            classes: list[dict] = data["classes"]
            ordered = sorted(classes, key=lambda entry: entry["index"])
            class_labels = [entry["label"] for entry in ordered]
            class_contexts = [tuple(entry.get("context", ())) for entry in ordered]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise OfflineLabelerError(f"vocabulary {path.name} is unreadable: {error}") from error
        labels = {
            name: LabelInfo(name, _ancestors(name, raw_labels), tuple(entry["categories"]))
            for name, entry in raw_labels.items()
        }
        for info in labels.values():
            unknown = [category for category in info.categories if category not in CATEGORIES]
            if unknown or not info.categories:
                raise OfflineLabelerError(f"vocabulary label {info.name!r} has bad categories {unknown}")
        missing = sorted({name for name in (*class_labels, *sum(class_contexts, ())) if name not in labels})
        if missing:
            raise OfflineLabelerError(f"vocabulary classes use undefined labels {missing[:5]}")
        return cls(labels, class_labels, class_contexts)

    def label_scores(self, probabilities: np.ndarray) -> dict[str, float]:
        """Confidence in percent (0-100) of every label with a non-zero score."""
        if probabilities.shape != (len(self.class_labels),):
            raise ValueError(f"probabilities must have shape ({len(self.class_labels)},)")
        scores = np.minimum(self._contributions @ probabilities.astype(np.float32) * 100.0, 100.0)
        return {self._names[i]: float(scores[i]) for i in np.flatnonzero(scores > 0)}

    def evidence_scores(
        self,
        probabilities: np.ndarray,
        *,
        contexts: bool = False,
        observed: dict[str, float] | None = None,
    ) -> dict[str, float]:
        """Confidence in percent (0-100) of every label with a non-zero score, parents as their best child.

        ``contexts``: context labels pool their classes. Default: False.
        ``observed``: label -> evidence (0-1) seen outside the classifier, joined to the label's own.
        Default: none.
        """
        if probabilities.shape != (len(self.class_labels),):
            raise ValueError(f"probabilities must have shape ({len(self.class_labels)},)")
        matrix = self._evidence + self._context if contexts else self._evidence
        evidence = np.minimum(matrix @ probabilities.astype(np.float32), 1.0)
        for name, value in (observed or {}).items():
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"observed evidence of {name!r} must be in [0, 1], got {value}")
            row = self._rows.get(name)
            if row is None:
                raise ValueError(f"observed evidence names {name!r}, which is not a label of the vocabulary")
            evidence[row] = 1.0 - (1.0 - evidence[row]) * (1.0 - value)
        evidence *= 100.0
        scores = evidence.copy()
        np.maximum.at(scores, self._ancestor_rows, evidence[self._descendant_rows])
        return {self._names[i]: float(scores[i]) for i in np.flatnonzero(scores > 0)}

    def to_labels(self, scores: dict[str, float], *, min_confidence: float, max_labels: int) -> tuple[Label, ...]:
        """The ``max_labels`` most confident labels at or above ``min_confidence``, highest first."""
        kept = sorted(
            ((confidence, name) for name, confidence in scores.items() if confidence >= min_confidence),
            key=lambda item: (-item[0], item[1]),
        )[:max_labels]
        return tuple(
            Label(
                name=name,
                confidence=round(confidence, 2),
                parents=self.labels[name].parents,
                categories=self.labels[name].categories,
            )
            for confidence, name in kept
        )


def _ancestors(name: str, raw: dict[str, dict[str, list[str]]]) -> tuple[str, ...]:
    """Every ancestor of ``name``, breadth first (direct parents first); refuses unknown parents and cycles."""
    seen: dict[str, None] = {}
    frontier = [name]
    while frontier:
        following = []
        for current in frontier:
            try:
                parents = raw[current]["parents"]
            except KeyError:
                raise OfflineLabelerError(f"vocabulary label {current!r} is not defined") from None
            for parent in parents:
                if parent == name:
                    raise OfflineLabelerError(f"vocabulary label {name!r} is its own ancestor")
                if parent not in seen:
                    seen[parent] = None
                    following.append(parent)
        frontier = following
    return tuple(seen)
