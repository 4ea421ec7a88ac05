"""The TF.js graph-model converter against a NumPy reference of TensorFlow's semantics, and its refusals."""

from __future__ import annotations

import base64
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime
import pytest

from imgmgr.adapters.offline.errors import MalformedCheckpointError
from imgmgr.adapters.offline.tfjs import build_onnx, read_graph_model

SIDE = 16


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _conv_attrs(stride: int, padding: str, fused: tuple[str, ...] = ()) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "strides": {"list": {"i": ["1", str(stride), str(stride), "1"]}},
        "dilations": {"list": {"i": ["1", "1", "1", "1"]}},
        "padding": {"s": _b64(padding)},
        "data_format": {"s": _b64("NHWC")},
    }
    if fused:
        attrs["fused_ops"] = {"list": {"s": [_b64(op) for op in fused]}}
    return attrs


class _Model:
    """A TF.js graph model written by hand: nodes, and weights stored float16-quantized or as they are."""

    def __init__(self) -> None:
        self.nodes: list[dict[str, Any]] = [
            {
                "name": "x",
                "op": "Placeholder",
                "attr": {
                    "shape": {
                        "shape": {"dim": [{"size": "1"}, {"size": str(SIDE)}, {"size": str(SIDE)}, {"size": "3"}]}
                    }
                },
            }
        ]
        self.weights: list[tuple[dict[str, Any], bytes]] = []
        self.values: dict[str, np.ndarray] = {}

    def const(self, name: str, value: np.ndarray, *, float16: bool = False) -> str:
        self.nodes.append({"name": name, "op": "Const"})
        entry: dict[str, Any] = {"name": name, "shape": list(value.shape), "dtype": str(value.dtype)}
        if float16:
            entry["quantization"] = {"dtype": "float16", "original_dtype": "float32"}
            stored = value.astype(np.float16)
            self.values[name] = stored.astype(np.float32)
        else:
            stored = value
            self.values[name] = value
        self.weights.append((entry, stored.tobytes()))
        return name

    def node(self, name: str, op: str, inputs: list[str], **attrs: Any) -> str:
        self.nodes.append({"name": name, "op": op, "input": inputs, "attr": attrs})
        return name

    def write(self, directory: Path) -> Path:
        (directory / "model.bin").write_bytes(b"".join(data for _, data in self.weights))
        document = {
            "format": "graph-model",
            "modelTopology": {"node": self.nodes},
            "weightsManifest": [{"paths": ["model.bin"], "weights": [entry for entry, _ in self.weights]}],
        }
        path = directory / "model.json"
        path.write_text(json.dumps(document))
        return path


# NumPy reference of the TensorFlow ops (NHWC).
def _same(size: int, kernel: int, stride: int) -> tuple[int, int]:
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _conv(x: np.ndarray, kernel: np.ndarray, stride: int, padding: str, *, depthwise: bool = False) -> np.ndarray:
    kh, kw = kernel.shape[:2]
    if padding == "SAME":
        x = np.pad(x, ((0, 0), _same(x.shape[1], kh, stride), _same(x.shape[2], kw, stride), (0, 0)))
    out_h, out_w = (x.shape[1] - kh) // stride + 1, (x.shape[2] - kw) // stride + 1
    channels_out = kernel.shape[2] * kernel.shape[3] if depthwise else kernel.shape[3]
    out = np.zeros((1, out_h, out_w, channels_out), dtype=np.float64)
    for i in range(out_h):
        for j in range(out_w):
            window = x[0, i * stride : i * stride + kh, j * stride : j * stride + kw, :]
            if depthwise:
                out[0, i, j] = np.einsum("hwc,hwcm->cm", window, kernel).reshape(-1)
            else:
                out[0, i, j] = np.einsum("hwc,hwco->o", window, kernel)
    return out


