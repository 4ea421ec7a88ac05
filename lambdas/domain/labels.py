"""Labels and categories: what a labeler says an image shows.

The vocabulary is Amazon Rekognition's: a label has a name ("Cat"), a confidence in percent, its
parents ("Animal", "Mammal", "Pet") and the label categories Rekognition assigns to it
("Animals and Pets"). The offline labeler maps its own classes onto the same vocabulary, so that a
query by category means the same thing locally and in AWS.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Rekognition's label categories (DetectLabels ``Labels[].Categories[].Name``), the closed set of
#: categories the system stores and queries by.
CATEGORIES: tuple[str, ...] = (
    "Animals and Pets",
    "Apparel and Accessories",
    "Beauty and Personal Care",
    "Buildings and Architecture",
    "Colors and Visual Composition",
    "Damage Detection",
    "Education",
    "Everyday Objects",
    "Expressions and Emotions",
    "Food and Beverage",
    "Furniture and Furnishings",
    "Health and Fitness",
    "Hobbies and Interests",
    "Home and Indoors",
    "Kitchen and Dining",
    "Medical",
    "Nature and Outdoors",
    "Occupations",
    "Person Description",
    "Performing Arts",
    "Plants and Flowers",
    "Popular Landmarks",
    "Public Safety",
    "Religion",
    "Sports",
    "Symbols and Flags",
    "Technology and Computing",
    "Text and Documents",
    "Tools and Machinery",
    "Travel and Adventure",
    "Vehicles and Automotive",
    "Weapons and Military",
    "Events and Attractions",
    "Backgrounds",
)


def normalize_label(name: str) -> str:
    """The form label names are compared and indexed under: trimmed, inner spaces collapsed, case-folded
    (``"Cat"``, ``" cat "`` and ``"CAT"`` are one label)."""
    return " ".join(name.split()).casefold()


@dataclass(frozen=True, slots=True)
class Label:
    """One thing seen in an image.

    ``confidence`` is in percent (0-100), as Rekognition reports it.
    """

    name: str
    confidence: float
    parents: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Labeling:
    """What a labeler returned for one image: labels (highest confidence first) and the model used."""

    labels: tuple[Label, ...] = ()
    model: str = ""

    @property
    def categories(self) -> tuple[str, ...]:
        """Distinct categories over all labels, in order of first appearance."""
        seen: dict[str, None] = {}
        for label in self.labels:
            for category in label.categories:
                seen.setdefault(category, None)
        return tuple(seen)

    @property
    def tags(self) -> tuple[str, ...]:
        """Distinct label names and their parents, in order of first appearance."""
        seen: dict[str, None] = {}
        for label in self.labels:
            seen.setdefault(label.name, None)
            for parent in label.parents:
                seen.setdefault(parent, None)
        return tuple(seen)
