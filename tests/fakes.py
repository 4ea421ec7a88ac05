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
        name: _FakeTensor(str(i), np.ascontiguousarray(a), torch, legacy) for i, (name, a) in enumerate(tensors.items())
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


# --- pipeline: labeler, clock, event sink, Lambda context (tests/unit/adapters, tests/handlers) -----


class FakeLabeler:
    """``Labeler`` that answers with fixed labels and counts its calls; ``error`` is raised instead."""

    def __init__(self, labels=None, *, model="fake-labeler", error=None):
        from lambdas.domain.labels import Label

        self.labels = tuple(
            labels
            if labels is not None
            else (
                Label("Cat", 98.5, parents=("Animal", "Mammal", "Pet"), categories=("Animals and Pets",)),
                Label("Couch", 81.0, parents=("Furniture",), categories=("Furniture and Furnishings",)),
            )
        )
        self.model = model
        self.error = error
        self.calls = []

    def detect(self, image):
        from lambdas.domain.labels import Labeling

        self.calls.append(image)
        if self.error is not None:
            raise self.error
        return Labeling(self.labels, self.model)


class FakeClock:
    """``Clock`` at a fixed UTC time that moves only when told (``advance``) or by ``tick`` per call."""

    def __init__(self, start=None, *, tick_seconds=0.0):
        from datetime import UTC, datetime

        self.moment = start if start is not None else datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
        self.tick_seconds = tick_seconds

    def now(self):
        from datetime import timedelta

        moment = self.moment
        self.moment = moment + timedelta(seconds=self.tick_seconds)
        return moment

    def advance(self, **delta):
        from datetime import timedelta

        self.moment += timedelta(**delta)


class RecordingEventSink:
    """``EventSink`` that keeps the events it was given, in order."""

    def __init__(self):
        self.events = []

    def emit(self, event):
        self.events.append(event)


class FakeLambdaContext:
    """The attributes of a Lambda context object that Powertools reads."""

    def __init__(self, function_name="imgmgr-test"):
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        self.memory_limit_in_mb = 1024
        self.aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e812345678"
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "2026/01/31/[$LATEST]abcdef"

    def get_remaining_time_in_millis(self):
        return 60_000


class ProcessKilled(BaseException):
    """Stands for a SIGKILL or a Lambda that died mid-run: no ``except Exception`` of the code under test
    sees it, so nothing is recorded or cleaned up after it."""


class UnlistedObjectStore:
    """An ``ObjectStore`` seen through the API function's role: every call but ``list`` (the API has no
    ``s3:ListBucket``); ``kill_after_deletes`` deletes that many objects, then raises ``ProcessKilled``."""

    def __init__(self, objects, *, kill_after_deletes=None):
        self.objects = objects
        self.kill_after_deletes = kill_after_deletes
        self.deleted = []

    def put(self, key, data, *, content_type):
        self.objects.put(key, data, content_type=content_type)

    def get(self, key):
        return self.objects.get(key)

    def head(self, key):
        return self.objects.head(key)

    def delete(self, key):
        if self.kill_after_deletes is not None and len(self.deleted) >= self.kill_after_deletes:
            raise ProcessKilled(f"killed before deleting {key}")
        self.objects.delete(key)
        self.deleted.append(key)

    def list(self, prefix):
        raise AssertionError(f"the API may not list the bucket (asked for {prefix!r})")

    def mark_replaceable(self, key):
        self.objects.mark_replaceable(key)