def _resize_bilinear(x: np.ndarray, size: int) -> np.ndarray:
    source = x.shape[1]
    coordinates = np.arange(size) * (source / size)
    low = np.floor(coordinates).astype(int)
    high = np.minimum(low + 1, source - 1)
    weight = coordinates - low
    rows = x[:, low] * (1 - weight)[None, :, None, None] + x[:, high] * weight[None, :, None, None]
    return rows[:, :, low] * (1 - weight)[None, None, :, None] + rows[:, :, high] * weight[None, None, :, None]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def _network(rng: np.random.Generator) -> _Model:
    """A little network with every op the converter supports: a stride-2 stem, a depthwise block with a
    hard-swish-like scalar product and a residual, squeeze-and-excitation, a downsampling depthwise
    convolution, a bilinear upsampling, a concatenation and a sigmoid head."""
    m = _Model()
    w = lambda *shape: rng.normal(0, 0.5, shape).astype(np.float32)  # noqa: E731
    stem = m.node(
        "stem",
        "_FusedConv2D",
        ["x", m.const("w1", w(3, 3, 3, 4), float16=True), m.const("b1", w(4))],
        **_conv_attrs(2, "SAME", ("BiasAdd", "Relu")),
    )
    dw = m.node(
        "dw",
        "FusedDepthwiseConv2dNative",
        [stem, m.const("w2", w(3, 3, 4, 1)), m.const("b2", w(4), float16=True)],
        **_conv_attrs(1, "SAME", ("BiasAdd", "Relu6")),
    )
    scaled = m.node("scaled", "Mul", [m.const("half", np.array(0.5, np.float32)), dw])
    residual = m.node("residual", "AddV2", [scaled, stem])
    mean = m.node("mean", "Mean", [residual, m.const("axes", np.array([1, 2], np.int32))], keep_dims={"b": True})
    squeeze = m.node("squeeze", "Conv2D", [mean, m.const("w3", w(1, 1, 4, 4))], **_conv_attrs(1, "VALID"))
    gate = m.node("gate", "Sigmoid", [squeeze])
    excited = m.node("excited", "Mul", [residual, gate])
    shifted = m.node("shifted", "Sub", [excited, m.const("one", np.array(1.0, np.float32))])
    down = m.node("down", "DepthwiseConv2dNative", [shifted, m.const("w4", w(5, 5, 4, 2))], **_conv_attrs(2, "SAME"))
    up = m.node(
        "up",
        "ResizeBilinear",
        [down, m.const("size", np.array([8, 8], np.int32))],
        align_corners={"b": False},
        half_pixel_centers={"b": False},
    )
    joined = m.node("joined", "ConcatV2", [shifted, up, m.const("axis", np.array(3, np.int32))])
    relu = m.node("relu", "Relu", [joined])
    head = m.node(
        "head",
        "_FusedConv2D",
        [relu, m.const("w5", w(1, 1, 12, 2)), m.const("b5", w(2))],
        **_conv_attrs(1, "VALID", ("BiasAdd",)),
    )
    m.node("out", "Identity", [m.node("sigmoid", "Sigmoid", [head])])
    return m


def _reference(m: _Model, x: np.ndarray, *, upsampled: int = 8) -> np.ndarray:
    v = m.values
    stem = np.maximum(_conv(x, v["w1"], 2, "SAME") + v["b1"], 0)
    dw = np.clip(_conv(stem, v["w2"], 1, "SAME", depthwise=True) + v["b2"], 0, 6)
    residual = 0.5 * dw + stem
    gate = _sigmoid(_conv(residual.mean(axis=(1, 2), keepdims=True), v["w3"], 1, "VALID"))
    shifted = residual * gate - 1.0
    down = _conv(shifted, v["w4"], 2, "SAME", depthwise=True)
    joined = np.maximum(np.concatenate([shifted, _resize_bilinear(down, upsampled)], axis=3), 0)
    return _sigmoid(_conv(joined, v["w5"], 1, "VALID") + v["b5"])


def _session(model: bytes) -> onnxruntime.InferenceSession:
    return onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"])


