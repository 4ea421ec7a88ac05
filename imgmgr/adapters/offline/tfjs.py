"""A TensorFlow.js graph model (``model.json`` and its weight shards) as an ONNX graph, without TensorFlow.

TF.js graph models are a frozen TensorFlow ``GraphDef`` written as JSON, with their constants in binary
shards (``weightsManifest``: names, shapes, dtypes, and a quantization such as float16). This converter
reads both and emits the ONNX equivalent of the convolutional part of such a graph, node by node, up to
one named output: enough for the detectors used here (MobileNet backbones, feature pyramids, heads),
not a general TensorFlow converter. An unsupported op is an error naming it, never a silent gap.

Layout: TensorFlow computes in NHWC; the ONNX graph takes an NCHW input and stays NCHW throughout
(kernels are transposed once, axes of ``Mean`` and ``ConcatV2`` remapped). Only scalar constants may
broadcast against activations (checked). TensorFlow's "SAME" padding puts the odd row and column after;
with an input side that is a multiple of the network's stride the padding of every layer is fixed, so
it is written out explicitly. A ``ResizeBilinear`` to a constant size (sizes are frozen for the model's
own input side) becomes a resize by the constant *factor* (``asymmetric`` coordinates, as TensorFlow's
default ``align_corners=False, half_pixel_centers=False``), so the graph can also run at other sides.

The ``onnx`` package is imported only here, when a model is converted; inference needs onnxruntime alone.
"""

from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from imgmgr.adapters.offline.errors import MalformedCheckpointError, ModelUnavailableError

#: Version of this converter; part of the cache key, so a change here re-converts cached models.
CONVERTER_VERSION = 1
INPUT_NAME = "image"
OPSET = 13
#: Weight dtypes of TF.js manifests, as numpy dtypes.
_DTYPES = {"float32": np.float32, "int32": np.int32, "float16": np.float16, "uint8": np.uint8, "uint16": np.uint16}


@dataclass(frozen=True, slots=True)
class GraphModel:
    """A parsed TF.js graph model: its nodes by name, in file order, and its constants."""

    nodes: dict[str, dict[str, Any]]
    constants: dict[str, np.ndarray]
    input_name: str
    input_side: int


