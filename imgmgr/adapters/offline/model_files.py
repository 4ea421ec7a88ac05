"""Files of the offline models: their digests, atomic writes into the cache, one-thread onnxruntime sessions."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from imgmgr.adapters.offline.errors import ModelUnavailableError

if TYPE_CHECKING:
    from onnxruntime import InferenceSession


def open_session(onnxruntime: ModuleType, path: Path) -> InferenceSession | None:
    """A one-thread inference session over ``path``, or None when onnxruntime cannot read the file."""
    from onnxruntime.capi.onnxruntime_pybind11_state import Fail, InvalidArgument, InvalidGraph, InvalidProtobuf

    options = onnxruntime.SessionOptions()
    # One thread per image: the local runtime labels several images at once from worker threads.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    try:
        return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except (Fail, InvalidArgument, InvalidGraph, InvalidProtobuf):
        return None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_atomically(path: Path, data: bytes) -> None:
    """Write via a temporary file and a rename, so a concurrent reader never sees half a model."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def cached_session(onnxruntime: ModuleType, path: Path, build: Callable[[], bytes]) -> InferenceSession:
    """A session over the converted model at ``path``, converting it with ``build`` first when the file is
    missing or onnxruntime cannot read it (damaged on disk). Raises ``ModelUnavailableError``."""
    session = open_session(onnxruntime, path) if path.exists() else None
    if session is None:
        model = build()
        try:
            write_atomically(path, model)
        except OSError as error:
            raise ModelUnavailableError(
                f"cannot write the converted model to {path.parent}: {error.strerror}"
            ) from error
        session = open_session(onnxruntime, path)
        if session is None:
            raise ModelUnavailableError(f"onnxruntime cannot load the converted model {path.name}")
    return session