def test_the_converted_graph_computes_what_tensorflow_would(tmp_path: Path) -> None:
    # GIVEN a small TF.js graph model using every supported op, some weights float16-quantized
    rng = np.random.default_rng(7)
    m = _network(rng)
    path = m.write(tmp_path)
    # WHEN it is converted to ONNX and run on an NCHW image
    x = rng.uniform(0, 1, (1, SIDE, SIDE, 3)).astype(np.float32)
    onnx_out = _session(build_onnx(path, "out", weights_sha256="0" * 64)).run(None, {"image": x.transpose(0, 3, 1, 2)})[
        0
    ]
    # THEN it equals the NumPy reference of TensorFlow's ops, transposed to NCHW
    expected = _reference(m, x.astype(np.float64)).transpose(0, 3, 1, 2)
    assert onnx_out.shape == (1, 2, 8, 8)
    np.testing.assert_allclose(onnx_out, expected, atol=1e-5)


@pytest.mark.parametrize("side", [32, 48])
def test_the_converted_graph_runs_at_other_sides_too(tmp_path: Path, side: int) -> None:
    # GIVEN the graph exported for 16 px, run (as the labeler does) at another multiple of its stride
    rng = np.random.default_rng(side)
    m = _network(rng)
    session = _session(build_onnx(m.write(tmp_path), "out", weights_sha256="0" * 64))
    x = rng.uniform(0, 1, (1, side, side, 3)).astype(np.float32)
    onnx_out = session.run(None, {"image": x.transpose(0, 3, 1, 2)})[0]
    # THEN it equals the reference at that side (the resize keeps its factor of 2, not its frozen size)
    expected = _reference(m, x.astype(np.float64), upsampled=side // 2).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(onnx_out, expected, atol=1e-5)


def test_a_graph_naming_a_missing_node_is_malformed(tmp_path: Path) -> None:
    m = _network(np.random.default_rng(5))
    m.node("dangling", "Relu", ["nowhere"])
    with pytest.raises(MalformedCheckpointError, match="no node nowhere"):
        build_onnx(m.write(tmp_path), "dangling", weights_sha256="0" * 64)


def test_float16_weights_are_dequantized(tmp_path: Path) -> None:
    # GIVEN a model whose weight is stored as float16
    m = _network(np.random.default_rng(1))
    model = read_graph_model(m.write(tmp_path))
    # WHEN it is read THEN the weight is float32 again, with its shape
    assert model.constants["w1"].dtype == np.float32 and model.constants["w1"].shape == (3, 3, 3, 4)
    np.testing.assert_array_equal(model.constants["w1"], m.values["w1"])
    assert model.input_side == SIDE and model.input_name == "x"


def test_an_unsupported_op_is_named(tmp_path: Path) -> None:
    # GIVEN a graph whose output goes through an op the converter does not know
    m = _network(np.random.default_rng(2))
    m.node("odd", "Softplus", ["out"])
    # WHEN it is converted THEN the error names the node and the op
    with pytest.raises(MalformedCheckpointError, match=r"odd: op Softplus is not supported"):
        build_onnx(m.write(tmp_path), "odd", weights_sha256="0" * 64)


def test_a_truncated_shard_is_refused(tmp_path: Path) -> None:
    # GIVEN a model whose weight file lost its last bytes
    path = _network(np.random.default_rng(3)).write(tmp_path)
    shard = tmp_path / "model.bin"
    shard.write_bytes(shard.read_bytes()[:-10])
    # WHEN it is read THEN it is refused as malformed
    with pytest.raises(MalformedCheckpointError, match="runs past the end"):
        read_graph_model(path)


def test_a_file_that_is_not_a_graph_model_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    path.write_text('{"format": "layers-model"}')
    with pytest.raises(MalformedCheckpointError, match=r"not a TF\.js graph model"):
        read_graph_model(path)


def test_a_broadcast_of_a_non_scalar_constant_is_refused(tmp_path: Path) -> None:
    # GIVEN a product with a per-channel constant (whose NHWC broadcast the NCHW graph would get wrong)
    m = _network(np.random.default_rng(4))
    m.node("scaled_out", "Mul", ["out", m.const("per_channel", np.ones(2, np.float32))])
    with pytest.raises(MalformedCheckpointError, match="only scalar constants"):
        build_onnx(m.write(tmp_path), "scaled_out", weights_sha256="0" * 64)
