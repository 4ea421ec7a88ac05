"""Client steps of the twin scenarios: what a user's client does against the deployed API."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import numpy as np
from PIL import Image

from tests.twin.conftest import TwinSession
from tests.twin.rest_api import Response


def photo(seed: int = 1, size: tuple[int, int] = (640, 480)) -> bytes:
    """A small photo-like JPEG (gradients and noise), different for each seed."""
    rng = np.random.default_rng(seed)
    width, height = size
    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack([128 + 100 * np.sin(x / (15.0 + seed)), 255 * x / width, 255 * y / height], axis=-1)
    pixels = np.clip(rgb + rng.normal(0, 8, rgb.shape), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


def declare(
    session: TwinSession, data: bytes, *, filename: str = "photo.jpg", content_type: str = "image/jpeg"
) -> Response:
    body = {
        "filename": filename,
        "content_type": content_type,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    return session.api.request("POST", "/v1/uploads", json_body=body, api_key=session.api_key)


def upload(session: TwinSession, data: bytes, **kwargs: Any) -> dict[str, Any]:
    """Declares, POSTs the bytes to the presigned target, and lets the pipeline run to its end."""
    declared = declare(session, data, **kwargs)
    assert declared.status == 201, declared.text
    answer = declared.json()
    target = answer["upload"]
    status = session.twin.post_object(target["url"], target["fields"], data)
    assert status in (200, 201, 204)
    session.twin.drain()
    return answer["image"]


def image(session: TwinSession, image_id: str) -> dict[str, Any]:
    response = session.api.request("GET", f"/v1/images/{image_id}", api_key=session.api_key)
    assert response.status == 200, (response.text, session.errors())
    return response.json()
