"""The object detector: the real CenterNet (fetched by ``make venv``) on photos, and how it is installed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PIL import Image
from skimage import data as skimage_data

from imgmgr.adapters.offline.errors import ModelUnavailableError
from imgmgr.adapters.offline.labeler import OfflineLabeler
from imgmgr.adapters.offline.model_files import models_dir
from imgmgr.adapters.offline.objects import COCO_CLASSES, ObjectDetector
from tests.unit.labeler.conftest import encode


@pytest.fixture(scope="module")
def detector(model_cache: Path) -> ObjectDetector:
    detector = ObjectDetector(model_cache)
    detector.load()
    return detector


def test_the_astronaut_is_a_person_and_the_coffee_a_cup(detector: ObjectDetector) -> None:
    # GIVEN scikit-image's astronaut portrait and cup of coffee
    astronaut = detector.scores(Image.fromarray(skimage_data.astronaut()))
    coffee = detector.scores(Image.fromarray(skimage_data.coffee()))
    # THEN every COCO class has a score in [0, 1], and the right ones stand out
    assert set(astronaut) == set(COCO_CLASSES) and all(0.0 <= score <= 1.0 for score in astronaut.values())
    assert astronaut["person"] > 0.5 > coffee["person"]
    assert coffee["cup"] > 0.3 > astronaut["cup"]
    assert max(coffee, key=coffee.__getitem__) == "cup"


def test_a_cat_alone_is_no_person(detector: ObjectDetector) -> None:
    assert detector.scores(Image.fromarray(skimage_data.chelsea()))["person"] < 0.3


def test_the_converted_model_is_cached_and_named_by_its_files(detector: ObjectDetector, model_cache: Path) -> None:
    # GIVEN the loaded detector THEN its ONNX conversion sits in the cache under the files' digests
    assert detector.name.startswith("centernet-mb3@")
    assert len(list(model_cache.glob("centernet-mb3-*.onnx"))) == 1


def test_a_missing_model_says_how_to_fetch_it(tmp_path: Path) -> None:
    # GIVEN a model directory without the model WHEN the detector loads THEN the error says what to run
    with pytest.raises(ModelUnavailableError, match=r"make venv"):
        ObjectDetector(tmp_path / "cache", model_dir=tmp_path / "nothing").load()


def test_the_input_side_must_suit_the_network(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="multiple of 32"):
        ObjectDetector(tmp_path, input_side=300)


def test_the_model_directory_can_be_configured(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("IMGMGR_MODELS_DIR", str(tmp_path))
    assert models_dir() == tmp_path


def test_without_fetched_models_the_labeler_goes_on_without_its_detectors_and_says_so(
    monkeypatch: pytest.MonkeyPatch, model_cache: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN an environment whose detectors were never fetched
    monkeypatch.setenv("IMGMGR_MODELS_DIR", str(tmp_path / "nothing"))
    labeler = OfflineLabeler(model_cache)
    # WHEN it labels the astronaut
    with caplog.at_level("WARNING", logger="imgmgr.labeler"):
        labeling = labeler.detect(encode(skimage_data.astronaut()))
    # THEN it still labels (the classifier, and the face cascade on every image), and the log says how to fetch
    assert {"Person", "Face"} <= {label.name for label in labeling.labels}
    assert "centernet" not in labeling.model and "ppocr" not in labeling.model
    assert "object detector" in caplog.text and "text detector" in caplog.text and "make venv" in caplog.text


def test_an_altered_model_file_leaves_out_only_its_detector(
    model_cache: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN fetched models whose CenterNet weights were damaged (same size, other bytes)
    fetched = tmp_path / "models"
    shutil.copytree(models_dir(), fetched)
    weights = bytearray((fetched / "centernet.bin").read_bytes())
    weights[1000:1010] = bytes(10)
    (fetched / "centernet.bin").write_bytes(bytes(weights))
    labeler = OfflineLabeler(model_cache)
    labeler._objects = ObjectDetector(tmp_path / "cache", model_dir=fetched)
    # WHEN it loads THEN the object detector is left out, naming the file; the text detector stays
    with caplog.at_level("WARNING", logger="imgmgr.labeler"):
        labeler.load()
    assert labeler._objects is None and labeler._text is not None
    assert "centernet.bin is not the pinned file" in caplog.text
    assert "ppocrv4-det" in labeler.detect(encode(skimage_data.page())).model
