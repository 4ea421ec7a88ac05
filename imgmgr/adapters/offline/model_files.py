"""Files of the offline models: the fetched models' pins and directory, digests, atomic writes into the
cache, one-thread onnxruntime sessions, and lazy loading."""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Generic, TypeVar

from imgmgr.adapters.offline.errors import ModelUnavailableError

if TYPE_CHECKING:
    from onnxruntime import InferenceSession

T = TypeVar("T")

#: Where ``tools/fetch_models.py`` puts the fetched models (``IMGMGR_MODELS_DIR`` overrides).
MODELS_DIR_ENV = "IMGMGR_MODELS_DIR"
DEFAULT_MODELS_DIR = Path(sys.prefix) / "share" / "imgmgr" / "models"
#: The fetched models' files and their SHA-256 (``tools/fetch_models.py`` says which package holds each).
#: A model loads only when every one of its files is there and matches.
CENTERNET_FILES = {
    "centernet.json": "bfb942eaacc5becf738d536663bc4580a0ae9e560722306e6d4dd7fe4a09de05",
    "centernet.bin": "1b635a15009071f506f9f2b3519b31c072c534888989f30d269ffd44734ef7ef",
}
PPOCR_DET_FILES = {
    "ch_PP-OCRv4_det_infer.onnx": "d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9",
}


def models_dir() -> Path:
    """The directory of the fetched models (``IMGMGR_MODELS_DIR``, or the environment's share directory)."""
    configured = os.environ.get(MODELS_DIR_ENV)
    return Path(configured) if configured else DEFAULT_MODELS_DIR


def verified(directory: Path, files: dict[str, str], *, what: str) -> str:
    """Check that every pinned file is in ``directory`` with its SHA-256; a short digest naming the set.

    Raises ``ModelUnavailableError`` naming the first file missing or altered, and how to fetch it.
    """
    for name, digest in files.items():
        path = directory / name
        try:
            actual = sha256_of(path)
        except OSError as error:
            raise ModelUnavailableError(
                f"{what} is missing {path} ({error.strerror}); `make venv` fetches it (tools/fetch_models.py), "
                f"or set {MODELS_DIR_ENV}"
            ) from error
        if actual != digest:
            raise ModelUnavailableError(
                f"{what}: {path} is not the pinned file (SHA-256 {actual[:12]}, expected {digest[:12]}); "
                "`make venv` fetches it again"
            )
    return hashlib.sha256("".join(files.values()).encode()).hexdigest()[:16]


class Lazy(Generic[T]):
    """A value built on first use, once, under a lock; a failed build is retried on the next use."""

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._value: T | None = None
        self._lock = threading.Lock()

    def get(self) -> T:
        value = self._value
        if value is None:
            with self._lock:
                value = self._value
                if value is None:
                    value = self._value = self._build()
        return value


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


@dataclass(frozen=True, slots=True)
class LoadedModel:
    """A model's inference session and the name a labeling gives it (with its files' digest)."""

    session: InferenceSession
    name: str


class FetchedModel:
    """Base of the detectors run on a fetched model: an input side, lazy loading, a name.

    ``model_dir``: the fetched models' directory. Default: :func:`models_dir`. ``input_side``: the side
    (a multiple of the network's stride, 32) images are resized to. Subclasses implement ``_open``.
    """

    def __init__(self, *, model_dir: Path | None, input_side: int) -> None:
        if input_side < 32 or input_side % 32:
            raise ValueError(f"input_side must be a positive multiple of 32, got {input_side}")
        self.model_dir = model_dir
        self.input_side = input_side
        self._loaded = Lazy(self._open)

    @property
    def name(self) -> str:
        return self._loaded.get().name

    def load(self) -> None:
        self._loaded.get()

    @property
    def _session(self) -> InferenceSession:
        return self._loaded.get().session

    @property
    def _directory(self) -> Path:
        return self.model_dir or models_dir()

    def _open(self) -> LoadedModel:
        raise NotImplementedError
