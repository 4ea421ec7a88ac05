"""The restricted checkpoint reader: tensors come back as arrays; anything that is not data is refused."""

import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

from imgmgr.adapters.offline.checkpoint import load_state_dict
from imgmgr.adapters.offline.errors import MalformedCheckpointError, UnsafeCheckpointError
from tests.fakes import write_hostile_checkpoint, write_torch_checkpoint

TENSORS = {
    "conv.weight": np.arange(24, dtype=np.float32).reshape(2, 3, 2, 2),
    "bn.num_batches_tracked": np.array(7, dtype=np.int64),
    "fc.bias": np.linspace(-1, 1, 5),
}


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_reads_every_tensor_with_its_values_shape_and_dtype(tmp_path: Path, legacy: bool) -> None:
    # GIVEN a checkpoint written in torch's zip or legacy format
    path = tmp_path / "weights.pth"
    write_torch_checkpoint(path, TENSORS, legacy=legacy)
    # WHEN it is read
    state = load_state_dict(path)
    # THEN every tensor comes back unchanged
    assert list(state) == list(TENSORS)
    for name, expected in TENSORS.items():
        assert state[name].dtype == expected.dtype
        np.testing.assert_array_equal(state[name], expected)


def test_reads_a_transposed_tensor_through_its_strides(tmp_path: Path) -> None:
    # GIVEN a checkpoint holding a non-contiguous (transposed) tensor
    path = tmp_path / "weights.pth"
    transposed = np.arange(6, dtype=np.float32).reshape(2, 3).T
    write_torch_checkpoint(path, {"w": np.asfortranarray(transposed)})
    # WHEN it is read
    state = load_state_dict(path)
    # THEN the values are in logical order
    np.testing.assert_array_equal(state["w"], transposed)


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_refuses_a_pickle_that_imports_os_and_never_runs_it(tmp_path: Path, legacy: bool) -> None:
    # GIVEN a checkpoint whose pickle calls os.system to create a marker file
    marker = tmp_path / "pwned"
    path = tmp_path / "hostile.pth"
    write_hostile_checkpoint(path, f"touch {marker}", legacy=legacy)
    # WHEN it is read THEN it is refused by name
    with pytest.raises(UnsafeCheckpointError, match=r"os\.system.*refused"):
        load_state_dict(path)
    # AND the command never ran
    assert not marker.exists()


def test_refuses_a_checkpoint_that_is_not_a_tensor_dictionary(tmp_path: Path) -> None:
    # GIVEN a zip checkpoint whose pickle is a plain list
    path = tmp_path / "list.pth"
    write_torch_checkpoint(path, {})
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", pickle.dumps([1, 2, 3]))
    # WHEN it is read THEN it is refused as malformed
    with pytest.raises(MalformedCheckpointError, match="not a dictionary of tensors"):
        load_state_dict(path)


def test_refuses_a_truncated_legacy_checkpoint(tmp_path: Path) -> None:
    # GIVEN a legacy checkpoint cut short in its storage bytes
    path = tmp_path / "cut.pth"
    write_torch_checkpoint(path, TENSORS, legacy=True)
    path.write_bytes(path.read_bytes()[:-3])
    # WHEN it is read THEN it is refused as truncated
    with pytest.raises(MalformedCheckpointError, match="truncated"):
        load_state_dict(path)


def test_refuses_a_file_that_is_no_checkpoint(tmp_path: Path) -> None:
    # GIVEN random bytes
    path = tmp_path / "noise.pth"
    path.write_bytes(b"\x89PNG\r\n\x1a\n not a checkpoint")
    # WHEN it is read THEN it is refused as malformed
    with pytest.raises(MalformedCheckpointError, match="not a torch checkpoint"):
        load_state_dict(path)


def test_refuses_a_big_endian_zip_checkpoint(tmp_path: Path) -> None:
    # GIVEN a zip checkpoint that declares big-endian storages
    path = tmp_path / "big.pth"
    write_torch_checkpoint(path, TENSORS)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("archive/byteorder", "big")
    # WHEN it is read THEN it is refused rather than read with swapped bytes
    with pytest.raises(MalformedCheckpointError, match="big-endian"):
        load_state_dict(path)
