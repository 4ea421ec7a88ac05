"""The text detector (PP-OCRv4, fetched by ``make venv``) and the "Text" label it gives before abstaining."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from skimage import data as skimage_data

from imgmgr.adapters.offline.errors import ModelUnavailableError
from imgmgr.adapters.offline.labeler import OfflineLabeler
from imgmgr.adapters.offline.text import TextDetector
from tests.unit.labeler.conftest import encode, spy


@pytest.fixture(scope="module")
def detector() -> TextDetector:
    detector = TextDetector()
    detector.load()
    return detector


def test_a_printed_page_is_mostly_text_and_a_portrait_is_not(detector: TextDetector) -> None:
    # GIVEN scikit-image's scanned page and its astronaut portrait
    page = detector.share(Image.fromarray(skimage_data.page()))
    portrait = detector.share(Image.fromarray(skimage_data.astronaut()))
    # THEN the page's text lines cover a large share of it, the portrait's almost nothing
    assert page > 0.1
    assert portrait < 0.02


def test_a_page_is_labeled_text_rather_than_nothing(model_cache: Path) -> None:
    # GIVEN the scanned page, which the classifier and the object detector say nothing confident about
    image = encode(skimage_data.page())
    without = OfflineLabeler(model_cache, detect_text=False).detect(image)
    # WHEN the default labeler labels it
    labeling = OfflineLabeler(model_cache).detect(image)
    # THEN it is Text, in Text and Documents, where the labeler without the text detector abstained
    assert without.labels == ()
    assert [label.name for label in labeling.labels] == ["Text"]
    assert labeling.categories == ("Text and Documents",)
    assert "ppocrv4-det" in labeling.model


def test_the_text_detector_is_not_asked_when_there_are_labels(model_cache: Path) -> None:
    # GIVEN a labeler whose text detector records its calls
    labeler = OfflineLabeler(model_cache)
    assert labeler._text is not None
    asked = spy(labeler._text, "share")
    # WHEN the coffee photo (confidently Espresso) and then the page are labeled
    labeler.detect(encode(skimage_data.coffee()))
    labeler.detect(encode(skimage_data.page()))
    # THEN the text detector was asked about the page only
    assert [call[0].size for call in asked] == [Image.fromarray(skimage_data.page()).size]  # type: ignore[attr-defined]


def test_a_missing_model_says_how_to_fetch_it(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError, match=r"make venv"):
        TextDetector(model_dir=tmp_path).load()


def test_the_input_side_must_suit_the_network() -> None:
    with pytest.raises(ValueError, match="multiple of 32"):
        TextDetector(input_side=100)
