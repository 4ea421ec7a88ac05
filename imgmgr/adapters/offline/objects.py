"""COCO objects with CenterNet (MobileNetV3 backbone), for what ImageNet's classes cannot say: people.

The model is the TF.js graph ``centernet.json`` of the ``@vladmandic/human`` npm package (MIT;
"MB3-CenterNet" trained on COCO 2017, 80 classes), placed at install time by ``tools/fetch_models.py``
(``make venv``) and converted once to ONNX by :mod:`imgmgr.adapters.offline.tfjs`, cached in the
labeler's cache under the files' SHA-256. Nothing is downloaded at run time.

CenterNet predicts, per class, a heat map of object centres on a grid of a quarter of its input side:
the height of a class's highest peak is how confident the model is that one such object is there. The
labeler needs presence, not boxes, so this detector reports a score per class and stops there (no
box regression, no non-maximum suppression). The whole image is resized (not cropped) to the input
side, RGB in 0-255 as the graph expects. ``INPUT_SIDE`` 320 rather than the 512 it was exported at:
the network is convolutional, and 320 costs 20 instead of 60 ms of one core at nearly the same peaks
on the evaluation photos.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from PIL import Image

from imgmgr.adapters.offline.errors import ModelUnavailableError
from imgmgr.adapters.offline.model_files import CENTERNET_FILES, FetchedModel, LoadedModel, cached_session, verified
from imgmgr.adapters.offline.tfjs import CONVERTER_VERSION, INPUT_NAME, build_onnx

MODEL_NAME = "centernet-mb3"
#: The graph's file and the tensor read: per-class sigmoid heat maps (NHWC in TensorFlow).
MODEL_FILE = "centernet.json"
HEATMAP_TENSOR = "tower_0/keypoints"
#: Side the image is resized to; a multiple of the network's stride (32).
INPUT_SIDE = 320
#: COCO 2017's 80 detection classes in the model's channel order.
COCO_CLASSES = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
    "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
    "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee",
    "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard",
    "tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
    "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
    "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard",
    "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase",
    "scissors", "teddy bear", "hair drier", "toothbrush",
)  # fmt: skip


class ObjectDetector(FetchedModel):
    """Scores of COCO's 80 classes in an image (the labeler's object evidence).

    ``cache_dir``: where the converted ONNX model is kept. ``model_dir``: the fetched models' directory.
    Default: :func:`~imgmgr.adapters.offline.model_files.models_dir`. ``input_side``: the side images are
    resized to. Default: ``INPUT_SIDE``.
    """

    def __init__(self, cache_dir: Path, *, model_dir: Path | None = None, input_side: int = INPUT_SIDE) -> None:
        super().__init__(model_dir=model_dir, input_side=input_side)
        self.cache_dir = Path(cache_dir)

    def scores(self, picture: Image.Image) -> dict[str, float]:
        """The highest centre-heat-map peak of every COCO class in an RGB picture, in [0, 1]."""
        side = self.input_side
        resized = picture.convert("RGB").resize((side, side), Image.Resampling.BILINEAR)
        pixels = np.ascontiguousarray(np.asarray(resized, dtype=np.float32).transpose(2, 0, 1)[np.newaxis])
        heatmap = self._session.run(None, {INPUT_NAME: pixels})[0][0]
        peaks = heatmap.reshape(heatmap.shape[0], -1).max(axis=1)
        return {name: float(peak) for name, peak in zip(COCO_CLASSES, peaks, strict=True)}

    def _open(self) -> LoadedModel:
        try:
            import onnxruntime
        except ImportError as error:
            raise ModelUnavailableError("the object detector needs onnxruntime (the 'local' group)") from error
        directory = self._directory
        digest = verified(directory, CENTERNET_FILES, what="the object detector")
        # The tensor read is part of the key: another output is another graph.
        key = hashlib.sha256(f"{digest}:{HEATMAP_TENSOR}".encode()).hexdigest()[:16]
        path = self.cache_dir / f"{MODEL_NAME}-{key}-c{CONVERTER_VERSION}.onnx"
        graph = directory / MODEL_FILE
        session = cached_session(onnxruntime, path, lambda: build_onnx(graph, HEATMAP_TENSOR, weights_sha256=key))
        outputs = session.get_outputs()
        if len(outputs) != 1:
            raise ModelUnavailableError(f"the converted detector {path.name} has {len(outputs)} outputs, not 1")
        return LoadedModel(session=session, name=f"{MODEL_NAME}@{digest[:12]}")
