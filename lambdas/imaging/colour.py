"""Bring decoded pixels to 8-bit sRGB (or grey), with or without alpha, the way encoders expect them."""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Callable, Iterator
from functools import lru_cache

import numpy as np
from PIL import Image, ImageCms

_ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})
_DEEP_GREY = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I"})
STRIP_PIXELS = 1 << 20
"""Pixels converted at a time from 16-bit, 32-bit and float images (a few MB of temporaries)."""
_SRGB_PROFILE = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
# LittleCMS transforms are safe to apply from many threads; building one is not cheap, so they are
# cached by profile digest (a module cache of this package, not a Pillow global).
_BUILD_LOCK = threading.Lock()


def to_display(image: Image.Image, *, consume: bool = False) -> Image.Image:
    """Return ``image`` as 8-bit ``L``, ``LA``, ``RGB`` or ``RGBA`` in sRGB, alpha dropped if opaque.

    The embedded ICC profile (``info["icc_profile"]``), when present and not sRGB, is converted to sRGB;
    CMYK without a profile uses Pillow's plain conversion. 16-bit and float data are scaled, not clipped,
    in strips (the only full-size copy is the 8-bit result). With ``consume``, each image is closed as
    soon as its conversion exists (``image`` included), so that at most two full-size copies are alive.
    """
    icc = image.info.get("icc_profile")
    current = image

    def step(converted: Image.Image) -> None:
        nonlocal current
        if converted is not current and consume:
            current.close()
        current = converted

    mode = current.mode
    if mode in _DEEP_GREY:
        step(_deep_grey_to_l(current))
    elif mode == "F":
        step(_float_to_l(current))
    elif mode == "1":
        step(current.convert("L"))
    elif mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in current.info
        step(current.convert("RGBA" if has_alpha else "RGB"))
    elif mode == "RGBa":
        step(current.convert("RGBA"))
    elif mode == "La":
        step(current.convert("LA"))
    elif mode == "CMYK":
        step(_cmyk_to_rgb(current, icc))
        icc = None
    elif mode not in ("L", "LA", "RGB", "RGBA"):
        step(current.convert("RGBA" if "A" in mode else "RGB"))
    if icc and current.mode in ("RGB", "RGBA"):
        step(_icc_to_srgb(current, icc))
    if current.mode in _ALPHA_MODES and _opaque(current):
        step(current.convert("RGB" if current.mode == "RGBA" else "L"))
    return current


def has_alpha(image: Image.Image) -> bool:
    return image.mode in _ALPHA_MODES


def flatten(image: Image.Image) -> Image.Image:
    """``image`` without alpha, composited onto white (JPEG has no alpha)."""
    if image.mode == "RGBA":
        base = Image.new("RGB", image.size, (255, 255, 255))
        base.paste(image, mask=image.getchannel("A"))
        return base
    if image.mode == "LA":
        base = Image.new("L", image.size, 255)
        base.paste(image.getchannel("L"), mask=image.getchannel("A"))
        return base
    return image


def _opaque(image: Image.Image) -> bool:
    low, _ = image.getchannel("A").getextrema()
    return low == 255


def _strips(image: Image.Image) -> Iterator[tuple[int, int]]:
    """Row ranges of ``image`` of about ``STRIP_PIXELS`` pixels each."""
    rows = max(1, STRIP_PIXELS // max(1, image.width))
    for top in range(0, image.height, rows):
        yield top, min(image.height, top + rows)


def _convert_in_strips(image: Image.Image, convert: Callable[[np.ndarray], np.ndarray]) -> Image.Image:
    """An ``L`` image of ``convert`` applied to each strip of ``image``'s pixels as an array."""
    output = Image.new("L", image.size)
    for top, bottom in _strips(image):
        strip = np.asarray(image.crop((0, top, image.width, bottom)))
        output.paste(Image.fromarray(np.ascontiguousarray(convert(strip)), "L"), (0, top))
    return output


def _deep_grey_to_l(image: Image.Image) -> Image.Image:
    low, high = image.getextrema()  # one band: (min, max)
    if image.mode == "I" and float(low) >= 0 and float(high) <= 255:  # type: ignore[arg-type]
        return _convert_in_strips(image, lambda strip: strip.astype(np.uint8))
    return _convert_in_strips(image, lambda strip: (np.clip(strip, 0, 65535) >> 8).astype(np.uint8))


def _float_to_l(image: Image.Image) -> Image.Image:
    high = 0.0
    for top, bottom in _strips(image):
        strip = np.asarray(image.crop((0, top, image.width, bottom)), dtype=np.float32)
        high = max(high, float(np.nan_to_num(strip, nan=0.0, posinf=255.0, neginf=0.0).max(initial=0.0)))
    scale = 255.0 if high <= 1.0 else 1.0

    def convert(strip: np.ndarray) -> np.ndarray:
        values = np.nan_to_num(strip.astype(np.float32), nan=0.0, posinf=255.0, neginf=0.0) * scale
        return np.clip(values + 0.5, 0, 255).astype(np.uint8)

    return _convert_in_strips(image, convert)


def _cmyk_to_rgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    if icc:
        transform = _transform(hashlib.sha256(icc).digest(), icc, "CMYK", "RGB")
        if transform is not None:
            return ImageCms.applyTransform(image, transform) or image
    return image.convert("RGB")


def _icc_to_srgb(image: Image.Image, icc: bytes) -> Image.Image:
    transform = _transform(hashlib.sha256(icc).digest(), icc, image.mode, image.mode)
    if transform is None:
        return image
    if image.readonly:
        image = image.copy()
    ImageCms.applyTransform(image, transform, inPlace=True)
    return image


@lru_cache(maxsize=64)
def _transform(digest: bytes, icc: bytes, in_mode: str, out_mode: str) -> ImageCms.ImageCmsTransform | None:
    """A transform from ``icc`` to sRGB, or None when the profile is sRGB already or unusable."""
    del digest  # part of the cache key only
    with _BUILD_LOCK:
        try:
            profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            description = (ImageCms.getProfileDescription(profile) or "").strip().lower()
            if description.startswith("srgb") and in_mode == out_mode:
                return None
            return ImageCms.buildTransform(profile, _SRGB_PROFILE, in_mode, out_mode, ImageCms.Intent.PERCEPTUAL)
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            # A broken or mismatched profile (say, a grey profile on RGB data) is ignored: the pixels
            # are then taken as sRGB rather than refusing an otherwise good image.
            return None
