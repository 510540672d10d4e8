"""Training-time augmentation: make MNIST look like digits cut out of real photos.

Every function takes a uint8 batch ``(N, 28, 28)`` (ink bright) and a ``numpy.random.Generator``
and returns a new batch; none writes into its input. :func:`augment_batch` chains them with the
probabilities in :class:`AugmentConfig`, and the same seed always gives the same batch.

What real crops have that MNIST lacks, and the function that supplies it:

- rotation, scale, shear, off-centre placement: :func:`random_affine`
- wobbly handwriting: :func:`elastic_distort`
- thin and thick pens: :func:`change_stroke`
- focus blur and binarised (hard-edged) strokes: :func:`blur`, :func:`harden`
- the European 1 with a long flag and the crossed 7, which MNIST barely contains:
  :func:`add_flags`, :func:`add_bars`
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from digitscan.normalize import MNIST_SIZE_PX, to_mnist

Batch = NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class AugmentConfig:
    """How strongly to augment; each ``p_*`` is the chance per image."""

    max_rotation_deg: float = 12.0  # handwriting slant and a tilted camera
    scale_range: tuple[float, float] = (0.85, 1.1)  # crops are never exactly 20 px
    max_shear: float = 0.25  # italic writers
    max_shift_px: float = 2.0  # centring on a noisy crop is off by a pixel or two
    p_affine: float = 0.9
    p_elastic: float = 0.4
    elastic_alpha_px: float = 5.0  # displacement strength after smoothing (Simard et al. 2003)
    elastic_sigma_px: float = 3.0
    p_thicken: float = 0.15  # felt pens
    p_thin: float = 0.15  # ballpoints scanned at low resolution
    p_blur: float = 0.1
    p_harden: float = 0.15  # Otsu-binarised crops have hard edges
    p_flag_one: float = 0.35  # European 1 (flag, sometimes a foot)
    p_bar_seven: float = 0.35  # crossed 7


def augment_batch(
    images: Batch, labels: NDArray[np.integer], rng: np.random.Generator, config: AugmentConfig
) -> Batch:
    """Apply every augmentation with its probability.

    Args:
        images: uint8 ``(N, 28, 28)``, ink bright, MNIST-normalised.
        labels: ``(N,)`` digit labels (the 1- and 7-specific strokes need them).
        rng: The random generator; the same state gives the same output.
        config: Probabilities and strengths.

    Returns:
        A new uint8 ``(N, 28, 28)`` batch.
    """
    out = np.array(images, dtype=np.uint8, copy=True)
    ones = (labels == 1) & (rng.random(len(out)) < config.p_flag_one)
    sevens = (labels == 7) & (rng.random(len(out)) < config.p_bar_seven)
    out[ones] = add_flags(out[ones], rng)
    out[sevens] = add_bars(out[sevens], rng)
    for p, step in (
        (config.p_thicken, lambda b: change_stroke(b, +1)),
        (config.p_thin, lambda b: change_stroke(b, -1)),
        (config.p_elastic, lambda b: elastic_distort(b, rng, config)),
        (config.p_affine, lambda b: random_affine(b, rng, config)),
        (config.p_blur, lambda b: blur(b, rng)),
        (config.p_harden, harden),
    ):
        chosen = rng.random(len(out)) < p
        if chosen.any():
            out[chosen] = step(out[chosen])
    return out


def random_affine(images: Batch, rng: np.random.Generator, config: AugmentConfig) -> Batch:
    """Rotate, scale, shear and shift each image about its centre."""
    n = len(images)
    angles = np.deg2rad(rng.uniform(-config.max_rotation_deg, config.max_rotation_deg, n))
    scales = rng.uniform(*config.scale_range, n)
    shears = rng.uniform(-config.max_shear, config.max_shear, n)
    shifts = rng.uniform(-config.max_shift_px, config.max_shift_px, (n, 2))
    centre = np.array([MNIST_SIZE_PX / 2 - 0.5] * 2)
    out = np.empty_like(images)
    for i in range(n):
        cos, sin = np.cos(angles[i]) * scales[i], np.sin(angles[i]) * scales[i]
        linear = np.array([[cos, -sin], [sin, cos]]) @ np.array([[1.0, shears[i]], [0.0, 1.0]])
        offset = centre - linear @ centre + shifts[i]
        matrix = np.hstack([linear, offset[:, None]])
        out[i] = cv2.warpAffine(
            images[i], matrix, (MNIST_SIZE_PX, MNIST_SIZE_PX), flags=cv2.INTER_LINEAR
        )
    return out


def elastic_distort(images: Batch, rng: np.random.Generator, config: AugmentConfig) -> Batch:
    """Move pixels along a smooth random field (Simard, Steinkraus & Platt 2003)."""
    n = len(images)
    grid_y, grid_x = np.mgrid[0:MNIST_SIZE_PX, 0:MNIST_SIZE_PX].astype(np.float32)
    out = np.empty_like(images)
    for i in range(n):
        field = rng.uniform(-1, 1, (2, MNIST_SIZE_PX, MNIST_SIZE_PX)).astype(np.float32)
        dx = cv2.GaussianBlur(field[0], (0, 0), config.elastic_sigma_px)
        dy = cv2.GaussianBlur(field[1], (0, 0), config.elastic_sigma_px)
        # Normalise the smoothed field so alpha is the largest displacement in pixels.
        peak = max(float(np.abs(dx).max()), float(np.abs(dy).max()), 1e-6)
        scale = config.elastic_alpha_px / peak * rng.uniform(0.3, 1.0)
        out[i] = cv2.remap(
            images[i],
            grid_x + dx * scale,
            grid_y + dy * scale,
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=0,
        )
    return out


_CROSS_3X3 = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))


def change_stroke(images: Batch, direction: int) -> Batch:
    """Thicken (``direction`` > 0) or thin (< 0) the strokes by about one pixel."""
    op = cv2.dilate if direction > 0 else cv2.erode
    out = np.empty_like(images)
    for i, image in enumerate(images):
        changed = op(image, _CROSS_3X3)
        # Thinning must not erase a stroke that is already thin: keep the original then.
        out[i] = changed if direction > 0 or changed.max() >= 128 else image
    return out


def blur(images: Batch, rng: np.random.Generator) -> Batch:
    """Gaussian blur with a random sigma between 0.5 and 1 px (an out-of-focus phone)."""
    out = np.empty_like(images)
    for i, image in enumerate(images):
        out[i] = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.5, 1.0))
    return out


def harden(images: Batch) -> Batch:
    """Binarise at mid-grey and re-normalise, as a crop from a thresholded photo looks."""
    return np.stack([to_mnist(np.where(image >= 128, 255, 0).astype(np.uint8)) for image in images])


def add_flags(images: Batch, rng: np.random.Generator) -> Batch:
    """Turn MNIST 1s into European 1s: a flag down-left from the top, sometimes a foot."""

    def draw(canvas: NDArray[np.uint8], top: int, bottom: int, width_px: int) -> None:
        top_x = _ink_centre_x(canvas, top, top + max(2, (bottom - top) // 12))
        height = bottom - top
        length = height * rng.uniform(0.25, 0.55)
        angle = np.deg2rad(rng.uniform(15, 60))  # below the horizontal
        end = (round(top_x - length * np.cos(angle)), round(top + length * np.sin(angle)))
        cv2.line(canvas, (round(top_x), top), end, 255, width_px, cv2.LINE_AA)
        if rng.random() < 0.3:
            foot_x = _ink_centre_x(canvas, bottom - max(2, height // 12), bottom)
            half = height * rng.uniform(0.15, 0.3)
            y = bottom - width_px // 2
            cv2.line(
                canvas,
                (round(foot_x - half), y),
                (round(foot_x + half), y),
                255,
                width_px,
                cv2.LINE_AA,
            )

    return _redraw(images, draw)


def add_bars(images: Batch, rng: np.random.Generator) -> Batch:
    """Cross MNIST 7s: a short bar across the stem at about mid-height."""

    def draw(canvas: NDArray[np.uint8], top: int, bottom: int, width_px: int) -> None:
        y = round(top + (bottom - top) * rng.uniform(0.45, 0.6))
        stem_x = _ink_centre_x(canvas, y - 1, y + 2)
        half = (bottom - top) * rng.uniform(0.15, 0.3)
        tilt = (bottom - top) * rng.uniform(-0.05, 0.05)
        cv2.line(
            canvas,
            (round(stem_x - half), round(y + tilt)),
            (round(stem_x + half), round(y - tilt)),
            255,
            width_px,
            cv2.LINE_AA,
        )

    return _redraw(images, draw)


def _redraw(images: Batch, draw: Callable[[NDArray[np.uint8], int, int, int], None]) -> Batch:
    """Add strokes to each digit on a 4x canvas, then re-normalise it as MNIST.

    ``draw(canvas, top, bottom, pen_px)`` adds the strokes; digits with no ink pass through.
    """
    out = np.empty_like(images)
    for i, image in enumerate(images):
        canvas = _upscaled(image)
        top, bottom, width_px = _ink_extent(canvas)
        if top is None:
            out[i] = image
            continue
        draw(canvas, top, bottom, width_px)
        out[i] = to_mnist(canvas)
    return out


_UPSCALE = 4  # draw new strokes at 4x so anti-aliasing matches MNIST after re-normalising


def _upscaled(image: NDArray[np.uint8]) -> NDArray[np.uint8]:
    size = MNIST_SIZE_PX * _UPSCALE
    return cv2.resize(image, (size, size), interpolation=cv2.INTER_LINEAR)


def _ink_extent(canvas: NDArray[np.uint8]) -> tuple[int | None, int, int]:
    """Top and bottom ink rows and an estimated stroke width (px) of an upscaled digit."""
    rows = np.nonzero((canvas >= 128).any(axis=1))[0]
    if rows.size == 0:
        return None, 0, 0
    top, bottom = int(rows[0]), int(rows[-1])
    # Stroke width ~ ink per row for a mostly-vertical stroke; clipped to sane pen widths.
    per_row = (canvas >= 128).sum(axis=1)[top : bottom + 1]
    width_px = int(np.clip(np.median(per_row[per_row > 0]), _UPSCALE, 4 * _UPSCALE))
    return top, bottom, width_px


def _ink_centre_x(canvas: NDArray[np.uint8], row_from: int, row_to: int) -> float:
    band = canvas[max(0, row_from) : max(row_from + 1, row_to)].astype(np.float64)
    weight = band.sum(axis=0)
    if weight.sum() == 0:
        return canvas.shape[1] / 2
    return float(weight @ np.arange(canvas.shape[1]) / weight.sum())
