"""Batch-norm folding, TensorFlow SAME padding and the graph builder's checks."""

from __future__ import annotations

import numpy as np
import onnxruntime
import pytest

from imgmgr.adapters.offline.errors import MalformedCheckpointError
from imgmgr.adapters.offline.graph import BN_EPSILON, LITE1, LITE2, Variant, build_onnx, fold_batchnorm, same_pads


def test_folded_convolution_equals_convolution_then_batchnorm() -> None:
    # GIVEN a 1x1 convolution followed by a batch norm with arbitrary statistics
    rng = np.random.default_rng(7)
    weight = rng.normal(size=(4, 3, 1, 1)).astype(np.float32)
    state = {
        "bn.weight": rng.normal(size=4).astype(np.float32),
        "bn.bias": rng.normal(size=4).astype(np.float32),
        "bn.running_mean": rng.normal(size=4).astype(np.float32),
        "bn.running_var": rng.uniform(0.1, 2, size=4).astype(np.float32),
    }
    x = rng.normal(size=(3, 5)).astype(np.float32)
    conv = weight[:, :, 0, 0] @ x
    expected = (conv - state["bn.running_mean"][:, None]) / np.sqrt(
        state["bn.running_var"][:, None] + BN_EPSILON
    ) * state["bn.weight"][:, None] + state["bn.bias"][:, None]
    # WHEN the batch norm is folded into the weights
    folded, bias = fold_batchnorm(weight, state, "bn")
    # THEN one convolution with a bias gives the same result
    np.testing.assert_allclose(folded[:, :, 0, 0] @ x + bias[:, None], expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "pads"),
    [(224, 3, 2, (0, 1)), (112, 3, 1, (1, 1)), (56, 5, 2, (1, 2)), (14, 5, 1, (2, 2)), (7, 1, 1, (0, 0))],
)
def test_same_padding_puts_the_odd_pixel_after(size: int, kernel: int, stride: int, pads: tuple[int, int]) -> None:
    # GIVEN / WHEN TensorFlow SAME padding is computed THEN it matches TensorFlow's rule
    assert same_pads(size, kernel, stride) == pads


def test_a_checkpoint_without_the_network_tensors_is_refused() -> None:
    # GIVEN a state dict of another network
    state = {"features.0.weight": np.zeros((8, 3, 3, 3), dtype=np.float32)}
    # WHEN it is converted THEN the missing tensor is named
    with pytest.raises(MalformedCheckpointError, match=r"lacks _conv_stem\.weight"):
        build_onnx(state, weights_sha256="0" * 64)


def _random_state(variant: Variant, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """A state dict with the tensor names and shapes of ``variant`` (values random, batch norms sane)."""
    state: dict[str, np.ndarray] = {}

    def conv_bn(conv: str, bn: str, shape: tuple[int, ...]) -> None:
        state[f"{conv}.weight"] = rng.normal(scale=0.1, size=shape).astype(np.float32)
        channels = shape[0]
        state[f"{bn}.weight"] = np.ones(channels, dtype=np.float32)
        state[f"{bn}.bias"] = np.zeros(channels, dtype=np.float32)
        state[f"{bn}.running_mean"] = np.zeros(channels, dtype=np.float32)
        state[f"{bn}.running_var"] = np.ones(channels, dtype=np.float32)

    conv_bn("_conv_stem", "_bn0", (32, 3, 3, 3))
    index = 0
    for stage in variant.stages:
        for repeat in range(stage.repeats):
            channels_in = stage.channels_in if repeat == 0 else stage.channels_out
            hidden = channels_in * stage.expand
            p = f"_blocks.{index}"
            if stage.expand != 1:
                conv_bn(f"{p}._expand_conv", f"{p}._bn0", (hidden, channels_in, 1, 1))
            conv_bn(f"{p}._depthwise_conv", f"{p}._bn1", (hidden, 1, stage.kernel, stage.kernel))
            conv_bn(f"{p}._project_conv", f"{p}._bn2", (stage.channels_out, hidden, 1, 1))
            index += 1
    conv_bn("_conv_head", "_bn1", (1280, variant.stages[-1].channels_out, 1, 1))
    state["_fc.weight"] = rng.normal(scale=0.01, size=(1000, 1280)).astype(np.float32)
    state["_fc.bias"] = np.zeros(1000, dtype=np.float32)
    return state


@pytest.mark.parametrize("variant", [LITE1, LITE2], ids=lambda variant: variant.name)
def test_the_larger_variants_build_and_run_at_their_own_input_size(variant: Variant) -> None:
    # GIVEN weights shaped as the variant's checkpoint (the real ones are not a dependency)
    state = _random_state(variant, np.random.default_rng(3))
    # WHEN they are converted and run on an image of the variant's input size
    session = onnxruntime.InferenceSession(build_onnx(state, weights_sha256="0" * 64, variant=variant))
    side = variant.input_size
    (logits,) = session.run(None, {"image": np.zeros((1, 3, side, side), dtype=np.float32)})
    # THEN the network gives 1000 finite logits
    assert logits.shape == (1, 1000)
    assert np.isfinite(logits).all()


def test_weights_of_another_variant_are_refused_naming_the_variant() -> None:
    # GIVEN Lite1-shaped weights WHEN they are converted as Lite2 THEN the mismatch names Lite2
    state = _random_state(LITE1, np.random.default_rng(4))
    with pytest.raises(MalformedCheckpointError, match=r"efficientnet-lite2 needs"):
        build_onnx(state, weights_sha256="0" * 64, variant=LITE2)