def read_graph_model(model_json: Path) -> GraphModel:
    """Parse ``model_json`` and the weight shards it names (next to it); raises ``MalformedCheckpointError``."""
    try:
        document = json.loads(model_json.read_text())
        nodes = {node["name"]: node for node in document["modelTopology"]["node"]}
        manifest = document["weightsManifest"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise MalformedCheckpointError(f"{model_json.name} is not a TF.js graph model: {error}") from error
    constants: dict[str, np.ndarray] = {}
    for group in manifest:
        try:
            data = b"".join((model_json.parent / path).read_bytes() for path in group["paths"])
        except OSError as error:
            raise ModelUnavailableError(f"cannot read the weights of {model_json.name}: {error}") from error
        offset = 0
        for weight in group["weights"]:
            value, offset = _weight(weight, data, offset)
            constants[weight["name"]] = value
        if offset != len(data):
            raise MalformedCheckpointError(f"{model_json.name}: weight shards hold {len(data) - offset} stray bytes")
    placeholders = [node for node in nodes.values() if node["op"] == "Placeholder"]
    if len(placeholders) != 1:
        raise MalformedCheckpointError(f"{model_json.name}: expected one input, found {len(placeholders)}")
    try:
        dims = [int(dim["size"]) for dim in placeholders[0]["attr"]["shape"]["shape"]["dim"]]
    except (KeyError, TypeError, ValueError) as error:
        raise MalformedCheckpointError(f"{model_json.name}: the input has no usable shape ({error})") from error
    if len(dims) != 4 or dims[3] != 3 or dims[1] != dims[2]:
        raise MalformedCheckpointError(f"{model_json.name}: input shape {dims} is not NHWC square RGB")
    return GraphModel(nodes=nodes, constants=constants, input_name=placeholders[0]["name"], input_side=dims[1])


def _weight(weight: dict[str, Any], data: bytes, offset: int) -> tuple[np.ndarray, int]:
    shape = tuple(int(size) for size in weight["shape"])
    count = math.prod(shape)
    quantization = weight.get("quantization")
    stored = _DTYPES.get((quantization or weight)["dtype"])
    if stored is None:
        raise MalformedCheckpointError(
            f"weight {weight['name']}: unsupported dtype {(quantization or weight)['dtype']}"
        )
    size = count * np.dtype(stored).itemsize
    if offset + size > len(data):
        raise MalformedCheckpointError(f"weight {weight['name']} runs past the end of its shard")
    raw = np.frombuffer(data, dtype=stored, count=count, offset=offset)
    if quantization and quantization["dtype"] in ("uint8", "uint16"):
        value = raw.astype(np.float32) * float(quantization["scale"]) + float(quantization["min"])
    else:
        value = raw.astype(_DTYPES[weight["dtype"]])
    return value.reshape(shape), offset + size


def _attr_str(node: dict[str, Any], key: str, default: str = "") -> str:
    value = node.get("attr", {}).get(key)
    return base64.b64decode(value["s"]).decode() if value and "s" in value else default


def _attr_ints(node: dict[str, Any], key: str) -> list[int]:
    value = node.get("attr", {}).get(key, {})
    return [int(item) for item in value.get("list", value).get("i", [])]


def _fused_ops(node: dict[str, Any]) -> list[str]:
    value = node.get("attr", {}).get("fused_ops", {})
    encoded = value.get("list", value).get("s", [])
    return [base64.b64decode(item).decode() for item in encoded]


class _Converter:
    def __init__(self, onnx_module: Any, model: GraphModel) -> None:
        self._onnx = onnx_module
        self._model = model
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        #: ONNX name of each converted TF tensor, and its spatial side at the model's own input side.
        self._converted: dict[str, str] = {model.input_name: INPUT_NAME}
        self._side: dict[str, int] = {INPUT_NAME: model.input_side}

    def constant(self, name: str, value: np.ndarray) -> str:
        onnx_name = f"c:{name}"
        if onnx_name not in {initializer.name for initializer in self.initializers}:
            self.initializers.append(self._onnx.numpy_helper.from_array(np.ascontiguousarray(value), onnx_name))
        return onnx_name

    def _relu6_bounds(self) -> list[str]:
        return [
            self.constant("zero", np.array(0.0, dtype=np.float32)),
            self.constant("six", np.array(6.0, dtype=np.float32)),
        ]

    def _const_value(self, name: str) -> np.ndarray:
        name = name.split(":")[0]
        if name not in self._model.constants:
            raise MalformedCheckpointError(f"{name} is expected to be a constant of the graph")
        return self._model.constants[name]

    def _emit(self, op: str, inputs: list[str], name: str, side: int, **attributes: Any) -> str:
        out = f"t:{name}"
        self.nodes.append(self._onnx.helper.make_node(op, inputs, [out], name=out, **attributes))
        self._side[out] = side
        return out

    def tensor(self, name: str) -> str:
        """The ONNX tensor of TF tensor ``name``, converting what it depends on first."""
        stack = [name.split(":")[0]]
        while stack:
            current = stack[-1]
            if current in self._converted:
                stack.pop()
                continue
            node = self._model.nodes.get(current)
            if node is None:
                raise MalformedCheckpointError(f"the graph has no node {current}")
            pending = [
                source.split(":")[0]
                for source in node.get("input", [])
                if not source.startswith("^")
                and source.split(":")[0] not in self._converted
                and self._model.nodes.get(source.split(":")[0], {}).get("op") != "Const"
            ]
            if pending:
                stack.extend(pending)
                continue
            self._converted[current] = self._convert(node)
            stack.pop()
        return self._converted[name.split(":")[0]]

    def _convert(self, node: dict[str, Any]) -> str:
        op, name = node["op"], node["name"]
        inputs = [source for source in node.get("input", []) if not source.startswith("^")]
        if op in ("_FusedConv2D", "FusedDepthwiseConv2dNative", "Conv2D", "DepthwiseConv2dNative"):
            return self._conv(node, inputs)
        if op in ("Relu", "Sigmoid", "Identity"):
            source = self._converted[inputs[0].split(":")[0]]
            return self._emit(op, [source], name, self._side[source])
        if op == "Relu6":
            source = self._converted[inputs[0].split(":")[0]]
            bounds = self._relu6_bounds()
            return self._emit("Clip", [source, *bounds], name, self._side[source])
        if op in ("Add", "AddV2", "Mul", "Sub"):
            return self._binary(node, inputs)
        if op == "Mean":
            axes = [int(axis) % 4 for axis in np.atleast_1d(self._const_value(inputs[1]))]
            if sorted(axes) != [1, 2] or not node.get("attr", {}).get("keep_dims", {}).get("b", False):
                raise MalformedCheckpointError(f"{name}: only a spatial mean keeping dims is supported")
            source = self._converted[inputs[0].split(":")[0]]
            return self._emit("ReduceMean", [source], name, 1, axes=[2, 3], keepdims=1)
        if op == "ConcatV2":
            axis = int(self._const_value(inputs[-1])) % 4
            if axis != 3:
                raise MalformedCheckpointError(f"{name}: only channel concatenation is supported")
            sources = [self._converted[source.split(":")[0]] for source in inputs[:-1]]
            return self._emit("Concat", sources, name, self._side[sources[0]], axis=1)
        if op == "ResizeBilinear":
            if node.get("attr", {}).get("align_corners", {}).get("b") or node.get("attr", {}).get(
                "half_pixel_centers", {}
            ).get("b"):
                raise MalformedCheckpointError(f"{name}: only align_corners=half_pixel_centers=False is supported")
            source = self._converted[inputs[0].split(":")[0]]
            height, width = (int(size) for size in self._const_value(inputs[1]))
            if height != width:
                raise MalformedCheckpointError(f"{name}: only square resizes are supported")
            factor = height / self._side[source]
            scales = self.constant(f"{name}/scales", np.array([1.0, 1.0, factor, factor], dtype=np.float32))
            roi = self.constant("empty_roi", np.array([], dtype=np.float32))
            return self._emit(
                "Resize",
                [source, roi, scales],
                name,
                height,
                mode="linear",
                coordinate_transformation_mode="asymmetric",
            )
        raise MalformedCheckpointError(f"{name}: op {op} is not supported by this converter")

    def _conv(self, node: dict[str, Any], inputs: list[str]) -> str:
        op, name = node["op"], node["name"]
        if _attr_str(node, "data_format", "NHWC") != "NHWC":
            raise MalformedCheckpointError(f"{name}: only NHWC convolutions are supported")
        source = self._converted[inputs[0].split(":")[0]]
        kernel = self._const_value(inputs[1]).astype(np.float32)
        height, width = kernel.shape[:2]
        depthwise = "Depthwise" in op
        if depthwise:
            channels, multiplier = kernel.shape[2], kernel.shape[3]
            weights = kernel.transpose(2, 3, 0, 1).reshape(channels * multiplier, 1, height, width)
            groups = channels
        else:
            weights = kernel.transpose(3, 2, 0, 1)
            groups = 1
        strides = _attr_ints(node, "strides")[1:3]
        dilations = _attr_ints(node, "dilations")[1:3] or [1, 1]
        if strides[0] != strides[1] or dilations != [1, 1]:
            raise MalformedCheckpointError(f"{name}: only square strides without dilation are supported")
        stride = strides[0]
        padding = _attr_str(node, "padding")
        side = self._side[source]
        if padding == "SAME":
            pads = [*_same_pads(side, height, stride), *_same_pads(side, width, stride)]
            onnx_pads = [pads[0], pads[2], pads[1], pads[3]]
            out_side = math.ceil(side / stride)
        elif padding == "VALID":
            onnx_pads = [0, 0, 0, 0]
            out_side = (side - height) // stride + 1
        else:
            raise MalformedCheckpointError(f"{name}: padding {padding!r} is not supported")
        fused = _fused_ops(node) if op.startswith(("_Fused", "Fused")) else []
        conv_inputs = [source, self.constant(f"{name}/weights", weights)]
        if fused:
            if fused[0] != "BiasAdd" or len(inputs) < 3 or not set(fused[1:]) <= {"Relu", "Relu6"}:
                raise MalformedCheckpointError(f"{name}: fused ops {fused} are not supported")
            conv_inputs.append(self.constant(f"{name}/bias", self._const_value(inputs[2]).astype(np.float32)))
        out = self._emit(
            "Conv",
            conv_inputs,
            f"{name}/conv" if fused[1:] else name,
            out_side,
            kernel_shape=[height, width],
            strides=[stride, stride],
            pads=onnx_pads,
            group=groups,
        )
        for activation in fused[1:]:
            if activation == "Relu":
                out = self._emit("Relu", [out], name, out_side)
            else:
                bounds = self._relu6_bounds()
                out = self._emit("Clip", [out, *bounds], name, out_side)
        return out

    def _binary(self, node: dict[str, Any], inputs: list[str]) -> str:
        op = {"AddV2": "Add"}.get(node["op"], node["op"])
        operands = []
        side = 1
        for source in inputs:
            key = source.split(":")[0]
            if self._model.nodes[key]["op"] == "Const":
                value = self._const_value(key)
                if value.size != 1:
                    raise MalformedCheckpointError(f"{node['name']}: only scalar constants may broadcast")
                operands.append(self.constant(key, value.astype(np.float32).reshape(())))
            else:
                operands.append(self._converted[key])
                side = max(side, self._side[self._converted[key]])
        return self._emit(op, operands, node["name"], side)


def _same_pads(side: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's "SAME" padding of one axis: (before, after), the odd one after."""
    total = max((math.ceil(side / stride) - 1) * stride + kernel - side, 0)
    return total // 2, total - total // 2


def build_onnx(model_json: Path, output: str, *, weights_sha256: str) -> bytes:
    """The ONNX graph of ``model_json`` from its NCHW float input to TF tensor ``output``, serialized."""
    try:
        import onnx
        import onnx.helper
        import onnx.numpy_helper
    except ImportError as error:
        raise ModelUnavailableError("converting the detector needs the onnx package (the 'local' group)") from error
    model = read_graph_model(model_json)
    converter = _Converter(onnx, model)
    try:
        result = converter.tensor(output)
    except (KeyError, IndexError, TypeError, ValueError) as error:
        raise MalformedCheckpointError(
            f"{model_json.name}: inconsistent graph ({type(error).__name__}: {error})"
        ) from error
    graph = onnx.helper.make_graph(
        converter.nodes,
        f"tfjs:{model_json.stem}",
        [onnx.helper.make_tensor_value_info(INPUT_NAME, onnx.TensorProto.FLOAT, [1, 3, "H", "W"])],
        [onnx.helper.make_tensor_value_info(result, onnx.TensorProto.FLOAT, [1, "C", "h", "w"])],
        initializer=converter.initializers,
    )
    converted = onnx.helper.make_model(
        graph, producer_name="imgmgr.tfjs", opset_imports=[onnx.helper.make_opsetid("", OPSET)]
    )
    onnx.helper.set_model_props(converted, {"weights_sha256": weights_sha256, "input_side": str(model.input_side)})
    try:
        onnx.checker.check_model(converted)
    except onnx.checker.ValidationError as error:
        raise MalformedCheckpointError(f"{model_json.name}: the converted graph is invalid: {error}") from error
    return converted.SerializeToString()
