"""Read a PyTorch ``state_dict`` checkpoint into numpy arrays, without torch and without running code.

A ``.pth`` file is a pickle, and unpickling runs whatever callables the file names. This reader uses a
restricted unpickler: the only globals it resolves are ``collections.OrderedDict``, torch's tensor
rebuild helpers and its typed storage classes, each mapped onto a harmless local stand-in. Anything else
(``os.system``, ``builtins.eval``, a module class...) raises :class:`UnsafeCheckpointError` before it is
called. Both of torch's on-disk formats are read:

- the zip format (torch >= 1.6): ``<prefix>/data.pkl`` plus one entry per storage ``<prefix>/data/<key>``;
- the legacy format (torch < 1.6): consecutive pickles (magic number, protocol, system info, the
  object, the storage keys) followed by each storage as a little-endian int64 element count and its bytes.
"""

from __future__ import annotations

import collections
import io
import pickle
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from imgmgr.adapters.offline.errors import MalformedCheckpointError, UnsafeCheckpointError

#: torch's legacy serialization magic number and protocol version.
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001
#: How torch writes that magic number (pickle protocol 2): the first bytes of every legacy checkpoint.
LEGACY_HEADER = pickle.dumps(LEGACY_MAGIC, protocol=2)

#: torch storage class name -> numpy dtype (little-endian, as torch writes on every supported host).
STORAGE_DTYPES: dict[str, np.dtype] = {
    "DoubleStorage": np.dtype("<f8"),
    "FloatStorage": np.dtype("<f4"),
    "HalfStorage": np.dtype("<f2"),
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
    "ShortStorage": np.dtype("<i2"),
    "CharStorage": np.dtype("i1"),
    "ByteStorage": np.dtype("u1"),
    "BoolStorage": np.dtype("?"),
}


@dataclass(frozen=True, slots=True)
class _StorageType:
    """Stand-in for a torch storage class: only its element type matters."""

    dtype: np.dtype


@dataclass(slots=True)
class _Storage:
    """A storage named by the pickle; its bytes are attached after the pickle is read."""

    key: str
    dtype: np.dtype
    numel: int
    data: bytes | None = None


@dataclass(slots=True)
class _LazyTensor:
    """A tensor view over a storage, materialized once every storage has its bytes."""

    storage: _Storage
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]
    extra: dict[str, Any] = field(default_factory=dict)

    def materialize(self) -> np.ndarray:
        storage = self.storage
        if storage.data is None:
            raise MalformedCheckpointError(f"storage {storage.key!r} has no data")
        if any(dim < 0 for dim in self.shape) or any(step < 0 for step in self.stride):
            raise MalformedCheckpointError(f"tensor over storage {storage.key!r} has a negative size")
        extent = self.offset + sum((dim - 1) * step for dim, step in zip(self.shape, self.stride, strict=True))
        if 0 in self.shape:
            return np.zeros(self.shape, dtype=storage.dtype)
        if self.offset < 0 or extent >= storage.numel:
            raise MalformedCheckpointError(f"tensor reaches outside storage {storage.key!r}")
        flat = np.frombuffer(storage.data, dtype=storage.dtype, count=storage.numel)
        itemsize = storage.dtype.itemsize
        view = np.lib.stride_tricks.as_strided(
            flat[self.offset :],
            shape=self.shape,
            strides=tuple(step * itemsize for step in self.stride),
            writeable=False,
        )
        return np.array(view, copy=True)


def _rebuild_tensor(storage: _Storage, offset: int, shape: tuple, stride: tuple, *_: Any) -> _LazyTensor:
    if not isinstance(storage, _Storage):
        raise MalformedCheckpointError("a tensor is built over something that is not a storage")
    return _LazyTensor(storage, int(offset), tuple(int(d) for d in shape), tuple(int(s) for s in stride))


def _rebuild_parameter(data: _LazyTensor, *_: Any) -> _LazyTensor:
    if not isinstance(data, _LazyTensor):
        raise MalformedCheckpointError("a parameter wraps something that is not a tensor")
    return data


#: (module, name) -> the local stand-in; the complete allow-list of globals a checkpoint may name.
_ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    **{("torch", name): _StorageType(dtype) for name, dtype in STORAGE_DTYPES.items()},
}


