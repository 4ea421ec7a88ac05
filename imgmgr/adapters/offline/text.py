"""Printed text with PP-OCRv4's text detector (DBNet, MobileNetV3), for photos of documents and pages.

ImageNet has a few text-bearing classes (menu, crossword, web site, book jacket) but no class for a page
of text, and on one it spreads its probability over plaques and slide rules. This detector answers the
one question the labeler asks of it: how much of the image is printed text. Its model is the ONNX file
``ch_PP-OCRv4_det_infer.onnx`` of the ``rapidocr_onnxruntime`` wheel (Apache-2.0; PaddleOCR's detector),
placed at install time by ``tools/fetch_models.py`` and read as it is (no conversion). Nothing is
downloaded at run time.

The network outputs, per pixel, the probability that it lies inside a text line; the share of pixels
above ``TEXT_PIXEL`` (DBNet's usual binarization threshold) is the image's text share. The image is
resized so that its longer side is ``INPUT_SIDE`` (sides rounded to multiples of 32), BGR scaled with
ImageNet's mean and deviation as PaddleOCR feeds it. At 192 px a page of body text is still found (a
quarter of its pixels) for ~7 ms of one core; smaller text is not, which suits a label that should say
"this is a document", not "there is a word somewhere".
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from imgmgr.adapters.offline.errors import ModelUnavailableError
from imgmgr.adapters.offline.model_files import PPOCR_DET_FILES, FetchedModel, LoadedModel, open_session, verified

MODEL_NAME = "ppocrv4-det"
MODEL_FILE = next(iter(PPOCR_DET_FILES))
#: Longer side of the image given to the network; a multiple of its stride (32).
INPUT_SIDE = 192
#: A pixel is text when the network's probability is above this.
TEXT_PIXEL = 0.3
#: PaddleOCR's normalization of its BGR input (ImageNet's statistics, listed in RGB order, applied to BGR).
_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


class TextDetector(FetchedModel):
    """The share of an image covered by text lines.

    ``model_dir``: the fetched models' directory. Default:
    :func:`~imgmgr.adapters.offline.model_files.models_dir`. ``input_side``: the longer side images are
    resized to. Default: ``INPUT_SIDE``.
    """

    def __init__(self, *, model_dir: Path | None = None, input_side: int = INPUT_SIDE) -> None:
        super().__init__(model_dir=model_dir, input_side=input_side)

    def share(self, picture: Image.Image) -> float:
        """The fraction (0-1) of an RGB picture's pixels that lie in text lines."""
        session = self._session
        width, height = picture.size
        scale = self.input_side / max(width, height)
        size = (max(32, round(width * scale / 32) * 32), max(32, round(height * scale / 32) * 32))
        rgb = np.asarray(picture.convert("RGB").resize(size, Image.Resampling.BILINEAR), dtype=np.float32)
        bgr = (rgb[..., ::-1] / 255.0 - _MEAN) / _STD
        tensor = np.ascontiguousarray(bgr.transpose(2, 0, 1)[np.newaxis], dtype=np.float32)
        probabilities = session.run(None, {session.get_inputs()[0].name: tensor})[0]
        return float((probabilities > TEXT_PIXEL).mean())

    def _open(self) -> LoadedModel:
        try:
            import onnxruntime
        except ImportError as error:
            raise ModelUnavailableError("the text detector needs onnxruntime (the 'local' group)") from error
        directory = self._directory
        digest = verified(directory, PPOCR_DET_FILES, what="the text detector")
        session = open_session(onnxruntime, directory / MODEL_FILE)
        if session is None:
            raise ModelUnavailableError(f"onnxruntime cannot load the text detector {MODEL_FILE}")
        return LoadedModel(session=session, name=f"{MODEL_NAME}@{digest[:12]}")
