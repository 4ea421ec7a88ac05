"""Real photographs with known content get a sensible category.

The photos are the CC-licensed wallpapers of Debian's ``lomiri-wallpapers-16.04`` and
``lomiri-wallpapers-20.04`` packages; each test skips when its package is not installed. Each photo is
first reduced to the 1024 px JPEG analysis rendition the pipeline sends to a labeler.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from imgmgr.adapters.offline.labeler import OfflineLabeler

from .conftest import encode

BACKGROUNDS = Path("/usr/share/backgrounds")

# (file, Debian package, min_confidence, a label expected, the category expected, what the photo shows)
PHOTOS = [
    ("Kleiber_by_Lukas_Baubkus.jpg", "lomiri-wallpapers-20.04", 50, "Bird", "Animals and Pets", "a nuthatch"),
    ("friends_by_Aitzol_Berasategi.jpg", "lomiri-wallpapers-16.04", 50, "Dog", "Animals and Pets", "two spaniels"),
    ("aitzgorri_by_Aitzol_Berasategi.jpg", "lomiri-wallpapers-16.04", 50, "Mountain", "Nature and Outdoors", "hills"),
    (
        "picosdeeuropa_by_Aitzol_Berasategi.jpg",
        "lomiri-wallpapers-16.04",
        50,
        "Mountain",
        "Nature and Outdoors",
        "peaks",
    ),
    ("life_by_Aitzol_Berasategi.jpg", "lomiri-wallpapers-16.04", 50, "Valley", "Nature and Outdoors", "a creek"),
    ("Picture_1A_by_freespace.jpg", "lomiri-wallpapers-16.04", 50, "Paintbrush", "Hobbies and Interests", "brushes"),
    ("greentock_by_Peter_Nerlich.jpg", "lomiri-wallpapers-16.04", 50, "Clock", "Everyday Objects", "a wall clock"),
    ("Wine_by_Jakkub_Mede.jpg", "lomiri-wallpapers-16.04", 30, "Musical Instrument", "Performing Arts", "a djembe"),
    # The small dragonfly gets no class above 8% (its "Animal" 54% was forty unlikely classes summed); the
    # leaves it sits in are what the classifier sees (acorn 31%).
    (
        "Dragonfly_by_Bolly.jpg",
        "lomiri-wallpapers-16.04",
        30,
        "Plant",
        "Plants and Flowers",
        "a dragonfly among leaves",
    ),
    # Dandelion clocks in grass: no class above 14% (cardoon, daisy, bee...), pooled into Vegetation.
    (
        "seeding_by_Clements_Engelhardt.jpg",
        "lomiri-wallpapers-16.04",
        50,
        "Vegetation",
        "Plants and Flowers",
        "dandelion clocks",
    ),
    # No ImageNet class names the sky (geyser 10%, cauldron 9%, volcano 9%); its blue top third does.
    ("sunset_by_Aitzol_Berasategi.jpg", "lomiri-wallpapers-16.04", 50, "Sky", "Nature and Outdoors", "a sunset"),
    (
        "Bridge_by_Sander_Klootwijk.jpg",
        "lomiri-wallpapers-16.04",
        20,
        "Architecture",
        "Buildings and Architecture",
        "bridge cables",
    ),
]


def _analysis_rendition(path: Path) -> bytes:
    with Image.open(path) as picture:
        picture.draft("RGB", (2048, 2048))
        picture = picture.convert("RGB")
        picture.thumbnail((1024, 1024))
        return encode(picture, "JPEG")


@pytest.mark.parametrize(
    ("name", "package", "min_confidence", "label", "category", "content"),
    PHOTOS,
    ids=[photo[0].split("_by_")[0] for photo in PHOTOS],
)
def test_a_real_photo_gets_a_sensible_label_and_category(
    model_cache: Path, name: str, package: str, min_confidence: float, label: str, category: str, content: str
) -> None:
    # GIVEN a photograph of known content
    path = BACKGROUNDS / name
    if not path.exists():
        pytest.skip(f"{name} comes with the Debian package {package}, which is not installed")
    labeler = OfflineLabeler(model_cache, min_confidence=min_confidence)
    # WHEN its analysis rendition is labeled
    labeling = labeler.detect(_analysis_rendition(path))
    # THEN the expected label and category are among the results
    names = [found.name for found in labeling.labels]
    assert label in names, f"{content}: got {names}"
    assert category in labeling.categories, f"{content}: got {labeling.categories}"


@pytest.mark.parametrize("name", [photo[0] for photo in PHOTOS], ids=[photo[0].split("_by_")[0] for photo in PHOTOS])
def test_a_photo_without_people_gets_no_person(labeler: OfflineLabeler, name: str) -> None:
    # GIVEN a photograph with no one in it (foliage and textures are the face cascade's usual false positives)
    path = BACKGROUNDS / name
    if not path.exists():
        pytest.skip(f"{name} comes with a lomiri-wallpapers Debian package, which is not installed")
    # WHEN it is labeled with the defaults THEN no Person label appears
    names = [label.name for label in labeler.detect(_analysis_rendition(path)).labels]
    assert "Person" not in names


@pytest.mark.parametrize("name", ["Fossa_by_Jasper_Roks.jpg", "umang_by_Abhishek_Mudgal.jpg"], ids=["Fossa", "umang"])
def test_a_wallpaper_graphic_gets_no_category(labeler: OfflineLabeler, name: str) -> None:
    # GIVEN a wallpaper of gradients and curves (Fossa was "Lampshade", Home and Indoors)
    path = BACKGROUNDS / name
    if not path.exists():
        pytest.skip(f"{name} comes with the Debian package lomiri-wallpapers-20.04, which is not installed")
    # WHEN labeled with the defaults THEN the labeler abstains
    assert labeler.detect(_analysis_rendition(path)).categories == ()
