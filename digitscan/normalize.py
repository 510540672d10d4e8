"""MNIST-style normalisation of one digit crop.

MNIST's own recipe (LeCun et al.): take the ink's bounding box, scale it so its longest side is
20 px keeping the aspect ratio (anti-aliased), and paste it in a 28x28 field so that its centre
of mass sits at the centre. Classifiers trained on MNIST see digits only in that form, so every
crop from a photo goes through :func:`to_mnist` before it is classified.

Images here are uint8 with bright ink on a dark background (MNIST's convention).
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from digitscan.errors import ConfigError

MNIST_SIZE_PX = 28
#: MNIST scales the ink's bounding box to fit a 20x20 box.
MNIST_BOX_PX = 20


def to_mnist(crop: NDArray[np.uint8], *, box_px: int = MNIST_BOX_PX) -> NDArray[np.uint8]:
    """Normalise a digit crop as MNIST was normalised.

    Args:
        crop: uint8 ``(H, W)`` image of one digit, ink bright (> 0) on a dark (0) background.
        box_px: The size of the box the ink's longest side is scaled to.

    Returns:
        uint8 ``(28, 28)``, ink bright, its longest side ``box_px`` and its centre of mass
        within half a pixel of (14, 14), unless that would push ink out of the field (the shift
        is then clipped to keep the whole box inside). A crop with no ink gives all zeros.
        Normalising the result again returns it unchanged.

    Raises:
        ConfigError: ``crop`` is not a 2-D uint8 array.

    Example:
        >>> bar = np.zeros((50, 10), np.uint8); bar[5:45, 4:7] = 255
        >>> digit = to_mnist(bar)
        >>> digit.shape, int((digit.sum(axis=1) > 0).sum())
        ((28, 28), 20)
    """
    crop = np.asarray(crop)
    if crop.ndim != 2:
        raise ConfigError(f"`crop` must be a 2-D image, got {crop.ndim} dimensions")
    if crop.dtype != np.uint8:
        raise ConfigError(f"`crop` must be uint8, got {crop.dtype}")
    out = np.zeros((MNIST_SIZE_PX, MNIST_SIZE_PX), np.uint8)
    ys, xs = np.nonzero(crop)
    if ys.size == 0:
        return out
    ink = crop[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    h, w = ink.shape
    scale = box_px / max(h, w)
    new_h = max(1, min(box_px, round(h * scale)))
    new_w = max(1, min(box_px, round(w * scale)))
    if (new_h, new_w) != (h, w):
        # INTER_AREA averages when shrinking (anti-aliasing like MNIST's); linear when growing.
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        ink = cv2.resize(ink, (new_w, new_h), interpolation=interpolation)
    cy, cx = centre_of_mass(ink)
    centre = MNIST_SIZE_PX / 2
    # Integer shifts, as MNIST did: sub-pixel shifts would blur the strokes.
    top = int(np.clip(np.floor(centre - cy + 0.5), 0, MNIST_SIZE_PX - new_h))
    left = int(np.clip(np.floor(centre - cx + 0.5), 0, MNIST_SIZE_PX - new_w))
    out[top : top + new_h, left : left + new_w] = ink
    return out


def centre_of_mass(image: NDArray[np.uint8]) -> tuple[float, float]:
    """The (row, col) centre of mass of an image, pixel centres at +0.5 (so 28x28's is 14, 14).

    Args:
        image: uint8 ``(H, W)``, ink bright.

    Returns:
        ``(row, col)`` as floats; the image centre for an image with no ink.
    """
    weights = np.asarray(image, dtype=np.float64)
    total = weights.sum()
    if total == 0:
        return image.shape[0] / 2, image.shape[1] / 2
    rows = np.arange(image.shape[0]) + 0.5
    cols = np.arange(image.shape[1]) + 0.5
    return float(weights.sum(axis=1) @ rows / total), float(weights.sum(axis=0) @ cols / total)
