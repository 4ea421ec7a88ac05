"""The API over the local adapters, in-process (ASGI test client), with a fixed labeler and no workers."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import skimage.data
from fastapi.testclient import TestClient

from imgmgr.config import DataDir
from imgmgr.server import Runtime, build_runtime
from lambdas.api import ApiLimits
from tests.fakes import FakeLabeler

#: Real photos shipped with scikit-image (Chelsea the cat: 451x300 PNG; a cup of coffee: 600x400 PNG).
PHOTOS = Path(skimage.data.__file__).parent
CHELSEA = PHOTOS / "chelsea.png"
COFFEE = PHOTOS / "coffee.png"


@pytest.fixture
def runtime(tmp_path) -> Runtime:
    return build_runtime(
        DataDir.resolve(tmp_path / "data"), labeler=FakeLabeler(), limits=ApiLimits(max_upload_bytes=2_000_000)
    )


@pytest.fixture
def client(runtime) -> TestClient:
    with TestClient(runtime.app, base_url="http://testserver") as test_client:
        yield test_client


@pytest.fixture
def alice(runtime) -> dict[str, str]:
    key, _ = runtime.keys.create("alice")
    return {"x-api-key": key}


@pytest.fixture
def bob(runtime) -> dict[str, str]:
    key, _ = runtime.keys.create("bob")
    return {"x-api-key": key}


def declare(client, headers, path: Path = CHELSEA, *, filename: str | None = None, content_type: str = "image/png"):
    """POST /v1/uploads for the file at ``path``."""
    data = path.read_bytes()
    body = {
        "filename": filename or path.name,
        "content_type": content_type,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    return client.post("/v1/uploads", json=body, headers=headers)


def send(client, target: dict, data: bytes, *, fields: dict | None = None):
    """POST the presigned form to the local upload endpoint."""
    return client.post(
        target["url"], data=fields if fields is not None else target["fields"], files={"file": ("f", data)}
    )


def upload_and_process(client, runtime, headers, path: Path = CHELSEA) -> str:
    """Declare, upload and run the three steps; the image id."""
    answer = declare(client, headers, path).json()
    assert send(client, answer["upload"], path.read_bytes()).status_code == 204
    image_id = answer["image"]["id"]
    key = answer["upload"]["fields"]["key"]
    for step in ("compress", "thumbnail", "categorize"):
        assert runtime.pipeline.run_step(step, image_id, key)
    return image_id
