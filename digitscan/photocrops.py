"""Digit crops as the pipeline cuts them from photos, labelled, for training and measuring.

MNIST digits are clean 28x28 scans; what the classifier sees in use are crops the pipeline
cut from photographs: thresholded after shadows and JPEG, stroke width evened out, bits of
box borders and ruled lines left on them, touching digits cut apart. This module renders
photos with :mod:`digitscan.synth` from given MNIST digits, runs the pipeline's segmentation
on each (no classifier involved, so the crops do not depend on any model), and labels every
candidate that matches one rendered digit's box. ``digitscan train --photos N`` adds such
crops of the training digits to the training set; ``digitscan eval --photos N`` measures a
model on crops of the test digits.

Everything is seeded: photo ``i`` of seed ``s`` is drawn from ``default_rng([s, i])``, so
the crops do not depend on how the work is shared between processes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from digitscan.config import ScanConfig
from digitscan.types import BBox, Candidate

#: A candidate is a digit's crop when their boxes overlap by at least this IoU.
MATCH_IOU = 0.6
#: A blob is cut into the digits it covers when each covers at least this much of its box.
COVER_FRAC = 0.8
_PHOTOS_PER_TASK = 25


@dataclass(frozen=True, slots=True)
class PhotoCrops:
    """Labelled crops from rendered photos.

    Attributes:
        images: uint8 ``(N, 28, 28)``, MNIST-normalised as the pipeline normalises them.
        labels: uint8 ``(N,)``.
        photos: How many photos were rendered.
        digits: How many digits they held (``len(labels) / digits`` were matched).
    """

    images: NDArray[np.uint8]
    labels: NDArray[np.uint8]
    photos: int
    digits: int


def photo_crops(
    images: NDArray[np.uint8],
    labels: NDArray[np.uint8],
    count: int,
    *,
    seed: int = 0,
    config: ScanConfig | None = None,
    jobs: int = 1,
) -> PhotoCrops:
    """Render ``count`` photos from the given digits and return the pipeline's labelled crops.

    Args:
        images: uint8 ``(N, 28, 28)`` MNIST digits to write the photos with.
        labels: Their labels.
        count: Photos to render.
        seed: Seed of the scenes, cameras and digit choices.
        config: Pipeline settings (default ``ScanConfig()``).
        jobs: Worker processes (-1: one per core); each is capped at one thread.
    """
    config = config or ScanConfig()
    starts = range(0, count, _PHOTOS_PER_TASK)
    tasks = [(s, min(count, s + _PHOTOS_PER_TASK)) for s in starts]
    if jobs == 1:
        parts = [_crops_of(images, labels, seed, lo, hi, config) for lo, hi in tasks]
    else:
        from joblib import Parallel, delayed, parallel_config

        with parallel_config(backend="loky", inner_max_num_threads=1):
            parts = Parallel(n_jobs=jobs)(
                delayed(_crops_of)(images, labels, seed, lo, hi, config) for lo, hi in tasks
            )
    crops = [c for part, _ in parts for c in part]
    return PhotoCrops(
        images=np.array([c[0] for c in crops], np.uint8).reshape(-1, 28, 28),
        labels=np.array([c[1] for c in crops], np.uint8),
        photos=count,
        digits=sum(n for _, n in parts),
    )


def _crops_of(
    images: NDArray[np.uint8],
    labels: NDArray[np.uint8],
    seed: int,
    first: int,
    last: int,
    config: ScanConfig,
) -> tuple[list[tuple[NDArray[np.uint8], int]], int]:
    """Photos ``first..last-1`` of a seed: ``([(crop, label)], digits rendered)``."""
    import cv2

    from digitscan import synth

    cv2.setNumThreads(1)
    crops: list[tuple[NDArray[np.uint8], int]] = []
    rendered = 0
    for i in range(first, last):
        rng = np.random.default_rng([seed, i])
        kind = list(synth.SCENES)[int(rng.integers(len(synth.SCENES)))]
        size = synth.SIZES[int(rng.integers(len(synth.SIZES)))]
        if rng.random() < 0.3:
            size = (size[1], size[0])
        photo = synth.render(kind, rng, synth.DigitSource(images, labels, rng), size)
        rendered += len(photo.digits)
        crops += crops_in_photo(photo.as_saved(), photo.digits, config)
    return crops, rendered


def crops_in_photo(
    image: NDArray[np.uint8], digits: list[tuple[int, BBox]], config: ScanConfig
) -> list[tuple[NDArray[np.uint8], int]]:
    """The pipeline's crops of an image's known digits: ``[(uint8 28x28, label)]``.

    Each candidate string blob is matched to the digit box it overlaps most (IoU at least
    :data:`MATCH_IOU`); a blob covering several whole digits (touching digits) is cut into
    that many pieces as the pipeline would cut it, and each piece matched again.

    Args:
        image: BGR photo.
        digits: ``(label, box)`` of each written digit, in the photo's pixels.
        config: Pipeline settings.
    """
    from digitscan import segment
    from digitscan.pipeline import digit_image, make_page, segment_page

    _, _, to_original, strings, _ = segment_page(make_page(image, config), config)
    out = []
    for cand in (c for string in strings for c in string):
        box = to_original(cand.bbox)
        covered = [d for d in digits if _inside(d[1], box) >= COVER_FRAC]
        pieces: list[Candidate] = [cand]
        if len(covered) > 1:
            pieces = segment.cut(cand, segment.split_points(cand.mask, len(covered)))
        for piece in pieces:
            label = _match(to_original(piece.bbox), digits)
            if label is not None:
                out.append((digit_image(piece, config), label))
    return out


def _match(box: BBox, digits: list[tuple[int, BBox]]) -> int | None:
    best = max(digits, key=lambda d: _iou(box, d[1]), default=None)
    if best is None or _iou(box, best[1]) < MATCH_IOU:
        return None
    return best[0]


def _iou(a: BBox, b: BBox) -> float:
    inter = a.overlap(b)
    return inter / (a.area + b.area - inter) if inter else 0.0


def _inside(digit: BBox, blob: BBox) -> float:
    """How much of a digit's box lies inside a blob's box."""
    return digit.overlap(blob) / max(1, digit.area)
