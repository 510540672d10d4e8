"""Segmentation: ink blobs -> digit candidates -> strings of digits.

Input is the cleaned binary page (uint8, ink = 255) at working resolution; boxes here are in
working pixels. :func:`find_candidates` labels connected components and rejects what cannot
be a digit by geometry (specks, lines, frames, solid marks); :func:`merge_strokes` joins the
pieces of a digit written in several strokes; :func:`group_lines` orders digits into strings;
:func:`drop_punctuation` removes decimal points, commas and dashes from a string.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import replace

import cv2
import numpy as np
from numpy.typing import NDArray

from digitscan.config import ScanConfig
from digitscan.preprocess import outline_length, stroke_width
from digitscan.types import BBox, Candidate


def find_candidates(ink: NDArray[np.uint8], config: ScanConfig) -> list[Candidate]:
    """Connected components of ink; those with too little ink are rejected as specks.

    Shape checks wait for :func:`reject_by_shape`, after :func:`merge_strokes`: a 5's
    detached bar is too short to be a digit on its own.

    Args:
        ink: uint8 ``(H, W)``, ink = 255.
        config: ``min_ink_px``.

    Returns:
        Every component of 4 px or more, as :class:`Candidate`, in no particular order.
    """
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    out = []
    for i in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[i])
        if area < 4:
            continue  # single-pixel dust: not worth a record
        bbox = BBox(x, y, w, h)
        mask = np.where(labels[y : y + h, x : x + w] == i, np.uint8(255), np.uint8(0))
        out.append(Candidate(bbox, mask, "speck" if area < config.min_ink_px else None))
    return out


def reject_by_shape(
    candidates: list[Candidate], page_h: int, config: ScanConfig, *, merged: bool
) -> list[Candidate]:
    """Mark kept candidates whose size or shape no digit has.

    Runs twice: before :func:`merge_strokes` (``merged=False``) it rejects what no merge can
    turn into a digit (too tall, too wide, frames, blots), so a page border never swallows
    the digits inside it; after (``merged=True``) it rejects what is still too short: a 5's
    detached bar is too short on its own but not once merged.

    Args:
        candidates: Candidates with or without ``rejected`` set.
        page_h: Working page height in pixels.
        config: The limits.
        merged: Whether strokes have been merged yet.

    Returns:
        The same candidates, newly rejected ones with their reason.
    """
    check = _too_short if merged else _shape_problem
    return [c if c.rejected else replace(c, rejected=check(c, page_h, config)) for c in candidates]


#: Why a blob too short for a digit is rejected (it may still be a decimal point).
TOO_SHORT = "too short: a speck, dot or dash"
#: Why a long blob of tiny pen width is rejected.
HAIRLINE = "a hairline (page edge or ruling), not a pen stroke"
#: Why a thin upright blob on the axis of a printed line is rejected.
LINE_PIECE = "a piece of a printed line"


def _too_short(cand: Candidate, page_h: int, config: ScanConfig) -> str | None:
    del page_h
    if cand.bbox.h < config.min_height_px:
        return TOO_SHORT
    if _is_hairline(cand, config):
        return HAIRLINE
    return None


def _is_hairline(cand: Candidate, config: ScanConfig) -> bool:
    """A long blob whose pen width is tiny for its height, and that runs nearly straight.

    Page edges and pieces of ruling are thin lines, straight or gently bent (an L at a
    corner). A digit written with a fine pen at high resolution is as thin, but its stroke
    winds (a loop, a junction, a turn back): its length is well over its box's diagonal.
    """
    box = cand.bbox
    if box.h < 2 * config.min_height_px or (
        stroke_width(cand.mask) >= config.min_stroke_frac * box.h
    ):
        return False
    winds = outline_length(cand.mask) / 2 >= _HAIRLINE_MAX_WINDING * float(np.hypot(box.w, box.h))
    # ... unless it is wider than a digit, or runs along two sides of its box: a box drawn
    # in perspective, a piece of one, a page's corner.
    return not winds or box.w > _HAIRLINE_DIGIT_ASPECT * box.h or _sides_covered(cand.mask) >= 2


#: A thin blob whose stroke (half its outline) is this many times its box's diagonal winds
#: like a written digit.
_HAIRLINE_MAX_WINDING = 1.6
#: ... if it is no wider than this many times its height.
_HAIRLINE_DIGIT_ASPECT = 1.2


def reconsider_hairlines(candidates: list[Candidate]) -> list[Candidate]:
    """Keep, as suspects, blobs rejected as hairlines that have a digit's size and shape.

    A 4 or a 7 written with a fine pen is mostly one long straight stroke: it winds too
    little for :func:`_is_hairline` to tell it from a piece of ruling, a fine-pen 5 or 7
    runs along two sides of its box as a corner of ruling does, and a fine-pen number joined
    to its underline is wider than a digit. Hairlines at least a third as wide as tall and
    as tall as the page's digits are kept with :data:`HAIRLINE` as their ``suspect``: the
    classifier's reading decides
    (:func:`digitscan.pipeline.find_strings` checks them against the page's edges, which the
    hairline rejection had skipped; the "not a digit" class, and for a lone straight line
    read as a 1 the string scorer, :mod:`digitscan.stringscore`, decide). They count
    towards the page's digit height themselves: a number written all in fine pen has no
    other digits to be measured by.
    """
    shaped = [c for c in candidates if c.rejected == HAIRLINE and _digit_shaped(c)]
    if not shaped:
        return candidates
    digit_h = _page_digit_height([c for c in candidates if c.rejected is None] + shaped)
    low, high = _SUSPECT_HEIGHTS[0] * digit_h, _SUSPECT_HEIGHTS[1] * digit_h
    chosen = {id(c) for c in shaped if low <= c.bbox.h <= high}
    return [
        replace(c, rejected=None, suspect=HAIRLINE) if id(c) in chosen else c for c in candidates
    ]


def _digit_shaped(cand: Candidate) -> bool:
    return _SUSPECT_MIN_ASPECT * cand.bbox.h <= cand.bbox.w


#: A hairline between these multiples of the page's digit height ...
_SUSPECT_HEIGHTS = (0.5, 2.0)
#: ... and at least this fraction of its height wide may be digits written with a fine pen.
_SUSPECT_MIN_ASPECT = 0.3


def _shape_problem(cand: Candidate, page_h: int, config: ScanConfig) -> str | None:
    bbox = cand.bbox
    ink = np.count_nonzero(cand.mask)
    if bbox.h > config.max_height_frac * page_h:
        return "too tall for a digit"
    if bbox.w > config.max_aspect * max(bbox.h, config.min_height_px):
        return "too wide: a dash or underline"
    if bbox.h >= 3 * config.min_height_px and _is_frame(cand.mask):
        return "a frame: ink only along its border"
    if (
        bbox.h >= config.min_height_px
        and ink / max(1, bbox.area) > config.max_fill
        and bbox.w > 0.5 * bbox.h
    ):
        return "solid: a blot or an edge"
    if _is_hairline(cand, config):
        return HAIRLINE
    return None


def _is_frame(mask: NDArray[np.uint8]) -> bool:
    """A rectangle outline: ink runs along most of all four sides and little inside.

    A 0 or a 6 also keeps its ink near its box's border, but only touches each side briefly.
    """
    h, w = mask.shape
    by, bx = max(1, h // 8), max(1, w // 8)
    ink = mask > 0
    inner = np.count_nonzero(ink[by : h - by, bx : w - bx])
    if inner >= 0.1 * max(1, np.count_nonzero(ink)):
        return False
    return _sides_covered(mask) == 4


def _sides_covered(mask: NDArray[np.uint8]) -> int:
    """How many sides of its box a blob's ink runs along (70% of the side, in its outer 1/8)."""
    h, w = mask.shape
    by, bx = max(1, h // 8), max(1, w // 8)
    ink = mask > 0
    sides = (
        ink[:by].any(axis=0),
        ink[h - by :].any(axis=0),
        ink[:, :bx].any(axis=1),
        ink[:, w - bx :].any(axis=1),
    )
    return sum(bool(side.mean() >= 0.7) for side in sides)


def reject_on_edges(
    candidates: list[Candidate], paper: NDArray[np.uint8], config: ScanConfig
) -> list[Candidate]:
    """Reject blobs lying along the paper's edge or the image border.

    A page or sticky-note edge leaves thin slivers of "ink" where the paper meets the desk;
    read alone they look like 1s. A blob with most of its ink within ``edge_margin_px`` of
    non-paper or the image border is such a sliver.

    Args:
        candidates: Candidates in the same (working, levelled) pixels as ``paper``.
        paper: uint8 ``(H, W)`` paper mask, paper = 255.
        config: ``edge_margin_px`` and ``edge_ink_frac``.
    """
    if paper.min() == 255:  # all paper: only the image border counts (no transform needed)
        h, w = paper.shape
        ys, xs = np.ogrid[:h, :w]
        distance = np.minimum(np.minimum(ys, h - 1 - ys), np.minimum(xs, w - 1 - xs))
    else:
        framed = paper.copy()
        framed[0, :] = framed[-1, :] = framed[:, 0] = framed[:, -1] = 0
        distance = cv2.distanceTransform(framed, cv2.DIST_L2, 3)

    def along_edge(cand: Candidate) -> bool:
        x, y, w, h = cand.bbox
        near = distance[y : y + h, x : x + w][cand.mask > 0] < config.edge_margin_px
        return bool(near.size and near.mean() > config.edge_ink_frac)

    return _reject_where(candidates, along_edge, "on the edge of the paper")


def _reject_where(
    candidates: list[Candidate], not_a_digit: Callable[[Candidate], bool], reason: str
) -> list[Candidate]:
    """The candidates, the kept ones for which ``not_a_digit`` holds rejected for ``reason``."""
    return [
        replace(c, rejected=reason) if c.rejected is None and not_a_digit(c) else c
        for c in candidates
    ]


def _thin_upright(box: BBox) -> bool:
    """Whether a blob is narrow enough to be a 1 or a piece of an upright line."""
    return box.w < 0.4 * box.h


#: Ring pixels within this distance of ink are left out (a stroke's blurred edge is grey).
_EDGE_INK_MARGIN_PX = 3
#: A blob is an edge when at least this share of its ring is dark ...
_EDGE_DARK_SHARE = 0.4
#: ... its ring (ink left out) has at least this many pixels to judge by ...
_EDGE_MIN_RING_PX = 20
#: ... darker than this fraction of ``edge_side_ratio`` (a ring is wide round a big digit, and
#: light falling off across a sticky note darkened 40% of it to 0.77-0.79 of its paper).
_RING_DARK_SHARE_RATIO = 0.94


def reject_edge_strokes(
    candidates: list[Candidate],
    gray: NDArray[np.uint8],
    binary: NDArray[np.uint8],
    config: ScanConfig,
) -> list[Candidate]:
    """Reject blobs with paper on one side and something darker on the other.

    A pen stroke has paper all round it; the edge of a sticky note or a page against a
    lighter desk (where the paper mask cannot tell them apart) binarises as a thin dark
    line that reads as a 1, and a page's corner as an L that reads as anything, with paper
    on one side only. The tone is compared on strips left and right of a thin blob, and on
    a ring round any blob, each as wide as a quarter of its height, leaving out ink (so a
    neighbouring digit or a box side does not count as darkness): a blob is an edge when one
    side is darker than ``edge_side_ratio`` of the other, or a large part of its ring
    (:data:`_EDGE_DARK_SHARE`, the blurred edges of ink left out too) is darker than that
    fraction (times :data:`_RING_DARK_SHARE_RATIO`) of the ring's paper.

    Args:
        candidates: Candidates in the same (working, levelled) pixels as the images.
        gray: uint8 ``(H, W)`` grey page, not flattened (flattening evens out the desk too).
        binary: uint8 ``(H, W)`` ink mask (ink 255), lines included.
        config: ``edge_side_ratio``.
    """
    return _reject_where(
        candidates,
        lambda c: _one_sided(c.bbox, gray, binary, config) or _dark_ring(c, gray, binary, config),
        "an edge between light and dark, not a stroke",
    )


def _one_sided(
    box: BBox, gray: NDArray[np.uint8], binary: NDArray[np.uint8], config: ScanConfig
) -> bool:
    """Whether a thin upright blob has paper on one side only (strips left and right)."""
    if not _thin_upright(box):
        return False
    x, y, w, h = box
    strip = max(3, h // 4)
    sides = []
    for lo, hi in ((max(0, x - strip), x), (x + w, min(gray.shape[1], x + w + strip))):
        tone = gray[y : y + h, lo:hi][binary[y : y + h, lo:hi] == 0]
        if tone.size:
            sides.append(float(np.median(tone)))
    return len(sides) == 2 and min(sides) < config.edge_side_ratio * max(sides)


def _dark_ring(
    cand: Candidate, gray: NDArray[np.uint8], binary: NDArray[np.uint8], config: ScanConfig
) -> bool:
    """Whether much of the paper round a blob (a ring, ink left out) is dark."""
    x, y, w, h = cand.bbox
    strip = max(3, h // 4)
    x0, y0 = max(0, x - strip), max(0, y - strip)
    x1, y1 = min(gray.shape[1], x + w + strip), min(gray.shape[0], y + h + strip)
    blob = np.zeros((y1 - y0, x1 - x0), np.uint8)
    blob[y - y0 : y - y0 + h, x - x0 : x - x0 + w] = cand.mask
    near_ink = np.ones((2 * _EDGE_INK_MARGIN_PX + 1,) * 2, np.uint8)
    round_blob = cv2.distanceTransform(cv2.bitwise_not(blob), cv2.DIST_L2, 3) <= strip
    ring = round_blob & (cv2.dilate(binary[y0:y1, x0:x1], near_ink) == 0)
    tone = gray[y0:y1, x0:x1][ring]
    if tone.size <= _EDGE_MIN_RING_PX:
        return False
    dark, paper = np.quantile(tone, [_EDGE_DARK_SHARE, 0.9])
    return bool(dark < _RING_DARK_SHARE_RATIO * config.edge_side_ratio * paper)


def reject_line_pieces(candidates: list[Candidate], borders: NDArray[np.uint8]) -> list[Candidate]:
    """Reject thin upright blobs that continue a printed upright line above or below them.

    A cheque's or a form's frame, printed faint, breaks into pieces where the threshold loses
    it; the long pieces are found and removed as lines, a short one left between them reads
    as a 1 (with no line beside it: that is the gap the piece fills). A written 1 does not
    stand on the axis of a printed line.

    Args:
        candidates: Candidates in working pixels.
        borders: uint8 ``(H, W)`` upright lines found on the page (255).
    """

    def on_a_line(cand: Candidate) -> bool:
        if not _thin_upright(cand.bbox):
            return False
        x, y, w, h = cand.bbox
        reach = h // 2
        columns = np.s_[max(0, x - 1) : x + w + 1]
        above = borders[max(0, y - reach) : y, columns]
        below = borders[y + h : y + h + reach, columns]
        # Half a digit the line removal cut off along a box side has the side beside it.
        beside = borders[y : y + h, max(0, x - 2) : x + w + 2]
        return bool((above.any() or below.any()) and not beside.any())

    return _reject_where(candidates, on_a_line, LINE_PIECE)


def merge_strokes(candidates: list[Candidate], config: ScanConfig) -> list[Candidate]:
    """Join kept candidates that are pieces of one digit, stacked with a small gap.

    Two pieces merge when their horizontal extents overlap by at least ``merge_overlap`` of
    the narrower one (``piece_merge_overlap`` if one is far shorter than the other), the
    vertical gap is under ``merge_gap_frac`` of the taller one, and the result is not much
    taller than a digit (so digits of two lines never merge); or when one is a 5's bar drawn
    apart from its body (see :func:`_is_top_bar`: tried only once no stacked pieces are
    left, so a 7's bar stays with the stem under it); or when they are the top and bottom
    halves of one digit, measured against the page's median blob height (see
    :func:`_halves`); or when one is a sliver split off the other's stroke (see
    :func:`_sliver_beside`).
    """
    kept = [c for c in candidates if c.rejected is None]
    rejected = [c for c in candidates if c.rejected is not None]
    if not kept:
        return rejected
    digit_h = _page_digit_height(kept)
    # Pieces stacked one on another first: a 7's bar cut off by a grid line belongs to the
    # stem under it, not to the digit whose side it happens to reach as a 5's bar would.
    for bars in (False, True):
        kept = _merge_pairs(kept, config, digit_h, bars)
    return kept + rejected


def _merge_pairs(
    kept: list[Candidate], config: ScanConfig, digit_h: float, bars: bool
) -> list[Candidate]:
    """Merge neighbours (left to right) that belong together until none do.

    With ``bars``, a 5's bar drawn apart from its body counts as belonging to it.
    """
    merged = True
    while merged:
        merged = False
        kept.sort(key=lambda c: (c.bbox.x, c.bbox.y))
        for i in range(len(kept)):
            for j in range(i + 1, len(kept)):
                a, b = kept[i].bbox, kept[j].bbox
                if b.x >= a.x2 + _BAR_MAX_GAP * max(a.h, b.h):
                    break
                if _belong_together(a, b, config, digit_h, bars) or _sliver_beside(
                    kept[i], kept[j]
                ):
                    kept[i] = union_of(kept[i], kept[j])
                    del kept[j]
                    merged = True
                    break
            if merged:
                break
    return kept


def _page_digit_height(kept: list[Candidate]) -> float:
    """The page's digit height: the median of the blobs not small beside the tall ones.

    Printed labels and specks can outnumber the digits.
    """
    heights = np.array([c.bbox.h for c in kept])
    return float(np.median(heights[heights >= 0.5 * np.percentile(heights, 90)]))


def reject_broken_lines(candidates: list[Candidate]) -> list[Candidate]:
    """Reject thin upright blobs stacked end to end into something taller than a digit.

    A printed box's side the line removal missed breaks where the threshold loses it: two
    pieces one above the other, a pixel or two apart, each read as a 1 and each joining a
    different string (the "$" before a cheque's box, the amount in it). Two 1s written on
    two lines are a line's gap apart; a 1 broken by a pen skip is no taller than a digit.
    """
    kept = [c for c in candidates if c.rejected is None]
    if len(kept) < 2:
        return candidates
    digit_h = _page_digit_height(kept)
    thin = [c for c in kept if _thin_upright(c.bbox)]
    pieces: set[int] = set()
    for i, a in enumerate(thin):
        for b in thin[i + 1 :]:
            top, bottom = (a, b) if a.bbox.y <= b.bbox.y else (b, a)
            gap = bottom.bbox.y - top.bbox.y2
            overlap = min(a.bbox.x2, b.bbox.x2) - max(a.bbox.x, b.bbox.x)
            union = a.bbox.union(b.bbox)
            if (
                overlap >= 0.5 * min(a.bbox.w, b.bbox.w)
                and -1 <= gap <= _BROKEN_LINE_GAP * max(a.bbox.h, b.bbox.h)
                and union.h >= _BROKEN_LINE_MIN * digit_h
            ):
                pieces.update((id(a), id(b)))
    if not pieces:
        return candidates
    return _reject_where(candidates, lambda c: id(c) in pieces, LINE_PIECE)


#: Pieces of one digit together are at most this many times as wide as the page's digits
#: are tall (or as they are, if taller).
_MERGE_MAX_ASPECT = 1.5
#: ... and at most this many of the page's digit heights tall (or 1.6 of the larger piece).
_MERGE_MAX_DIGITS = 1.1
#: Two pieces of a broken line are at most this fraction of the longer one apart ...
_BROKEN_LINE_GAP = 0.15
#: ... and together at least this many times the page's digit height.
_BROKEN_LINE_MIN = 1.2


def _belong_together(
    a: BBox, b: BBox, config: ScanConfig, digit_h: float, bars: bool = True
) -> bool:
    if bars and (_is_top_bar(a, b, digit_h) or _is_top_bar(b, a, digit_h)):
        return True
    if _halves(a, b, config, digit_h):
        return True
    taller, smaller = max(a.h, b.h), min(a.h, b.h)
    # A piece broken off a digit (a 6's or 9's loop, half a 4) may hang well to one side.
    piece = smaller < _PIECE_MAX_FRAC * taller
    overlap = min(a.x2, b.x2) - max(a.x, b.x)
    need = config.piece_merge_overlap if piece else config.merge_overlap
    if overlap < need * min(a.w, b.w):
        return False
    gap = max(a.y, b.y) - min(a.y2, b.y2)  # negative when they overlap vertically
    if gap > config.merge_gap_frac * taller:
        return False
    union = a.union(b)
    if union.w > _MERGE_MAX_ASPECT * max(union.h, digit_h):
        return False  # a box's sides and bottom the line removal missed, round the digits
    # A detached bar or a broken loop is small next to the body; two whole digits are not.
    # Together no taller than a digit of the page may be far taller than the larger piece
    # (a 6 whose stem came off its loop: two halves).
    tall_enough = union.h <= max(1.6 * taller, _MERGE_MAX_DIGITS * digit_h)
    return tall_enough and (smaller < 0.6 * taller or gap < 0)


def _sliver_beside(a: Candidate, b: Candidate) -> bool:
    """Whether one is a thin sliver split off the other's stroke lengthwise.

    A felt pen's stroke can binarise with a pale streak along it: a sliver beside the
    stroke, within its height, a pixel or two away and far thinner than the pen. A 1
    written beside a digit is written with the same pen.
    """
    for sliver, body in ((a, b), (b, a)):
        sb, bb = sliver.bbox, body.bbox
        if sb.w > 0.25 * sb.h or sb.h > bb.h:
            continue
        if max(bb.x - sb.x2, sb.x - bb.x2) > max(3, _SLIVER_GAP * bb.h):
            continue
        if min(sb.y2, bb.y2) - max(sb.y, bb.y) < 0.8 * sb.h:
            continue
        if stroke_width(sliver.mask) < _SLIVER_WIDTH * stroke_width(body.mask):
            return True
    return False


#: A sliver is at most this fraction of its stroke's height away from it ...
_SLIVER_GAP = 0.06
#: ... and its pen width under this fraction of the stroke's.
_SLIVER_WIDTH = 0.5


def _halves(a: BBox, b: BBox, config: ScanConfig, digit_h: float) -> bool:
    """Whether ``a`` and ``b`` are the top and bottom of one digit broken across the middle.

    Two pieces of a like height, stacked with a small gap, each well under the page's digit
    height and together about as tall as a digit (a 5 whose stem breaks below the bar). A
    cut on a slant (a 3 whose middle ran along a squared page's line, removed with it)
    leaves halves whose boxes overlap in height, too much to be a bar or a loop broken off.
    """
    if max(a.h, b.h) > _HALF_MAX_FRAC * digit_h:
        return False
    overlap = min(a.x2, b.x2) - max(a.x, b.x)
    if overlap < config.merge_overlap * min(a.w, b.w):
        return False
    gap = max(a.y, b.y) - min(a.y2, b.y2)
    if not -_HALF_MAX_OVERLAP * digit_h <= gap <= _HALF_MAX_GAP * digit_h:
        return False
    return _HALF_UNION_RANGE[0] * digit_h <= a.union(b).h <= _HALF_UNION_RANGE[1] * digit_h


#: A half of a broken digit is at most this fraction of the page's digit height ...
_HALF_MAX_FRAC = 0.7
#: ... at most this fraction of it apart ...
_HALF_MAX_GAP = 0.25
#: ... or overlapping by at most this fraction of it (cut on a slant: across a ruled line) ...
_HALF_MAX_OVERLAP = 0.25
#: ... and the two halves together span this range of it.
_HALF_UNION_RANGE = (0.75, 1.25)

#: A blob shorter than this fraction of its neighbour is a piece of a digit, not a whole one.
_PIECE_MAX_FRAC = 0.7
#: A 5's detached bar may stand this fraction of the body's height beside it.
_BAR_MAX_GAP = 0.25


def _is_top_bar(bar: BBox, body: BBox, digit_h: float = 0.0) -> bool:
    """Whether ``bar`` is a 5's top bar drawn apart from its body (often past its right end).

    Flat (or long and slanting), far shorter than the body, level with its top, close beside
    or above it, and the two together still shaped like one digit. A body shorter than the
    page's digits (``digit_h``; the hook of a 5 whose upright stroke is short) may have its
    bar that much higher above it, as long as the two are no taller than a digit.
    """
    slanting = bar.w >= _SLANTED_BAR_ASPECT * bar.h
    tallest = (_SLANTED_BAR_MAX if slanting else 0.4) * body.h
    if not 0.1 * body.h <= bar.h <= tallest or bar.w < 1.5 * bar.h:
        return False  # a pen's stroke, flat; far thinner is what is left of a printed line
    if bar.x < body.x + 0.3 * body.w:
        return False
    middle = bar.y + bar.h / 2
    if not body.y - 0.35 * max(body.h, digit_h) <= middle <= body.y + 0.3 * body.h:
        return False
    if bar.x - body.x2 > _BAR_MAX_GAP * body.h:
        return False
    union = bar.union(body)
    if union.h > max(_BAR_UNION_MAX * digit_h, 1.35 * body.h):
        return False
    return union.w <= 1.7 * union.h


#: A bar at least this many times as wide as its box is tall slants, and may be this much of
#: the body's height tall.
_SLANTED_BAR_ASPECT, _SLANTED_BAR_MAX = 2.5, 0.65
#: A bar and a body shorter than the page's digits are together at most this many of them.
_BAR_UNION_MAX = 1.2


def union_of(a: Candidate, b: Candidate) -> Candidate:
    """One candidate of two: the box round both, their masks laid over each other."""
    box = a.bbox.union(b.bbox)
    mask = np.zeros((box.h, box.w), np.uint8)
    for part in (a, b):
        y, x = part.bbox.y - box.y, part.bbox.x - box.x
        region = mask[y : y + part.bbox.h, x : x + part.bbox.w]
        np.maximum(region, part.mask, out=region)
    return Candidate(box, mask)


def full_size_height(line: list[Candidate], frac: float) -> float:
    """Median height of a string's full-size members (at least ``frac`` of the tallest).

    Small pieces (a 5's bar, half an 8, punctuation, slivers of box sides) would drag a
    plain median down.
    """
    tallest = max(c.bbox.h for c in line)
    return float(np.median([c.bbox.h for c in line if c.bbox.h >= frac * tallest]))


def group_lines(
    candidates: list[Candidate], config: ScanConfig, marks: Sequence[Candidate] = ()
) -> list[list[Candidate]]:
    """Group kept candidates into strings, each left to right; strings top to bottom.

    A candidate joins the string whose rightmost member overlaps it vertically (by
    ``line_overlap`` of the shorter) and lies at most ``line_gap_frac`` x the string's median
    height to its left, unless it is more than ``line_join_max_height`` times taller than the
    string (smaller blobs join: punctuation is dropped later). Chaining neighbour to
    neighbour, rather than comparing with a whole line's extent, keeps a slightly rotated
    string together.

    ``marks`` (blobs rejected as too small to be digits) join a string only where a decimal
    point or comma would sit: the digits after the point may then stand as far from it as
    from a digit. They are not returned.
    """
    lines: list[list[Candidate]] = []
    points = [m for m in marks if _point_shaped(m.bbox)]  # not the flat remnants of ruling
    for cand in sorted([*candidates, *points], key=lambda c: c.bbox.x):
        best, best_gap = None, None
        box = cand.bbox
        is_mark = cand.rejected is not None
        for line in lines:
            if is_mark and line[-1].rejected is not None:
                continue  # one point between digits: marks never chain
            # The string's height is its full-size members': slivers and punctuation beside
            # a lone digit must not make the next digit look "much taller than the string".
            height = full_size_height(line, 0.5)
            # Compare with the last full-size member: a small piece (a 5's bar, half an 8)
            # must not become the string's reference for vertical position.
            full = [c.bbox for c in line if c.bbox.h >= 0.7 * height]
            last = full[-1] if full else line[-1].bbox
            right = max(c.bbox.x2 for c in line[-2:])
            if box.h > config.line_join_max_height * height:
                continue  # much taller than the string: an edge or another string's digit
            overlap = min(last.y2, box.y2) - max(last.y, box.y)
            level = not is_mark and overlap >= config.line_overlap * min(last.h, box.h)
            if not level and not _on_baseline(box, last):
                continue
            gap = box.x - right
            if gap > config.line_gap_frac * height:
                continue
            if best_gap is None or gap < best_gap:
                best, best_gap = line, gap
        if best is not None:
            best.append(cand)
        elif not is_mark:
            lines.append([cand])
    return order_lines([[c for c in line if c.rejected is None] for line in lines])


#: A mark at most this fraction of a digit's height may be a decimal point or a comma.
_MARK_MAX_FRAC = 0.4
#: ... and at most this many times wider than tall.
_MARK_MAX_ASPECT = 1.6


def _point_shaped(mark: BBox) -> bool:
    """Round or upright, as a decimal point or comma is (what is left of a ruled line is flat)."""
    return mark.w <= _MARK_MAX_ASPECT * mark.h


def _on_baseline(mark: BBox, digit: BBox) -> bool:
    """Whether a small mark sits where a decimal point or comma goes after ``digit``.

    Point-shaped, its bottom in the digit's lower half or hanging a little below it (a
    comma). It joins the string, so the digits after it join too however wide the gap round
    the point, and it is dropped as punctuation later.
    """
    return (
        mark.h <= _MARK_MAX_FRAC * digit.h
        and _point_shaped(mark)
        and digit.y + 0.5 * digit.h <= mark.y2 <= digit.y2 + 0.35 * digit.h
    )


def order_lines(lines: list[list[Candidate]]) -> list[list[Candidate]]:
    """Order strings top to bottom; strings side by side on one row, left to right."""

    def span(line: list[Candidate]) -> tuple[int, int]:
        return min(c.bbox.y for c in line), max(c.bbox.y2 for c in line)

    rows: list[list[list[Candidate]]] = []
    for line in sorted(lines, key=lambda ln: sum(span(ln)) / 2):
        top, bottom = span(line)
        for row in rows:
            r_top, r_bottom = span(row[0])
            overlap = min(bottom, r_bottom) - max(top, r_top)
            if overlap > 0.5 * min(bottom - top, r_bottom - r_top):
                row.append(line)
                break
        else:
            rows.append([line])
    return [line for row in rows for line in sorted(row, key=lambda ln: ln[0].bbox.x)]


def with_upright_rejects(
    borders: NDArray[np.uint8], candidates: list[Candidate]
) -> NDArray[np.uint8]:
    """The page's upright lines plus the blobs of ``candidates`` that are hairlines.

    Those rejected as hairlines or line pieces count, and so do the suspect hairlines kept
    for the classifier (a box's side and a thin 4 alike).

    A box's side leaning by perspective is not found as a line (its runs are not upright)
    but as a blob, rejected as a hairline, often with a piece of the box's top or bottom.
    Added to the border mask, it counts as a border where the string stages look for one
    (a row of comb boxes is found as one, not cut at the few sides found as lines).
    """
    lines = [c for c in candidates if c.rejected in (HAIRLINE, LINE_PIECE) or c.suspect == HAIRLINE]
    if not lines:
        return borders
    out = borders.copy()
    for cand in lines:
        x, y, w, h = cand.bbox
        out[y : y + h, x : x + w] |= cand.mask
    return out


def split_at_borders(
    line: list[Candidate],
    borders: NDArray[np.uint8],
    config: ScanConfig,
    comb_borders: NDArray[np.uint8] | None = None,
    binary: NDArray[np.uint8] | None = None,
) -> tuple[list[list[Candidate]], list[Candidate]]:
    """Split a string where a printed vertical line (a box border) stands between two blobs.

    Comb boxes put a border between every pair of digits: a string where most gaps have one
    stays whole. Otherwise it is cut at its borders, and a lone blob cut off from a longer
    string and smaller than its digits (the printed "$" before a cheque's amount box) is
    rejected.

    Args:
        line: Candidates left to right.
        borders: uint8 ``(H, W)`` mask of printed vertical lines, same pixels as ``line``.
        config: ``border_sign_frac``.
        comb_borders: A fuller mask to tell a row of boxes by (default ``borders``): with
            the leaning sides :func:`with_upright_rejects` adds, which are never cut at (a
            thin 1 may be rejected as a hairline).
        binary: The page's ink before line removal: a faint box side, too broken into
            dashes to be found as a line, still tells a row of boxes (see :func:`_is_comb`).

    Returns:
        ``(strings, rejected)``.
    """
    if len(line) < 2:
        return [line], []
    if _is_comb(line, borders if comb_borders is None else comb_borders, config, binary):
        return [line], []
    gaps = [_border_between(a.bbox, b.bbox, borders) for a, b in zip(line, line[1:], strict=False)]
    if any(gaps):
        gaps = _without_grid_lines(line, gaps, borders)
    if not any(gaps):
        return [line], []
    last = max(i for i, border in enumerate(gaps) if border)
    if last > 0 and not gaps[last - 1]:
        # Digits just past the last border: the amount ran over its box's side.
        first_past = line[last + 1].bbox
        gaps[last] = _border_clearance(line[last].bbox, first_past, borders) > (
            config.overrun_max_frac * first_past.h
        )
    segments: list[list[Candidate]] = [[line[0]]]
    for cand, border in zip(line[1:], gaps, strict=True):
        if border:
            segments.append([cand])
        else:
            segments[-1].append(cand)
    kept, rejected = [], []
    for i, segment in enumerate(segments):
        neighbours = [segments[j] for j in (i - 1, i + 1) if 0 <= j < len(segments)]
        longer = [n for n in neighbours if len(n) > 1]
        if len(segment) == 1 and longer:
            median_h = float(np.median([c.bbox.h for c in longer[0]]))
            if segment[0].bbox.h < config.border_sign_frac * median_h:
                rejected.append(replace(segment[0], rejected="a printed sign beside a box"))
                continue
        kept.append(segment)
    return kept, rejected


def _without_grid_lines(
    line: list[Candidate], gaps: list[bool], borders: NDArray[np.uint8]
) -> list[bool]:
    """Leave out the gaps whose border is a squared page's line passing between digits.

    A box's side ends a little above and below the digits in the box; the upright lines of
    squared paper (found as borders when they are as dark as the ink, pencil on a grey grid)
    run on far past the string, and cross it wherever the digits happen to fall: in a gap no
    wider than the string's others. A gap wider than that, or a line that ends near the
    string, still cuts it.
    """
    height = full_size_height(line, 0.6)
    boxes = [c.bbox for c in line]
    spacing = float(np.median([b.x - a.x2 for a, b in itertools.pairwise(boxes)]))
    top, bottom = min(b.y for b in boxes), max(b.y2 for b in boxes)
    reach = round(_GRID_REACH * height)
    kept = []
    for (a, b), border in zip(itertools.pairwise(boxes), gaps, strict=True):
        if border and b.x - a.x2 <= max(_GRID_GAP * spacing, 0.0) + 2:
            columns = borders[:, a.x2 : b.x] > 0
            above = columns[max(0, top - reach) : top].any(axis=1)
            below = columns[bottom : bottom + reach].any(axis=1)
            if (
                min(above.size, below.size) == reach
                and min(above.mean(), below.mean()) > _GRID_SHARE
            ):
                border = False
        kept.append(border)
    return kept


#: A grid line runs on at least this many digit heights above and below the string ...
_GRID_REACH = 1.0
#: ... through at least this share of those rows ...
_GRID_SHARE = 0.6
#: ... in a gap at most this many times the string's median gap (+2 px) wide.
_GRID_GAP = 1.5


#: A string with borders in at least this fraction of its gaps is a row of comb boxes.
_COMB_GAP_FRAC = 0.6


def _is_comb(
    line: list[Candidate],
    borders: NDArray[np.uint8],
    config: ScanConfig,
    binary: NDArray[np.uint8] | None = None,
) -> bool:
    """Do borders stand in most gaps between a string's digit-sized blobs (a row of boxes)?

    Blobs much shorter than the string (punctuation, a sliver of a box side) are left out:
    they sit beside a border, not across one, and would hide it. Given the ``binary`` page,
    a gap crossed by a dashed upright line (:func:`_dashes_between`) has a border too: a
    faint drop-out print binarises as dots the line finder does not bridge, on one side of
    a row and not the other, and the row was cut where its sides were found.
    """
    median_h = float(np.median([c.bbox.h for c in line]))
    # A suspect hairline (a thin 4, or a box's side) is in ``borders`` already, not a digit.
    big = [c for c in line if c.bbox.h >= config.small_frac * median_h and c.suspect is None]
    gaps = [_apart(a.bbox, b.bbox, borders, binary) for a, b in zip(big, big[1:], strict=False)]
    return any(gaps) and sum(gaps) >= _COMB_GAP_FRAC * len(gaps)


def box_pitch(
    line: list[Candidate],
    borders: NDArray[np.uint8],
    config: ScanConfig,
    binary: NDArray[np.uint8] | None = None,
) -> float | None:
    """The spacing of a comb row's boxes, or None if the string is not a row of boxes.

    A box holds one digit, so two blobs sharing one are pieces of a digit and one blob in
    one box is not two touching digits. Measured between the middles of the gaps a box's
    side stands in, or between the blobs' centres if that is less: a side the line finder
    missed doubles a step between sides, a digit broken in two halves a step between blobs.
    """
    if len(line) < 3 or not _is_comb(line, borders, config, binary):
        return None
    sides = [
        (a.bbox.x2 + b.bbox.x) / 2
        for a, b in itertools.pairwise(line)
        if _apart(a.bbox, b.bbox, borders, binary)
    ]
    if len(sides) < 2:
        return None
    centres = [c.bbox.x + c.bbox.w / 2 for c in line]
    return float(min(np.median(np.diff(sides)), np.median(np.diff(centres))))


def fits_one_box(cand: Candidate, pitch: float | None) -> bool:
    """Whether a blob of a comb row (boxes ``pitch`` apart) fits in one box: one digit."""
    return pitch is not None and cand.bbox.w <= _ONE_BOX_WIDTH * pitch


#: A blob (or two) no wider than this fraction of a comb row's pitch lies in one box.
_ONE_BOX_WIDTH = 0.9


def _apart(a: BBox, b: BBox, borders: NDArray[np.uint8], binary: NDArray[np.uint8] | None) -> bool:
    """Whether a box's side (found as a line, or dashed in ``binary``) stands between two."""
    return _border_between(a, b, borders) or (binary is not None and _dashes_between(a, b, binary))


def _dashes_between(a: BBox, b: BBox, binary: NDArray[np.uint8]) -> bool:
    """Is there ink down most rows of a narrow band clear between two boxes (a dashed side)?

    A gap holds no ink of the string's own blobs; what stands in it down most of their
    height within a few columns is a printed upright line, whole or in dashes.
    """
    left, right = a.x2 + 1, b.x - 1
    top, bottom = min(a.y, b.y), max(a.y2, b.y2)
    if right - left < _DASH_BAND_PX or bottom <= top:
        return False
    rows = binary[top:bottom, left:right] > 0
    # Rows with ink in each band of columns (a side leaning by a pixel or two stays in one).
    cumulative = np.concatenate([np.zeros((rows.shape[0], 1), int), np.cumsum(rows, axis=1)], 1)
    bands = (cumulative[:, _DASH_BAND_PX:] - cumulative[:, :-_DASH_BAND_PX]) > 0
    return int(bands.sum(axis=0).max()) >= _DASH_ROWS_FRAC * min(a.h, b.h)


#: A dashed side lies within this many columns ...
_DASH_BAND_PX = 4
#: ... and has ink in at least this fraction of the rows the two blobs span.
_DASH_ROWS_FRAC = 0.5


def drop_box_sides(
    line: list[Candidate], borders: NDArray[np.uint8], config: ScanConfig
) -> tuple[list[Candidate], list[Candidate]]:
    """A comb row without the sides of boxes that the line removal missed.

    A box is taller than the digit in it: in a row of boxes, a thin blob reaching above
    *and* below the row's digits is a side of a box, not a 1. So is a thin blob crowded
    against a digit, far closer to it than the boxes' pitch: each digit has a box of its
    own. Other strings are returned as they are.

    Returns:
        ``(digits, rejected)``.
    """
    if len(line) < 3 or not _is_comb(line, borders, config):
        return line, []
    top = float(np.median([c.bbox.y for c in line]))
    bottom = float(np.median([c.bbox.y2 for c in line]))
    margin = _BOX_SIDE_MARGIN * (bottom - top)
    centres = [c.bbox.x + c.bbox.w / 2 for c in line]
    # Most gaps are between digits in neighbouring boxes (leaving out the thin blobs would
    # leave out thin 1s too, and double the pitch).
    pitch = float(np.median(np.diff(centres)))
    kept, sides = [], []
    for i, cand in enumerate(line):
        box = cand.bbox
        thin = box.w < 0.25 * box.h
        nearest = min(abs(centres[i] - centres[j]) for j in (i - 1, i + 1) if 0 <= j < len(line))
        crowded = nearest < _BOX_SIDE_CROWDED * pitch
        if thin and ((box.y < top - margin and box.y2 > bottom + margin) or crowded):
            sides.append(replace(cand, rejected="a side of a box"))
        else:
            kept.append(cand)
    return kept, sides


#: How far (fraction of the digits' height) a box side reaches past a comb row's digits.
_BOX_SIDE_MARGIN = 0.07
#: A thin blob nearer a neighbour than this fraction of a comb row's pitch is a box's side.
_BOX_SIDE_CROWDED = 0.6


def _border_between(a: BBox, b: BBox, borders: NDArray[np.uint8]) -> bool:
    """Is there a vertical line, at least half their common height, clear between two boxes?

    A line that touches either box (a digit written over a box's side) does not count.
    """
    left, right = min(a.x2, b.x), max(a.x2, b.x)
    top, bottom = min(a.y, b.y), max(a.y2, b.y2)
    if right - left < 3 or bottom <= top:
        return False
    region = borders[top:bottom, left + 1 : right - 1]
    # Rows crossed, not the longest column: a side leaning by perspective crosses them all.
    return bool(region.size) and int((region > 0).any(axis=1).sum()) >= 0.5 * min(a.h, b.h)


def _border_clearance(a: BBox, b: BBox, borders: NDArray[np.uint8]) -> int:
    """Pixels between the longest vertical line in the gap from ``a`` to ``b`` and ``b``."""
    top, bottom = min(a.y, b.y), max(a.y2, b.y2)
    counts = (borders[top:bottom, a.x2 : b.x] > 0).sum(axis=0)
    return int(counts.size - 1 - counts.argmax()) if counts.size else 0


def drop_punctuation(
    line: list[Candidate], config: ScanConfig, whole_h: float = 0.0
) -> tuple[list[Candidate], list[Candidate]]:
    """Split a string's candidates into digits and punctuation (decimal points, commas, dashes).

    Punctuation is much shorter than the string's median digit height. A string of one or
    two blobs has no telling median: there the median height of the whole line it was cut
    from (``whole_h``, before splitting at box borders) counts if larger.

    Returns:
        ``(digits, rejected)``, the rejected ones with their reason set.
    """
    if len(line) < 2:
        return line, []
    median_h = float(np.median([c.bbox.h for c in line]))
    if len(line) < 3:
        median_h = max(median_h, whole_h)
    digits, rejected = [], []
    for cand in line:
        if cand.bbox.h < config.small_frac * median_h:
            rejected.append(replace(cand, rejected="punctuation: much smaller than its string"))
        else:
            digits.append(cand)
    return digits, rejected


def split_points(mask: NDArray[np.uint8], parts: int) -> list[int]:
    """Columns where a blob of ``parts`` touching digits is best cut.

    Near each of the evenly spaced cut positions, the column with the least ink (ties: the
    one nearest the even position) is chosen.

    Returns:
        ``parts - 1`` increasing column indices, each strictly inside the mask.
    """
    h, w = mask.shape
    ink = (mask > 0).sum(axis=0).astype(np.float64)
    cuts = []
    for k in range(1, parts):
        centre = w * k / parts
        lo = max(1, round(centre - 0.3 * w / parts))
        hi = min(w - 1, round(centre + 0.3 * w / parts))
        if hi <= lo:
            cuts.append(int(np.clip(round(centre), 1, w - 1)))
            continue
        window = ink[lo:hi] + np.abs(np.arange(lo, hi) - centre) * (0.02 * h / max(1, w))
        cuts.append(lo + int(np.argmin(window)))
    return sorted(set(cuts))


def cut(cand: Candidate, columns: list[int]) -> list[Candidate]:
    """Cut a candidate at the given columns; each piece is trimmed to its ink."""
    edges = [0, *columns, cand.bbox.w]
    pieces = (column_piece(cand, a, b) for a, b in zip(edges, edges[1:], strict=False))
    return [piece for piece in pieces if piece is not None]


def column_piece(
    cand: Candidate, left: int, right: int, columns: NDArray[np.int64] | None = None
) -> Candidate | None:
    """The candidate's columns ``left:right`` trimmed to their ink (None if they have none).

    With ``columns`` (each pixel's column: :func:`sheared_columns`), the columns are those of
    the blob sheared upright: a cut between slanted digits runs along their slant.
    """
    if columns is None:
        part, x0 = cand.mask[:, left:right], left
    else:
        part, x0 = np.where((columns >= left) & (columns < right), cand.mask, np.uint8(0)), 0
    rows = np.nonzero(part.any(axis=1))[0]
    cols = np.nonzero(part.any(axis=0))[0]
    if rows.size == 0:
        return None
    sub = part[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    box = BBox(cand.bbox.x + x0 + int(cols[0]), cand.bbox.y + int(rows[0]), *sub.shape[::-1])
    return Candidate(box, np.ascontiguousarray(sub))


#: A blob of touching digits is tried cut upright and along slants (columns per row up) of
#: this step, up to this many steps either way.
_SLANT_STEP = 0.2
_SLANT_STEPS = 3


def cut_slant(mask: NDArray[np.uint8], parts: list[int]) -> float:
    """The slant whose best cuts of the blob into each of ``parts`` cross the least ink.

    A cut between touching digits runs along the writing's slant: upright, it gives the top
    of a leaning 1 to the 0 beside it. Ties go to the least slant (leaning right first).
    """
    costs: dict[float, int] = {}
    for step in sorted(range(-_SLANT_STEPS, _SLANT_STEPS + 1), key=lambda k: (abs(k), -k)):
        lean = step * _SLANT_STEP
        sheared = sheared_mask(mask, sheared_columns(mask, lean)) if step else mask
        ink = (sheared > 0).sum(axis=0)
        costs[lean] = sum(int(ink[c]) for n in parts for c in split_points(sheared, n))
    return min(costs, key=costs.__getitem__)


def sheared_columns(mask: NDArray[np.uint8], slant: float) -> NDArray[np.int64]:
    """Each pixel's column once the blob is sheared upright by ``slant``, its ink from 0."""
    h, w = mask.shape
    shift = np.round(slant * (np.arange(h)[:, None] - (h - 1))).astype(np.int64)
    columns = np.arange(w)[None, :] + shift
    ink = mask > 0
    return columns - int(columns[ink].min()) if ink.any() else columns - int(shift.min())


def sheared_mask(mask: NDArray[np.uint8], columns: NDArray[np.int64]) -> NDArray[np.uint8]:
    """The blob's ink moved to its ``columns`` (:func:`sheared_columns`)."""
    ink = mask > 0
    out = np.zeros((mask.shape[0], int(columns[ink].max(initial=0)) + 1), np.uint8)
    out[np.nonzero(ink)[0], columns[ink]] = 255
    return out


def trim_bars(cand: Candidate) -> Candidate | None:
    """The blob without a thin bar running far out of its sides, or None if it has none.

    A 5 whose top bar is drawn long, or a digit with a dash or an underline joined to it, is
    too wide for one digit; cut where the body's columns end (columns holding more ink than
    ``_BAR_MAX_INK`` of the blob's height), leaving ``_BAR_KEEP`` of its height of the bar on
    each side, it is the digit alone.
    """
    h, w = cand.mask.shape
    tall = np.nonzero((cand.mask > 0).sum(axis=0) > _BAR_MAX_INK * h)[0]
    if not tall.size:
        return None
    reach = round(_BAR_KEEP * h)
    left, right = max(0, int(tall[0]) - reach), min(w, int(tall[-1]) + 1 + reach)
    if right - left == w:
        return None
    return column_piece(cand, left, right)


#: See :func:`trim_bars`.
_BAR_MAX_INK = 0.25
_BAR_KEEP = 0.15


def strip_underline(cand: Candidate, config: ScanConfig) -> list[Candidate] | None:
    """The blob's parts once a line drawn under it is taken out, left to right.

    A number underlined in one stroke is one blob with its line: neither one digit nor cut
    well into digits (every column holds the line's ink). The line is the ink in straight
    runs at least ``_UNDERLINE_RUN`` of the blob's width long, level or tilted by up to
    ``_UNDERLINE_TILT`` degrees (:func:`_straight_runs`), that starts in the blob's lower
    half, together spans ``_UNDERLINE_SPAN`` of its width and reaches out past the ink above
    it on one side at least (a bowl's foot does not), followed (a curve fitted to it) from
    side to side of the blob. The parts are what is left, as
    blobs with the ink (``config.min_ink_px``) and shape (``config.max_aspect``) a digit can
    have.

    Returns:
        The parts, or None if the blob has no such line or nothing is left above it.
    """
    mask = (cand.mask > 0).astype(np.uint8)
    h, w = mask.shape
    runs = _straight_runs(mask, max(3, round(_UNDERLINE_RUN * w)))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(runs, connectivity=8)
    low = [i for i in range(1, n) if stats[i, cv2.CC_STAT_TOP] >= h / 2]
    if not low:
        return None
    bar = np.isin(labels, low)
    cols = np.nonzero(bar.any(axis=0))[0]
    if cols[-1] - cols[0] + 1 < _UNDERLINE_SPAN * w:
        return None
    ys, xs = np.nonzero(bar)
    degree = min(2, len(cols) - 1)  # a curve: an underline is drawn in a sweep
    centre = np.polynomial.Polynomial.fit(xs, ys, degree)(np.arange(w))  # its middle, by column
    half = len(xs) / (cols[-1] - cols[0] + 1)  # its thickness: its ragged edge goes too
    rest = np.where(np.abs(np.arange(h)[:, None] - centre[None, :]) <= half, 0, mask)
    above = np.nonzero(rest.any(axis=0))[0]
    if not above.size or (cols[0] > above[0] - half and cols[-1] < above[-1] + half):
        return None  # the line stays within the ink above it: a bowl's foot (0, 6, 8), not a line
    x0, y0 = cand.bbox.x, cand.bbox.y
    parts = [  # in the page's pixels; specks and dashes left out
        replace(part, bbox=BBox(x0 + part.bbox.x, y0 + part.bbox.y, part.bbox.w, part.bbox.h))
        for part in find_candidates(rest * np.uint8(255), config)
        if part.rejected is None and part.bbox.w <= config.max_aspect * part.bbox.h
    ]
    return sorted(parts, key=lambda part: part.bbox.x) or None


def _straight_runs(mask: NDArray[np.uint8], length: int) -> NDArray[np.uint8]:
    """The ink in straight runs ``length`` long, level or tilted by up to ``_UNDERLINE_TILT``.

    The union of openings by a one-pixel line at seven angles: a thin line drawn by hand
    with a slight tilt or sweep holds no level run as long as it, but a tilted one.
    """
    out = np.zeros_like(mask)
    for degrees in np.linspace(-_UNDERLINE_TILT, _UNDERLINE_TILT, 7):
        rise = length * np.tan(np.deg2rad(degrees))
        kernel = np.zeros((abs(round(rise)) + 1, length), np.uint8)
        top = 0 if rise >= 0 else kernel.shape[0] - 1
        cv2.line(kernel, (0, top), (length - 1, kernel.shape[0] - 1 - top), 1, 1)
        out |= cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel)
    return out


#: See :func:`strip_underline`.
_UNDERLINE_TILT = 15.0
_UNDERLINE_RUN = 0.4
_UNDERLINE_SPAN = 0.6
