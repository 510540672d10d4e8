"""Faint strokes: a second look at each digit with a lenient threshold of its own.

The page threshold keeps ink clearly darker than its neighbourhood and than the paper. Two
kinds of ink fall below it: the middle of a felt-pen stroke about as wide as the threshold's
window (darker than the paper, but no darker than its surroundings, so the stroke comes out
hollow: a thick 3 read as an 8, a 5 as an 8), and light parts of a stroke (a 7's bar written
with less pressure, a 9's loop). Lowering the page threshold brings in halos, paper texture
and faint printed grids everywhere; here only the pixels round one candidate are looked at
again, with a threshold set between that candidate's own ink and its paper. What is added
must be joined to its ink, reach further than the blur round it (or fill a hole in it nearly
as dark as the ink), stay clear of other blobs and removed lines, and not run on out of
reach (a grid line). The pipeline classifies an unsure digit with and without the additions
and averages the two (:func:`digitscan.pipeline.read_page`).
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from digitscan.preprocess import Gray
from digitscan.types import BBox, Candidate

#: How far around a candidate's box faint strokes are looked for (fraction of its longest side).
REACH = 0.25
#: The lenient threshold, as a fraction of the way from the candidate's ink tone to the paper.
LEVEL = 0.6
#: A stroke added must have at least this share of the candidate's ink beyond the halo.
MIN_GAIN = 0.02
#: Added ink larger than this share is not a lost stroke but something else (a smudge, a grid).
MAX_GAIN = 0.6
#: A hole in the ink darker than this (fraction of the way from ink to paper) is the hollow
#: middle of a stroke however narrow; a blurred small loop is lighter.
HOLE_LEVEL = 0.2
#: Weak pixels within this distance of the ink are its halo (blur), not a stroke.
HALO_PX = 2
#: Pixels this close to another blob's ink or to a removed line are not looked at.
_KEEP_OFF_PX = 3


def with_faint_strokes(cand: Candidate, flat: Gray, ink: Gray, lines: Gray) -> Candidate | None:
    """The candidate with the faint strokes joined to its ink, or None if there are none.

    Args:
        cand: A candidate in levelled working pixels.
        flat: The flattened page (paper bright).
        ink: The page's ink mask (all candidates), to keep other blobs out.
        lines: The removed printed lines, kept out too.
    """
    x, y, w, h = cand.bbox
    pad = max(2, round(REACH * max(w, h)))
    height, width = flat.shape
    x0, y0 = max(0, x - pad), max(0, y - pad)
    x1, y1 = min(width, x + w + pad), min(height, y + h + pad)
    own = np.zeros((y1 - y0, x1 - x0), np.uint8)
    own[y - y0 : y - y0 + h, x - x0 : x - x0 + w] = cand.mask
    tones = flat[y0:y1, x0:x1]
    own_on = own > 0
    if not own_on.any() or own_on.all():
        return None
    ink_tone = float(np.median(tones[own_on]))
    paper_tone = float(np.percentile(tones[~own_on], 75))
    if paper_tone - ink_tone < 20:
        return None
    level = ink_tone + LEVEL * (paper_tone - ink_tone)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * _KEEP_OFF_PX + 1,) * 2)
    others = cv2.bitwise_and(ink[y0:y1, x0:x1], cv2.bitwise_not(own))
    blocked = cv2.dilate(cv2.bitwise_or(others, lines[y0:y1, x0:x1]), kernel) > 0
    weak = ((tones < level) & ~blocked) | own_on
    count, labels = cv2.connectedComponents(weak.astype(np.uint8), connectivity=8)
    touching = np.unique(labels[own_on])
    grown = np.isin(labels, touching[touching > 0])
    sides = (np.s_[0, :], np.s_[-1, :], np.s_[:, 0], np.s_[:, -1])
    if any(grown[side].any() and not own_on[side].any() for side in sides):
        return None  # it runs on past the reach: a line or a neighbour, not a stroke
    # A halo round the ink is not a stroke: only what reaches further than HALO_PX counts
    # (or fills a hole in the ink as dark as the ink: a narrow hollow in a wide stroke),
    # with the pixels that join it to the ink.
    halo = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * HALO_PX + 1,) * 2)
    dark_holes = _holes(own) & (tones < ink_tone + HOLE_LEVEL * (paper_tone - ink_tone))
    far = (grown & ((cv2.dilate(own, halo) == 0) | dark_holes)).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(far, connectivity=8)
    big = [i for i in range(1, count) if stats[i, cv2.CC_STAT_AREA] >= MIN_GAIN * own_on.sum()]
    if not big:
        return None
    reach = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * HALO_PX + 3,) * 2)
    near = cv2.dilate(np.isin(labels, big).astype(np.uint8), reach) > 0
    grown = own_on | (grown & near)
    added = int(grown.sum() - own_on.sum())
    if added > MAX_GAIN * own_on.sum():
        return None
    ys, xs = np.nonzero(grown)
    top, left, bottom, right = ys.min(), xs.min(), ys.max() + 1, xs.max() + 1
    mask = np.where(grown[top:bottom, left:right], np.uint8(255), np.uint8(0))
    box = BBox(x0 + int(left), y0 + int(top), int(right - left), int(bottom - top))
    return Candidate(bbox=box, mask=mask)


def _holes(mask: Gray) -> NDArray[np.bool_]:
    """The background pixels a mask encloses (not reachable from the region's border)."""
    outside = np.pad(mask == 0, 1, constant_values=True).astype(np.uint8)
    cv2.floodFill(outside, None, (0, 0), 2)
    return outside[1:-1, 1:-1] == 1
