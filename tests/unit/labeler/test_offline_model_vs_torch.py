"""The converted ONNX model computes what the PyTorch checkpoint computes (skipped without torch)."""

import io
import math
from pathlib import Path

import numpy as np
import onnxruntime
import pytest
from PIL import Image

from imgmgr.adapters.offline.graph import BN_EPSILON, LITE0_STAGES, same_pads
from imgmgr.adapters.offline.labeler import OfflineLabeler, _decode, default_weights, preprocess

torch = pytest.importorskip("torch", reason="torch is not installed; the cross-check needs it as a reference")
skimage_data = pytest.importorskip("skimage.data")
F = torch.nn.functional


def _reference_logits(state: dict, batch: np.ndarray) -> np.ndarray:
    """EfficientNet-Lite0 written directly in torch ops over the raw checkpoint (BN not folded)."""

    def conv_bn(x, conv, bn, stride=1, groups=1):
        weight = state[f"{conv}.weight"]
        size, kernel = x.shape[-1], weight.shape[-1]
        before, after = same_pads(size, kernel, stride)
        x = F.pad(x, [before, after, before, after])
        x = F.conv2d(x, weight, stride=stride, groups=groups)
        return F.batch_norm(
            x,
            state[f"{bn}.running_mean"],
            state[f"{bn}.running_var"],
            state[f"{bn}.weight"],
            state[f"{bn}.bias"],
            training=False,
            eps=BN_EPSILON,
        )

    x = torch.from_numpy(batch)
    x = F.relu6(conv_bn(x, "_conv_stem", "_bn0", stride=2))
    index = 0
    for stage in LITE0_STAGES:
        for repeat in range(stage.repeats):
            p = f"_blocks.{index}"
            stride = stage.stride if repeat == 0 else 1
            y = x
            if f"{p}._expand_conv.weight" in state:
                y = F.relu6(conv_bn(y, f"{p}._expand_conv", f"{p}._bn0"))
            y = F.relu6(conv_bn(y, f"{p}._depthwise_conv", f"{p}._bn1", stride, groups=y.shape[1]))
            y = conv_bn(y, f"{p}._project_conv", f"{p}._bn2")
            x = y + x if stride == 1 and y.shape == x.shape else y
            index += 1
    x = F.relu6(conv_bn(x, "_conv_head", "_bn1"))
    x = x.mean(dim=(2, 3))
    return F.linear(x, state["_fc.weight"], state["_fc.bias"]).numpy()


def test_converted_model_logits_match_torch_to_1e_4(tmp_path: Path) -> None:
    # GIVEN the checkpoint loaded by torch itself and the model converted by the labeler
    state = torch.load(default_weights(), map_location="cpu", weights_only=True)
    labeler = OfflineLabeler(tmp_path, detect_faces=False)
    session = onnxruntime.InferenceSession(str(labeler.model_path), providers=["CPUExecutionProvider"])
    images = []
    for name in ("coffee", "chelsea", "astronaut"):
        buffer = io.BytesIO()
        Image.fromarray(getattr(skimage_data, name)()).save(buffer, "PNG")
        images.append(preprocess(_decode(buffer.getvalue())))
    batch = np.concatenate(images)
    # WHEN both run on the same preprocessed photos
    with torch.no_grad():
        expected = _reference_logits(state, batch)
    actual = session.run(None, {"image": batch})[0]
    # THEN the logits agree to 1e-4 and so does the ranking
    assert math.isfinite(float(np.abs(expected).max()))
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-4)
    assert (actual.argmax(axis=1) == expected.argmax(axis=1)).all()
