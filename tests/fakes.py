"""Fakes shared by the tests: one section per area."""

import contextlib
import io
import pickle
import sys
import types
import zipfile

import numpy as np

# --- offline labeler: torch checkpoint writers (tests/unit/labeler) ---------------------------------


#: The classic hostile pickle: protocol 0 that imports ``os.system`` and calls it with ``command``.
HOSTILE_PICKLE_TEMPLATE = b"cos\nsystem\n(S'%s'\ntR."

_TORCH_STORAGE_NAMES = {
    np.dtype("float32"): "FloatStorage",
    np.dtype("float64"): "DoubleStorage",
    np.dtype("int64"): "LongStorage",
}


@contextlib.contextmanager
def _fake_torch_modules():
    """Just enough of a ``torch`` module for ``pickle`` to write torch's globals by name."""
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")

    def _rebuild_tensor_v2(*args):
        raise AssertionError("only pickled, never called")

    _rebuild_tensor_v2.__module__, _rebuild_tensor_v2.__qualname__ = "torch._utils", "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    torch._utils = utils
    for name in _TORCH_STORAGE_NAMES.values():
        setattr(torch, name, type(name, (), {"__module__": "torch"}))
    saved = {name: sys.modules.get(name) for name in ("torch", "torch._utils")}
    sys.modules.update({"torch": torch, "torch._utils": utils})
    try:
        yield torch
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


class _FakeTensor:
    def __init__(self, key, array, torch, legacy):
        self.key, self.array, self.torch, self.legacy = key, array, torch, legacy

    def __reduce__(self):
        storage = _StorageRef(self)
        strides = tuple(step // self.array.itemsize for step in self.array.strides)
        rebuild = self.torch._utils._rebuild_tensor_v2
        return rebuild, (storage, 0, self.array.shape, strides, False, {})


class _StorageRef:
    def __init__(self, tensor):
        self.tensor = tensor


def _torch_pickle(tensors, torch, legacy):
    fakes = {
        name: _FakeTensor(str(i), np.ascontiguousarray(a), torch, legacy)
        for i, (name, a) in enumerate(tensors.items())
    }
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=2)

    def persistent_id(obj):
        if not isinstance(obj, _StorageRef):
            return None
        array = obj.tensor.array
        storage_type = getattr(torch, _TORCH_STORAGE_NAMES[array.dtype])
        pid = ("storage", storage_type, obj.tensor.key, "cpu", array.size)
        return (*pid, None) if legacy else pid

    pickler.persistent_id = persistent_id
    pickler.dump(fakes)
    return buffer.getvalue(), fakes


def write_torch_checkpoint(path, tensors, *, legacy=False):
    """Write ``{name: numpy array}`` as torch would: the zip format, or the legacy one (torch < 1.6)."""
    with _fake_torch_modules() as torch:
        data, fakes = _torch_pickle(tensors, torch, legacy)
    if legacy:
        with open(path, "wb") as file:
            for header in (0x1950A86A20F9469CFC6C, 1001, {"protocol_version": 1001, "little_endian": True}):
                pickle.dump(header, file, protocol=2)
            file.write(data)
            pickle.dump([fake.key for fake in fakes.values()], file, protocol=2)
            for fake in fakes.values():
                file.write(fake.array.size.to_bytes(8, "little"))
                file.write(fake.array.astype(fake.array.dtype.newbyteorder("<")).tobytes())
        return
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", data)
        for fake in fakes.values():
            archive.writestr(f"archive/data/{fake.key}", fake.array.tobytes())


def write_hostile_checkpoint(path, command, *, legacy=False):
    """A checkpoint whose pickle imports ``os`` and runs ``command`` when unpickled naively."""
    payload = HOSTILE_PICKLE_TEMPLATE % command.encode()
    if legacy:
        with open(path, "wb") as file:
            for header in (0x1950A86A20F9469CFC6C, 1001, {"protocol_version": 1001, "little_endian": True}):
                pickle.dump(header, file, protocol=2)
            file.write(payload)
        return
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", payload)
