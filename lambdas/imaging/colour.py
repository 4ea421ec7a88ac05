"""Bring decoded pixels to 8-bit sRGB (or grey), with or without alpha, the way encoders expect them."""

from __future__ import annotations

import hashlib
import io
import threading
from functools import lru_cache

import numpy as np
from PIL import Image, ImageCms

_ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})
_SRGB_PROFILE = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
# LittleCMS transforms are safe to apply from many threads; building one is not cheap, so they are
# cached by profile digest (a module cache of this package, not a Pillow global).
_BUILD_LOCK = threading.Lock()


def to_display(image: Image.Image) -> Image.Image:
    """Return ``image`` as 8-bit ``L``, ``LA``, ``RGB`` or ``RGBA`` in sRGB, alpha dropped if opaque.

    The embedded ICC profile (``info["icc_profile"]``), when present and not sRGB, is converted to sRGB;
    CMYK without a profile uses Pillow's plain conversion. 16-bit and float data are scaled, not clipped.
    """
    icc = image.info.get("icc_profile")
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        image = _deep_grey_to_l(image)
    elif mode == "F":
        image = _float_to_l(image)
    elif mode == "1":
        image = image.convert("L")
    elif mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB")
    elif mode == "RGBa":
        image = image.convert("RGBA")
    elif mode == "La":
        image = image.convert("LA")
    elif mode == "CMYK":
        image = _cmyk_to_rgb(image, icc)
        icc = None
    elif mode not in ("L", "LA", "RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in mode else "RGB")
    if icc and image.mode in ("RGB", "RGBA"):
        image = _icc_to_srgb(image, icc)
    if image.mode in _ALPHA_MODES and _opaque(image):
        image = image.convert("RGB" if image.mode == "RGBA" else "L")
    return image


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


def _deep_grey_to_l(image: Image.Image) -> Image.Image:
    array = np.asarray(image)
    if image.mode == "I" and int(array.max(initial=0)) <= 255 and int(array.min(initial=0)) >= 0:
        return Image.fromarray(array.astype(np.uint8), "L")
    scaled = (np.clip(array.astype(np.int64), 0, 65535) >> 8).astype(np.uint8)
    return Image.fromarray(scaled, "L")


def _float_to_l(image: Image.Image) -> Image.Image:
    array = np.nan_to_num(np.asarray(image, dtype=np.float32), nan=0.0, posinf=255.0, neginf=0.0)
    if float(array.max(initial=0.0)) <= 1.0:
        array = array * 255.0
    return Image.fromarray(np.clip(array + 0.5, 0, 255).astype(np.uint8), "L")


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
