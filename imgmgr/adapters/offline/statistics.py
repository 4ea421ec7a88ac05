"""Cheap pixel statistics the offline labeler reads beside its classifier: graphics and green vegetation.

ImageNet's classifier has no class for a wallpaper made of gradients and flat shapes, so on one it names
whatever object it resembles (a lampshade, an envelope, a honeycomb); and it has few plant classes, so a
meadow, a leaf or a grass close-up spreads its probability over classes that each say little. Two
statistics of a small copy of the image (``SIDE`` px on its longer side, ~4 ms of one core for a
1024 px rendition) answer what it cannot:

- **Graphics**: a colourful image that is almost all flat, with no texture (median Laplacian of at most
  ``GRAPHIC_MAX_TEXTURE`` grey levels) or no edges, is a computer graphic; its classifier labels are not
  shown (photographs have sensor noise and texture; a grey or pale image, such as a product on white,
  a silhouette or fog, is never taken for one).
- **Green share**: the fraction of saturated green pixels, evidence of vegetation.
- **Sky share**: the fraction of the top third that is smooth and sky blue, evidence of the sky (ImageNet
  has no sky class: a sunset or storm clouds over hills spread their probability over geysers, volcanoes
  and airplane wings).

The thresholds were chosen on the two thirds of ``bench/labeler_eval.json`` that are not held out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

#: Longer side of the copy the statistics are computed on.
SIDE = 256
#: A pixel is flat when its grey-level gradient magnitude is below this (0-255 scale).
FLAT_GRADIENT = 2.0
#: A pixel is on an edge when its grey-level gradient magnitude is above this.
EDGE_GRADIENT = 20.0
#: Graphics: mean saturation at least this (grey and pale images are left to the classifier).
GRAPHIC_MIN_SATURATION = 0.3
#: Graphics, flat shapes and gradients: at least this share of flat pixels and a median Laplacian this low.
GRAPHIC_MIN_FLAT = 0.6
GRAPHIC_MAX_TEXTURE = 1.5
#: Graphics, blurred light: at least this share of flat pixels and fewer edge pixels than this share.
GRAPHIC_MIN_FLAT_EDGELESS = 0.5
GRAPHIC_MAX_EDGES = 0.02
#: Green: hue in this range (degrees), saturation and value at least these.
GREEN_HUES = (50.0, 170.0)
GREEN_MIN_SATURATION = 0.25
GREEN_MIN_VALUE = 0.15
#: Sky: hue in this range (degrees), saturation and value at least these, gradient below this.
SKY_HUES = (180.0, 260.0)
SKY_MIN_SATURATION = 0.15
SKY_MIN_VALUE = 0.35
SKY_MAX_GRADIENT = 8.0


@dataclass(frozen=True, slots=True)
class ImageStatistics:
    """Shares of pixels (0-1) and the median texture of an image's small copy (``sky``: of its top third)."""

    flat: float
    edges: float
    texture: float
    saturation: float
    green: float
    sky: float = 0.0

    @property
    def is_graphic(self) -> bool:
        """A colourful image made of flat areas and gradients: a computer graphic, not a photograph."""
        if self.saturation < GRAPHIC_MIN_SATURATION:
            return False
        shapes = self.flat >= GRAPHIC_MIN_FLAT and self.texture <= GRAPHIC_MAX_TEXTURE
        blurred = self.flat >= GRAPHIC_MIN_FLAT_EDGELESS and self.edges < GRAPHIC_MAX_EDGES
        return shapes or blurred


def measure(picture: Image.Image) -> ImageStatistics:
    """The statistics of an RGB picture (any size; a copy of at most ``SIDE`` px is measured)."""
    import cv2

    rgb = np.asarray(picture.convert("RGB") if picture.mode != "RGB" else picture)
    height, width = rgb.shape[:2]
    scale = SIDE / max(height, width)
    if scale < 1.0:
        # Area averaging (OpenCV: a quarter of the cost of Pillow's bicubic thumbnail, the same decisions
        # on the evaluation set).
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    if min(rgb.shape[:2]) < 3:
        # Too small to have texture: call it a photograph with no green (the classifier decides).
        return ImageStatistics(flat=0.0, edges=0.0, texture=255.0, saturation=0.0, green=0.0, sky=0.0)
    gray = rgb.astype(np.float32) @ np.full(3, 1 / 3, dtype=np.float32)
    gradient = np.hypot(np.abs(np.diff(gray, axis=1))[:-1], np.abs(np.diff(gray, axis=0))[:, :-1])
    laplacian = np.abs(4 * gray[1:-1, 1:-1] - gray[:-2, 1:-1] - gray[2:, 1:-1] - gray[1:-1, :-2] - gray[1:-1, 2:])
    # Hue on 0-255 for 0-360 degrees, saturation and value on 0-255.
    hsv = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2HSV_FULL)
    hue = hsv[..., 0].astype(np.float32) * (360.0 / 256.0)
    saturation = hsv[..., 1].astype(np.float32) / 255.0
    value = hsv[..., 2].astype(np.float32) / 255.0
    green = (
        (hue > GREEN_HUES[0]) & (hue < GREEN_HUES[1]) & (saturation > GREEN_MIN_SATURATION) & (value > GREEN_MIN_VALUE)
    )
    top = slice(0, max(1, gray.shape[0] // 3))
    sky = (
        (hue[top, :-1] > SKY_HUES[0])
        & (hue[top, :-1] < SKY_HUES[1])
        & (saturation[top, :-1] > SKY_MIN_SATURATION)
        & (value[top, :-1] > SKY_MIN_VALUE)
        & (gradient[top] < SKY_MAX_GRADIENT)
    )
    return ImageStatistics(
        flat=float((gradient < FLAT_GRADIENT).mean()),
        edges=float((gradient > EDGE_GRADIENT).mean()),
        texture=float(np.median(laplacian)),
        saturation=float(saturation.mean()),
        green=float(green.mean()),
        sky=float(sky.mean()),
    )
