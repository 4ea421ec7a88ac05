"""Fixtures of the offline labeler tests: one converted model per session, photos as encoded bytes."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from imgmgr.adapters.offline.labeler import OfflineLabeler


def spy(target: object, method: str) -> list[tuple[object, ...]]:
    """Record the positional arguments of every call of ``target.method`` (which still runs)."""
    calls: list[tuple[object, ...]] = []
    original = getattr(target, method)

    def recording(*args: object) -> object:
        calls.append(args)
        return original(*args)

    setattr(target, method, recording)
    return calls


def encode(pixels: np.ndarray | Image.Image, fmt: str = "PNG") -> bytes:
    """An image as the bytes a labeler receives."""
    picture = pixels if isinstance(pixels, Image.Image) else Image.fromarray(pixels)
    buffer = io.BytesIO()
    picture.save(buffer, fmt)
    return buffer.getvalue()


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache directory holding the converted model (converted once per session)."""
    cache = tmp_path_factory.mktemp("labeler-cache")
    OfflineLabeler(cache, detect_faces=False).load()
    return cache


@pytest.fixture(scope="session")
def labeler(model_cache: Path) -> OfflineLabeler:
    """The labeler with its defaults, loaded."""
    labeler = OfflineLabeler(model_cache)
    labeler.load()
    return labeler