class _RestrictedUnpickler(pickle.Unpickler):
    """Resolves only the allow-listed globals; storages come back as :class:`_Storage` placeholders."""

    def __init__(self, file: IO[bytes], storages: dict[str, _Storage]) -> None:
        super().__init__(file)
        self._storages = storages

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise UnsafeCheckpointError(
                f"checkpoint refers to {module}.{name}, which a tensor dictionary never needs; refused"
            ) from None

    def persistent_load(self, pid: Any) -> _Storage:
        # zip: ('storage', type, key, location, numel); legacy adds view metadata as a sixth item.
        if not isinstance(pid, tuple) or len(pid) not in (5, 6) or pid[0] not in ("storage", b"storage"):
            raise UnsafeCheckpointError(f"checkpoint holds a persistent object of kind {pid!r:.60}; refused")
        storage_type, key, numel = pid[1], str(pid[2]), pid[4]
        if not isinstance(storage_type, _StorageType) or not isinstance(numel, int) or numel < 0:
            raise MalformedCheckpointError(f"storage {key!r} has an unknown type or size")
        if len(pid) == 6 and pid[5] is not None:
            raise MalformedCheckpointError(f"storage {key!r} is a view, which this reader does not support")
        storage = self._storages.get(key)
        if storage is None:
            storage = self._storages[key] = _Storage(key, storage_type.dtype, numel)
        return storage


def load_state_dict(path: Path) -> dict[str, np.ndarray]:
    """Read the checkpoint at ``path`` as ``{parameter name: array}``.

    Raises :class:`UnsafeCheckpointError` when the file names any global outside the allow-list and
    :class:`MalformedCheckpointError` when it is truncated or is not a flat dictionary of tensors.
    """
    with open(path, "rb") as file:
        if zipfile.is_zipfile(file):
            file.seek(0)
            return _load_zip(file)
        file.seek(0)
        return _load_legacy(file)


def _load_zip(file: IO[bytes]) -> dict[str, np.ndarray]:
    with zipfile.ZipFile(file) as archive:
        pickles = [name for name in archive.namelist() if name.endswith("/data.pkl") or name == "data.pkl"]
        if len(pickles) != 1:
            raise MalformedCheckpointError("zip checkpoint must hold exactly one data.pkl")
        prefix = pickles[0][: -len("data.pkl")]
        if f"{prefix}byteorder" in archive.namelist() and archive.read(f"{prefix}byteorder") != b"little":
            raise MalformedCheckpointError("zip checkpoint was written on a big-endian host")
        storages: dict[str, _Storage] = {}
        with archive.open(pickles[0]) as pickled:
            result = _unpickle(io.BytesIO(pickled.read()), storages)
        for storage in storages.values():
            try:
                storage.data = archive.read(f"{prefix}data/{storage.key}")
            except KeyError:
                raise MalformedCheckpointError(f"zip checkpoint lacks storage {storage.key!r}") from None
            _check_storage_size(storage, len(storage.data))
    return _materialize(result)


def _load_legacy(file: IO[bytes]) -> dict[str, np.ndarray]:
    storages: dict[str, _Storage] = {}
    if file.read(len(LEGACY_HEADER)) != LEGACY_HEADER:
        raise MalformedCheckpointError("not a torch checkpoint (no zip archive, no legacy magic number)")
    if _unpickle(file, storages) != LEGACY_PROTOCOL:
        raise MalformedCheckpointError("unsupported legacy checkpoint protocol")
    system = _unpickle(file, storages)
    if not isinstance(system, dict) or not system.get("little_endian", False):
        raise MalformedCheckpointError("legacy checkpoint was written on a big-endian host")
    result = _unpickle(file, storages)
    keys = _unpickle(file, storages)
    if not isinstance(keys, list) or {str(key) for key in keys} != set(storages):
        raise MalformedCheckpointError("legacy checkpoint storage list does not match its tensors")
    for key in keys:
        storage = storages[str(key)]
        header = file.read(8)
        if len(header) != 8:
            raise MalformedCheckpointError(f"legacy checkpoint is truncated at storage {storage.key!r}")
        (numel,) = struct.unpack("<q", header)
        if numel != storage.numel:
            raise MalformedCheckpointError(f"storage {storage.key!r} size disagrees with its header")
        storage.data = file.read(numel * storage.dtype.itemsize)
        _check_storage_size(storage, len(storage.data))
    return _materialize(result)


def _unpickle(file: IO[bytes], storages: dict[str, _Storage]) -> Any:
    try:
        return _RestrictedUnpickler(file, storages).load()
    except (UnsafeCheckpointError, MalformedCheckpointError):
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError, AttributeError) as error:
        raise MalformedCheckpointError(f"checkpoint pickle is unreadable ({type(error).__name__})") from error


def _check_storage_size(storage: _Storage, size: int) -> None:
    if size != storage.numel * storage.dtype.itemsize:
        raise MalformedCheckpointError(f"storage {storage.key!r} is truncated")


def _materialize(result: Any) -> dict[str, np.ndarray]:
    if not isinstance(result, dict):
        raise MalformedCheckpointError("checkpoint is not a dictionary of tensors")
    arrays: dict[str, np.ndarray] = {}
    for name, value in result.items():
        if not isinstance(name, str) or not isinstance(value, _LazyTensor):
            raise MalformedCheckpointError(f"checkpoint entry {name!r:.60} is not a named tensor")
        arrays[name] = value.materialize()
    return arrays
