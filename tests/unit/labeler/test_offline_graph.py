"""Batch-norm folding, TensorFlow SAME padding and the graph builder's checks."""

from __future__ import annotations

import numpy as np
import pytest

from imgmgr.adapters.offline.errors import MalformedCheckpointError
from imgmgr.adapters.offline.graph import BN_EPSILON, build_onnx, fold_batchnorm, same_pads


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
