"""Page normalisation: working resolution, flat illumination, adaptive threshold, line removal.

Every function is pure (returns new arrays) and states its input and output layout. Grey
images are uint8 ``(H, W)`` with dark ink on light paper; binary images are uint8 ``(H, W)``
with ink = 255.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from digitscan.config import ScanConfig

Gray = NDArray[np.uint8]

#: Vertical lines must be this many times longer than horizontal ones: a written 1 is a long
#: straight vertical stroke, while horizontal strokes (a 7's bar) are short.
_VERTICAL_LENGTH_FACTOR = 2.5
#: An upright line up to twice the thickness limit counts if it spans this share of the
#: page's height: no handwritten 1 is that tall and that thin.
_THICK_LINE_SPAN = 0.5
#: A level line up to twice the thickness limit counts if it spans this share of the page's
#: width (a form photographed close up, a cheque's amount box blurred: their lines are thick
#: in pixels). At a quarter, amount boxes a little shorter were ink, and swallowed the digit
#: touching their side (6 more of 4,372 rendered photos read right at a fifth, 1 fewer).
_THICK_LINE_SPAN_ACROSS = 0.2
#: Such a line's mean thickness, measured on the ink grown by 2 px across it, is at least the
#: thickness limit plus this: a box's line photographed close up is about as thick as the
#: limit, thicker in stretches; a thin ruled line with a pen stroke along part of it is far
#: thinner on average.
_THICK_LINE_MIN_EXTRA = 0.5
#: Illumination is estimated at 1/4 resolution: shadows vary slowly, and it is 16x cheaper.
_BACKGROUND_SHRINK = 4


def resize_by(image: NDArray[np.uint8], scale: float) -> NDArray[np.uint8]:
    """The image at ``1 / scale`` its size (``scale`` original pixels per new pixel)."""
    if scale == 1.0:
        return image
    h, w = image.shape[:2]
    size = (max(1, round(w / scale)), max(1, round(h / scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA if scale > 1 else cv2.INTER_CUBIC)


def resize_to_working(
    image: NDArray[np.uint8], max_side_px: int, min_side_px: int = 0
) -> tuple[NDArray[np.uint8], float]:
    """Scale an image so its longest side is between ``min_side_px`` and ``max_side_px``.

    Returns:
        The scaled image and the scale, original pixels per working pixel (> 1 when shrunk,
        < 1 when enlarged, 1 when unchanged).
    """
    scale = _size_scale(max(image.shape[:2]), max_side_px, min_side_px)
    return resize_by(image, scale), scale


def _size_scale(longest: int, max_side_px: int, min_side_px: int) -> float:
    """Original pixels per working pixel that bring ``longest`` between the two sizes."""
    if longest > max_side_px:
        return longest / max_side_px
    if longest < min_side_px:
        return longest / min_side_px
    return 1.0


def estimate_text_height(image: NDArray[np.uint8]) -> float | None:
    """The height in pixels of the image's handwriting, measured on its ink blobs.

    Ink is what is darker than its surroundings by more than the image's typical contrast
    (Otsu's level of a black-hat; at most ``_TEXT_HEIGHT_SIDE_PX`` on the longest side),
    and of its blobs those shaped like characters are kept: not lines (too long one way), not
    solid or sparse (ink share of their box), not filling the image, not on its edge (unless
    every blob is: a crop cut tight round its digits). Their height is
    the median weighted by ink, so that a digit string outweighs a line of small print and a
    field's few digits the specks round them.

    Args:
        image: BGR uint8 ``(H, W, 3)`` or grey ``(H, W)``.

    Returns:
        The height in the image's pixels, or None if there is no character-like ink.
    """
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    factor = min(1.0, _TEXT_HEIGHT_SIDE_PX / max(gray.shape))
    if factor < 1:
        gray = cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    # Dark strokes narrower than an eighth of the image (a black-hat): a dark desk beside a
    # bright note or a shadow is wider, and is not ink here.
    size = max(15, (min(gray.shape) // 8) | 1)
    strokes = cv2.morphologyEx(
        gray, cv2.MORPH_BLACKHAT, cv2.getStructuringElement(cv2.MORPH_RECT, (size, size))
    )
    level, _ = cv2.threshold(strokes, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    ink = np.where(strokes > max(level, _TEXT_INK_CONTRAST), np.uint8(255), np.uint8(0))
    _, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    x, y, w, h, area = stats[1:].T.astype(np.float64)
    rows, cols = gray.shape
    shaped = (
        (h >= _TEXT_MIN_HEIGHT_PX)
        & (h <= _TEXT_MAX_SHARE * rows)
        & (w <= _TEXT_MAX_SHARE * cols)
        & (w <= _TEXT_MAX_ELONGATION * h)
        & (h <= _TEXT_MAX_ELONGATION * w)
        & (area >= _TEXT_INK_SHARE[0] * w * h)
        & (area <= _TEXT_INK_SHARE[1] * w * h)
    )
    # A blob on the image's edge is no character to measure: cut by the edge, or a strip of
    # dark desk beside the page (the black-hat takes one narrower than its size for a stroke;
    # weighted by its ink, it set the "text height" of small page photos to 4-8 digits').
    inside = (x > 0) & (y > 0) & (x + w < cols) & (y + h < rows)
    if (shaped & inside).any():
        shaped &= inside
    if not shaped.any():
        return None
    heights, weights = h[shaped], area[shaped]
    order = np.argsort(heights)
    cumulative = np.cumsum(weights[order])
    median = heights[order][np.searchsorted(cumulative, cumulative[-1] / 2)]
    return float(median / factor)


#: The text height is measured on the image shrunk to at most this longest side (speed).
_TEXT_HEIGHT_SIDE_PX = 600
#: Grey levels a pixel must lie under its surroundings to count as ink, at least.
_TEXT_INK_CONTRAST = 12
#: Character-like blobs: at least this tall (noise), at most this share of the image ...
_TEXT_MIN_HEIGHT_PX = 6
_TEXT_MAX_SHARE = 0.8
#: ... no more than this many times longer one way than the other (a line) ...
_TEXT_MAX_ELONGATION = 6
#: ... and their ink covering this range of their box (not solid, not a sparse frame).
_TEXT_INK_SHARE = (0.08, 0.85)


def working_scale(image: NDArray[np.uint8], config: ScanConfig) -> tuple[float, int]:
    """The working resolution of an image, and the page size its stages are fractions of.

    Large images shrink to ``config.max_side_px``. A small image is enlarged towards
    ``config.min_side_px``, but only until its text is ``config.text_height_px`` tall
    (:func:`estimate_text_height`): a tight crop of a field enlarged to a page's size turns a
    scanner's grain and a cheque's guilloche into strokes. Such an image is smaller than a
    page holding text of that height (``config.page_text_ratio`` times it), and the page
    stages' sizes (background, threshold, the tallest digit) are fractions of that page.

    Returns:
        ``(scale, reference_px)``: original pixels per working pixel (> 1 shrinks), and the
        longest side of the page the stages measure by, in working pixels.
    """
    longest = max(image.shape[:2])
    min_side = min(config.min_side_px, config.max_side_px)
    scale = _size_scale(longest, config.max_side_px, min_side)
    if scale >= 1.0:  # shrunk to max_side_px, or kept
        return scale, round(longest / scale)
    height = estimate_text_height(image) if config.text_height_px else None
    if height is None:
        return scale, min_side
    scale = max(scale, min(1.0, height / config.text_height_px))
    reference = max(longest / scale, config.page_text_ratio * height / scale)
    return scale, round(reference)


def to_gray(image: NDArray[np.uint8]) -> Gray:
    """BGR uint8 ``(H, W, 3)`` to grey uint8 ``(H, W)``.

    Uses the darkest channel blended with luminance: blue and black inks both come out dark,
    while pale coloured paper (yellow notes, tinted cheques) stays light.
    """
    luminance = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    blue, green, red = cv2.split(image)
    darkest = cv2.min(cv2.min(blue, green), red)  # 10x faster than image.min(axis=2)
    return cv2.addWeighted(luminance, 0.5, darkest, 0.5, 0)


def estimate_background(
    gray: Gray, kernel_px: int, paper_min_brightness_frac: float = 0.4
) -> tuple[Gray, Gray]:
    """The paper's brightness at every pixel, and where the paper is.

    The brightness is a smoothed closing wider than any stroke: a closing (max filter, then
    min filter) removes dark features narrower than the kernel, i.e. the ink, and unlike a
    plain max filter it follows a shadow's gradient exactly. Computed at 1/4 resolution
    (shadows vary slowly) and scaled back up.

    The paper mask leaves out regions far darker than the brightest paper (the desk or frame
    around a page): dividing by a dark background multiplies its noise into false ink. Paper
    a shadow darkened as much is kept if it joins the bright paper smoothly (see
    :func:`_grow_into_shadows`). The mask is pulled in from the paper's edge by a few pixels,
    where the edge itself would show as ink.

    Args:
        gray: uint8 ``(H, W)``, dark ink on light paper.
        kernel_px: Closing size at full resolution; larger than the thickest stroke.
        paper_min_brightness_frac: Darker than this fraction of the brightest paper is not
            paper.

    Returns:
        ``(background, paper)``: uint8 ``(H, W)`` brightness, and uint8 {0, 255} paper mask.
    """
    h, w = gray.shape
    small = cv2.resize(
        gray,
        (max(1, w // _BACKGROUND_SHRINK), max(1, h // _BACKGROUND_SHRINK)),
        interpolation=cv2.INTER_AREA,
    )
    k = max(3, kernel_px // _BACKGROUND_SHRINK) | 1
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    closed = cv2.morphologyEx(small, cv2.MORPH_CLOSE, kernel)
    # Light smoothing only: a closing already follows a paper edge exactly, and a wide blur
    # would spread the bright paper over the dark desk beside it and outline the edge as ink.
    smooth = cv2.GaussianBlur(closed, (0, 0), 1.0)
    bright = float(np.percentile(closed, 95))
    paper = np.where(closed >= paper_min_brightness_frac * bright, np.uint8(255), np.uint8(0))
    paper = _grow_into_shadows(closed, paper, bright)
    if not paper.all():
        paper = cv2.erode(paper, np.ones((3, 3), np.uint8))
    return (
        cv2.resize(smooth, (w, h), interpolation=cv2.INTER_LINEAR),
        cv2.resize(paper, (w, h), interpolation=cv2.INTER_NEAREST),
    )


def _grow_into_shadows(closed: Gray, paper: Gray, bright: float) -> Gray:
    """Add the paper a shadow darkened below the paper limit: what joins it without a step.

    A flood fill in floating range (each pixel within :data:`_SHADOW_STEP` grey levels of a
    filled neighbour) follows a shadow's smooth gradient and stops at the sharp step of the
    paper's edge; it never enters what is darker than :data:`_SHADOW_FLOOR` of the brightest
    paper. The fills start just outside each large piece of paper, wherever a pixel joins it
    without a step (not from one point inside it: a glint or a lit page edge leaves a bright
    speck a step above the paper round it, from which a fill goes nowhere). A region filled
    is kept if it joins the paper smoothly along most of the border they share
    (:data:`_SHADOW_SMOOTH_BORDER`), as a shadow does; the desk round a page meets it in a
    sharp step and joins it only here and there.
    """
    if paper.all():
        return paper
    count, labels, stats, _ = cv2.connectedComponentsWithStats(paper, connectivity=4)
    large = np.zeros(count, bool)
    large[1:] = stats[1:, cv2.CC_STAT_AREA] >= _SHADOW_MIN_PAPER * paper.size
    source = large[labels]
    level = closed.astype(np.int16)
    contact = np.zeros(paper.shape, bool)  # beside a large piece of paper
    smooth = np.zeros(paper.shape, bool)  # ... and no step away from it
    for axis in (0, 1):
        for shift in (1, -1):
            beside = np.roll(source, shift, axis)
            edge = [slice(None)] * 2
            edge[axis] = slice(0, 1) if shift == 1 else slice(-1, None)
            beside[tuple(edge)] = False  # np.roll wraps round: nothing is beside from beyond
            contact |= beside
            smooth |= beside & (np.abs(level - np.roll(level, shift, axis)) <= _SHADOW_STEP)
    filled = np.zeros((paper.shape[0] + 2, paper.shape[1] + 2), np.uint8)
    region = filled[1:-1, 1:-1]
    region[(closed < _SHADOW_FLOOR * bright) | (paper > 0)] = 1  # barriers to the fill
    step = (_SHADOW_STEP,) * 3
    regions = 1
    for y, x in zip(*np.nonzero(smooth & (region == 0)), strict=True):
        if region[y, x] == 0 and regions < 255:
            regions += 1  # each fill marks its region with its own number, from 2
            flags = 4 | cv2.FLOODFILL_MASK_ONLY | (regions << 8)
            cv2.floodFill(closed, filled, (int(x), int(y)), 0, step, step, flags)
    smooth_px = np.bincount(region[smooth], minlength=256)
    contact_px = np.bincount(region[contact], minlength=256)
    keep = smooth_px >= _SHADOW_SMOOTH_BORDER * np.maximum(contact_px, 1)
    keep[:2] = False
    return np.where(keep[region], np.uint8(255), paper)


#: Neighbouring grey levels (at 1/4 resolution, after the closing) a shadow changes by at most.
_SHADOW_STEP = 2
#: Shadowed paper is still brighter than this fraction of the brightest paper.
_SHADOW_FLOOR = 0.3
#: Pieces of paper smaller than this fraction of the image are not grown.
_SHADOW_MIN_PAPER = 0.01
#: A shadow joins the paper without a step along at least this share of their border.
_SHADOW_SMOOTH_BORDER = 0.75


def flatten_illumination(gray: Gray, background: Gray) -> Gray:
    """Divide out the paper's brightness so shadows and uneven light disappear.

    Args:
        gray: uint8 ``(H, W)``, dark ink on light paper.
        background: uint8 ``(H, W)`` from :func:`estimate_background`.

    Returns:
        uint8 ``(H, W)``: paper near 255 everywhere, ink dark.
    """
    return cv2.divide(gray, np.maximum(background, 1), scale=255)


def stroke_width(mask: NDArray[np.uint8]) -> float:
    """Mean pen width of a binary blob in pixels: its area over half its perimeter."""
    area = float(np.count_nonzero(mask))
    if area == 0:
        return 0.0
    return 2 * area / max(outline_length(mask), 1.0)


def outline_length(mask: NDArray[np.uint8]) -> float:
    """The length of a blob's outline (and its holes') in pixels."""
    contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    return float(sum(cv2.arcLength(c, True) for c in contours))


#: Skews measured up to this many degrees from level (a phone held askew, a sticky note
#: turned on the desk); horizontal and upright lines stay this far apart, so neither passes
#: for the other.
MAX_SKEW_DEG = 30.0
#: Straight runs of thick digit strokes hold short chords at any angle: segments found on
#: runs count only this near level (runs of lines turned further do not exist anyway).
_RUNS_MAX_SKEW_DEG = 20.0


def estimate_skew_deg(binary: Gray, min_length_px: int, max_thickness_px: int = 6) -> float | None:
    """The page's rotation in degrees, from its long straight lines (ruling, boxes, edges).

    Returns the length-weighted median angle of Hough segments near horizontal (or, if
    there are none, upright); None when the page has no long lines (digits alone are
    handled by the classifier's rotation tolerance).

    Hough costs pixels x angles, so it runs at half resolution on the pixels of straight
    horizontal and upright runs (lines, not the curves of digits). A page turned more than
    about 10 degrees has no such runs; then it runs on whole blobs at least
    ``min_length_px`` across whose mean pen width is that of a line (up to
    ``max_thickness_px``) or that are long and narrow (page edges): not on big felt-pen
    digits, which hold long straight chords at any angle. Only level segments count there:
    a felt-pen 1 is as long and narrow as an edge, and upright.
    """
    length = max(10, min_length_px // 2)
    runs = cv2.bitwise_or(
        cv2.morphologyEx(binary, cv2.MORPH_OPEN, np.ones((1, 15), np.uint8)),
        cv2.morphologyEx(binary, cv2.MORPH_OPEN, np.ones((15, 1), np.uint8)),
    )
    angle = _segments_angle(_half(runs), length, _RUNS_MAX_SKEW_DEG, (0.0, 90.0))
    if angle is None:
        blobs = _line_blobs(_half(binary), length, max_thickness_px)
        angle = _segments_angle(blobs, length, MAX_SKEW_DEG, (0.0,))
    return angle


def _half(binary: Gray) -> Gray:
    """Half resolution, thin strokes kept (a 2x2 maximum before taking every other pixel)."""
    return cv2.dilate(binary, np.ones((2, 2), np.uint8))[::2, ::2]


def _line_blobs(binary: Gray, length: int, max_thickness_px: int) -> Gray:
    """The blobs at least ``length`` across that are as thin as lines or long and narrow."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    keep = np.zeros(count, bool)
    for i in np.flatnonzero(np.hypot(stats[:, 2], stats[:, 3]) >= length)[1:]:
        x, y, w, h = stats[i, :4]
        blob = np.where(labels[y : y + h, x : x + w] == i, np.uint8(255), np.uint8(0))
        keep[i] = stroke_width(blob) <= (max_thickness_px + 2) / 2 or _is_elongated(blob)
    return np.where(keep[labels], np.uint8(255), np.uint8(0))


def _segments_angle(
    points: Gray, length: int, max_deg: float, centres: tuple[float, ...]
) -> float | None:
    """Length-weighted median angle of the Hough segments near level or upright.

    The first of ``centres`` (0: level, 90: upright) with segments within ``max_deg`` of it
    gives the angle; None if none has any.
    """
    if not points.any():
        return None
    segments = cv2.HoughLinesP(
        points,
        1,
        np.pi / 360,
        threshold=max(10, length // 2),
        minLineLength=length,
        maxLineGap=3,
    )
    if segments is None:
        return None
    x1, y1, x2, y2 = segments.reshape(-1, 4).T.astype(np.float64)  # (N, 1, 4) or (N, 4)
    angles = np.degrees(np.arctan2(y2 - y1, x2 - x1))
    angles = (angles + 90) % 180 - 90  # (-90, 90]
    lengths = np.hypot(x2 - x1, y2 - y1)
    for centre in centres:
        offset = (angles - centre + 90) % 180 - 90
        near = np.abs(offset) < max_deg
        if near.any():
            order = np.argsort(offset[near])
            cumulative = np.cumsum(lengths[near][order])
            return float(offset[near][order][np.searchsorted(cumulative, cumulative[-1] / 2)])
    return None


#: A blob thicker than a line still counts if it is this many times longer than wide (its
#: minimum-area rectangle's sides): a page's or a sticky note's edge, a shadow's border.
_EDGE_ELONGATION = 4.0


def _is_elongated(blob: Gray) -> bool:
    """Whether a blob is ``_EDGE_ELONGATION`` times longer than wide, at any angle."""
    sides = sorted(cv2.minAreaRect(cv2.findNonZero(blob))[1])
    return sides[1] >= _EDGE_ELONGATION * max(sides[0], 1.0)


def paper_edges(paper: Gray) -> Gray:
    """The outline of the paper mask where it meets the desk (not the photo's border)."""
    edges = cv2.morphologyEx(paper, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    edges[:2], edges[-2:], edges[:, :2], edges[:, -2:] = 0, 0, 0, 0
    return edges


#: Below this skew the canvas keeps its size: the corners it cuts off are slivers where
#: digits are seldom written, and the later stages would work on ~20% more pixels at 5 degrees.
_GROW_MIN_DEG = 8.0


def level_transform(
    shape: tuple[int, ...], angle_deg: float
) -> tuple[NDArray[np.float64], tuple[int, int]]:
    """The map that levels an image skewed by ``angle_deg``, and the canvas that holds it.

    Returns:
        ``(matrix, (width, height))``: the 2x3 affine matrix of a rotation by ``-angle_deg``
        about the image's centre, shifted so all of the rotated image lies on the canvas
        (the image's own size below ``_GROW_MIN_DEG``).
    """
    h, w = shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle_deg, 1.0)
    if abs(angle_deg) < _GROW_MIN_DEG:
        return matrix, (w, h)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    # Grown on each side by a multiple of 4 pixels: the levelled pixels are those of a
    # rotation onto the same canvas, shifted by whole pixels, and the stages that take
    # every other pixel take the same ones (an odd shift changed readings by chance).
    grow_x = 4 * int(np.ceil((w * cos + h * sin - w) / 8))
    grow_y = 4 * int(np.ceil((w * sin + h * cos - h) / 8))
    size = (w + 2 * grow_x, h + 2 * grow_y)
    matrix[0, 2] += grow_x
    matrix[1, 2] += grow_y
    return matrix, size


def rotate(image: Gray, angle_deg: float, interpolation: int = cv2.INTER_NEAREST) -> Gray:
    """Rotate about the centre by ``-angle_deg`` (undoing a measured skew), corners kept.

    The canvas grows to hold the whole rotated image (:func:`level_transform`); the pixels
    it adds are 0.
    """
    matrix, size = level_transform(image.shape, angle_deg)
    return cv2.warpAffine(image, matrix, size, flags=interpolation, borderValue=0)


def binarize_adaptive(flat: Gray, block_px: int, offset: float, min_contrast: float) -> Gray:
    """Ink mask from a flattened page: darker than its neighbourhood *and* than the paper.

    Args:
        flat: uint8 ``(H, W)`` from :func:`flatten_illumination`.
        block_px: Neighbourhood size of the adaptive threshold (made odd, at least 3).
        offset: Grey levels below the neighbourhood mean a pixel must be.
        min_contrast: Grey levels below the paper (255) a pixel must be; without it the
            adaptive threshold turns paper texture and noise into speckle.

    Returns:
        uint8 ``(H, W)`` in {0, 255}, 255 = ink. Printed ruling and grids as dark as the
        threshold are ink here; :func:`find_lines` takes them out.
    """
    block = max(3, int(block_px) | 1)
    adaptive = cv2.adaptiveThreshold(
        flat, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, offset
    )
    dark = np.where(flat < 255 - min_contrast, np.uint8(255), np.uint8(0))
    return fill_dark_holes(cv2.bitwise_and(adaptive, dark), flat, dark, block)


def fill_dark_holes(ink: Gray, flat: Gray, dark: Gray, block_px: int) -> Gray:
    """Fill the holes in the ink that are as dark as ink: the inside of a wide stroke.

    A felt-pen stroke wider than the adaptive threshold's neighbourhood (a big digit on a
    sticky note) is no darker than its own surroundings inside, so only its outline comes
    out as ink. Such a hollow is long, narrow and of the ink's tone all over, while a loop
    of a 0, 6, 8 or 9 is paper, a small loop that blur darkened is round, and the sliver
    between two touching digits is thin.

    Args:
        ink: uint8 ``(H, W)`` ink mask, ink = 255.
        flat: uint8 ``(H, W)`` flattened page.
        dark: uint8 ``(H, W)``, 255 where the page is darker than paper.
        block_px: The adaptive threshold's neighbourhood: only strokes about as wide lose
            their inside, so thinner holes are left alone.

    Returns:
        The ink mask with those holes filled.
    """
    count, labels, stats, _ = cv2.connectedComponentsWithStats(cv2.bitwise_not(ink), connectivity=4)
    if count <= 2:
        return ink
    size = stats[:, cv2.CC_STAT_AREA]
    ink_tone = float(np.median(flat[ink > 0])) if ink.any() else 0.0
    inky = (flat <= ink_tone + _HOLE_TONE_MARGIN * (255 - ink_tone)) & (dark > 0)
    dark_px = np.bincount(labels[inky], minlength=count)
    longest = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
    # The inside of a stroke is long and narrow; a small loop filled dark by blur is round.
    # A felt pen's digit drawn as one wide blob (loops shut) is hollow all over: round too,
    # but several neighbourhoods across, far bigger than any loop blur could fill.
    narrow = (size < _HOLE_MAX_ROUNDNESS * longest.astype(np.float64) ** 2) | (
        longest >= _HOLE_BLOB_BLOCKS * block_px
    )
    wide_enough = size >= _HOLE_MIN_WIDTH * block_px * longest
    fill = (dark_px >= _HOLE_DARK_FRAC * np.maximum(size, 1)) & narrow & wide_enough
    border = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
    fill[0] = False  # label 0 is the ink itself
    fill[np.unique(border)] = False  # open background, not a hole
    paper_tone = ink_tone + _HOLE_PAPER_MARGIN * (255 - ink_tone)
    for label in np.nonzero(fill)[0]:
        # A stroke lies on paper: around its outline the page is light (a dark desk, seen
        # through gaps in its own texture, is not).
        x, y, w, h = stats[label, :4]
        m = max(3, min(w, h) // 2)
        window = np.s_[max(0, y - m) : y + h + m, max(0, x - m) : x + w + m]
        around = flat[window][(labels[window] != label) & (ink[window] == 0)]
        fill[label] = around.size > 0 and float(np.median(around)) > paper_tone
    if not fill.any():
        return ink
    return np.where(fill[labels], np.uint8(255), ink)


#: A hole in the ink this inky all over (fraction of its pixels) is the inside of a stroke,
#: if it is also narrow: its area under this fraction of its longest side squared.
_HOLE_DARK_FRAC, _HOLE_MAX_ROUNDNESS = 0.9, 0.45
#: A hole this many neighbourhoods long is the inside of a blob, whatever its shape.
_HOLE_BLOB_BLOCKS = 2.0
#: "Of the ink's tone": no lighter than the median ink by this fraction of the way to white.
_HOLE_TONE_MARGIN = 0.25
#: ... and at least this fraction of the threshold's neighbourhood wide (area / length).
_HOLE_MIN_WIDTH = 0.25
#: The page around a stroke is paper: lighter than the ink by this fraction of the way to white.
_HOLE_PAPER_MARGIN = 0.6


def fill_pinholes(ink: Gray, flat: Gray, block_px: int) -> Gray:
    """Fill the pinholes in wide strokes: holes as dark as the ink, deep inside it.

    A felt-pen stroke a little wider than the adaptive threshold's neighbourhood keeps
    specks of "paper" inside, as dark as the ink on average. Thinning the stroke to MNIST's
    pen width (:func:`digitscan.pipeline.digit_image`) would open them into a loop, and a
    1 would read as 0 or 8. A real loop, however small a felt pen squeezed it, is lighter;
    a thin pen's loop, blurred dark, lies near the paper outside the stroke.

    :func:`fill_dark_holes` fills the long hollows of strokes wider than the neighbourhood
    while thresholding; this runs on the levelled mask, after the skew is measured (filled
    there, these specks moved the skew estimate on some pages), and judges each hole by
    the ink right round it, not the page's ink tone (ruling makes that lighter).

    Args:
        ink: uint8 ``(H, W)`` ink mask, ink = 255.
        flat: uint8 ``(H, W)`` flattened page.
        block_px: The adaptive threshold's neighbourhood.

    Returns:
        The ink mask with those holes filled.
    """
    # Holes are found as inner contours (cheap; labelling the background costs 10 ms a page)
    # and each small one is judged in a window around it.
    contours, hierarchy = cv2.findContours(ink, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return ink
    largest = (_PINHOLE_MAX_SIDE * block_px) ** 2
    deep = max(_PINHOLE_MIN_DEPTH_PX, _PINHOLE_DEPTH * block_px)
    pad = int(deep) + 3
    out = ink
    for contour, (_, _, _, parent) in zip(contours, hierarchy[0], strict=True):
        if parent < 0 or cv2.contourArea(contour) > largest:
            continue  # an outer outline, or a hole too big to be a pinhole
        x, y, w, h = cv2.boundingRect(contour)
        x0, y0 = max(0, x - pad), max(0, y - pad)
        window = np.s_[y0 : y + h + pad, x0 : x + w + pad]
        hole = np.zeros(ink[window].shape, np.uint8)
        cv2.drawContours(hole, [contour], -1, 255, -1, offset=(-x0, -y0))
        hole = (hole > 0) & (ink[window] == 0)
        if not hole.any():
            continue
        # Depth is the distance to the paper outside: other holes (specks of the same
        # streak) count as stroke.
        _, parts = cv2.connectedComponents(cv2.bitwise_not(ink[window]), connectivity=4)
        edge = np.concatenate([parts[0], parts[-1], parts[:, 0], parts[:, -1]])
        outside = np.isin(parts, edge[edge > 0])  # label 0 is the ink
        solid = np.where(outside, np.uint8(0), np.uint8(255))
        if cv2.distanceTransform(solid, cv2.DIST_L2, 3)[hole].min() < deep:
            continue  # near the paper outside the stroke: a thin pen's loop
        ring = (cv2.dilate(hole.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0) & ~hole
        ring_tone = float(flat[window][ring].mean())
        if flat[window][hole].mean() <= ring_tone + _PINHOLE_TONE_MARGIN * (255 - ring_tone):
            if out is ink:
                out = ink.copy()
            out[window][hole] = 255
    return out


#: A pinhole is at most this share of the threshold's neighbourhood across (its area at
#: most the square of that) ...
_PINHOLE_MAX_SIDE = 0.25
#: ... no part of it nearer the paper than this share of the neighbourhood ...
_PINHOLE_DEPTH, _PINHOLE_MIN_DEPTH_PX = 0.15, 3.0
#: ... and on average this close to the tone of the ink around it (a share of the way to white).
_PINHOLE_TONE_MARGIN = 0.1


def faint_lines(flat: Gray, paper: Gray, min_length_px: int, min_contrast: float) -> Gray:
    """Straight runs of faint darkness: printed lines the threshold broke into dashes.

    A light printed box (a form's comb, photographed pale) is only just darker than the
    ink limit, so the threshold keeps it in dashes and :func:`find_lines` finds too little
    of it: the left-over pieces were read as 1s and 7s, and box corners stayed on digits. Its
    darkness runs on unbroken, though: the pixels that stay at least ``_FAINT_LINE_LEVEL``
    of ``min_contrast`` darker than the paper along a level or upright run of half
    ``min_length_px`` (a grey-level opening) are its line.

    An upright run is traced by its ridge only (the pixels at least as dark as their left
    and right neighbours), so the ink it bridges, not the blur round it, gives the line's
    thickness: a scan enlarged to the working size (a register's column crop, 5x) spreads a
    faint ruling's darkness wider than :func:`find_lines` lets a line be, and its dashes were
    read as 1s. :func:`find_lines` tells an upright line from a pen stroke by its length;
    a level one by its thinness too (an underline or a 7's bar is as long), so a level
    run keeps its full width.

    Returns:
        uint8 ``(H, W)`` in {0, 255}: the runs, on the paper only.
    """
    dark = cv2.bitwise_and(cv2.bitwise_not(flat), paper)
    run = max(8, round(_FAINT_LINE_RUN * min_length_px))
    level = _FAINT_LINE_LEVEL * min_contrast
    runs = np.zeros_like(flat)
    for kernel in (np.ones((1, run), np.uint8), np.ones((run, 1), np.uint8)):
        opened = cv2.morphologyEx(dark, cv2.MORPH_OPEN, kernel)
        traced = opened >= level
        if kernel.shape[0] > 1:  # upright: the ridge across it
            traced &= opened >= cv2.dilate(opened, np.ones((1, 3), np.uint8))
        runs[traced] = 255
    return runs


def _with_faint_lines(
    lines: Gray,
    binary: Gray,
    flat: Gray,
    paper: Gray,
    line_length: int,
    config: ScanConfig,
    page_size: tuple[int, int],
) -> Gray:
    """Add the lines :func:`find_lines` finds once the faint lines' dashes are bridged.

    Only their light pixels (less than ``_FAINT_LINE_MAX`` times ``min_contrast`` below the
    paper) are taken: a pen stroke lying along a line is darker and stays ink.
    """
    runs = faint_lines(flat, paper, line_length, config.min_contrast)
    if not cv2.countNonZero(cv2.bitwise_and(runs, cv2.bitwise_not(binary))):
        return lines  # nothing faint to bridge: the lines found are all there is
    traced = cv2.bitwise_or(binary, runs)
    found = find_lines(traced, line_length, config.line_max_thickness_px, page_size)
    light = np.where(flat > 255 - _FAINT_LINE_MAX * config.min_contrast, np.uint8(255), np.uint8(0))
    return cv2.bitwise_or(lines, cv2.bitwise_and(cv2.bitwise_and(found, binary), light))


#: Measured on 2,737 rendered photos, when pages whose ruling was set apart as a lighter tone
#: of ink skipped this (that rule is gone: every page is traced now): 18 more read right
#: (pale forms' box pieces no longer read as digits or left on them), 3 fewer; a level of
#: 0.5 or 0.75, runs of 0.35, strokes up to 3x the contrast taken: the same or one fewer.
_FAINT_LINE_LEVEL = 0.6
_FAINT_LINE_RUN = 0.5
_FAINT_LINE_MAX = 2.0


def find_lines(
    binary: Gray,
    min_length_px: int,
    max_thickness_px: int,
    page_size: tuple[int, int] | None = None,
) -> Gray:
    """Mask of printed straight lines: ruling, grids, box borders.

    Lines are found as short straight runs (half of ``min_length_px``, on ink thickened by a
    pixel across the run, so a line slanted by perspective still opens) that belong to a long
    connected structure: a horizontal one spanning at least ``min_length_px`` (box borders,
    ruling), a vertical one spanning 2.5 times that (grids, margins; a written 1 is a long
    straight vertical stroke). Shorter vertical runs count when they join horizontal lines at
    both ends (the separators of comb boxes). Structures thicker than ``max_thickness_px``
    are pen strokes and are left alone, unless they span much of the page's ``page_size``
    (``(width, height)`` before levelling grew the canvas; default the mask's). Strokes a
    level line took with it are given back: written beside it with paper between
    (:func:`_drop_parallel_pieces`), digits' tops in a row (:func:`_drop_aligned_strokes`),
    on it or touching it (:func:`_drop_strokes_along`).

    Returns:
        uint8 ``(H, W)`` in {0, 255}, line pixels = 255.
    """
    width, height = page_size or (binary.shape[1], binary.shape[0])
    length = max(8, int(min_length_px))
    horizontal = _long_runs(
        binary,
        length,
        length,
        max_thickness_px,
        axis=0,
        thick_span=round(_THICK_LINE_SPAN_ACROSS * width),
    )
    vertical_long = _long_runs(
        binary,
        length,
        round(length * _VERTICAL_LENGTH_FACTOR),
        max_thickness_px,
        axis=1,
        thick_span=round(_THICK_LINE_SPAN * height),
    )
    horizontal = _drop_aligned_strokes(horizontal, binary, length, max_thickness_px)
    horizontal = _drop_strokes_along(horizontal, length)
    # Printed boxes are drawn with one pen: their sides are as thick as their tops.
    side_thickness = max(max_thickness_px, round(_mean_thickness(horizontal)) + 2)
    separators = _separators(binary, horizontal, length, side_thickness)
    lines = cv2.bitwise_or(horizontal, cv2.bitwise_or(vertical_long, separators))
    # Widen by a pixel: anti-aliased line edges survive an exact mask as speckle.
    return cv2.bitwise_and(cv2.dilate(lines, np.ones((3, 3), np.uint8)), binary)


def find_borders(lines: Gray, min_length_px: int) -> Gray:
    """The upright printed lines (box sides) of a line mask, dashes bridged.

    A faint or blurred box side binarises as dashes (the line mask keeps only the ink): they
    are bridged along the line, as :func:`find_lines` bridges them to find it, before the
    upright runs at least a third of ``min_length_px`` tall are kept. Without that a comb
    row's dashed separators were missing, and a row of boxes read as a border between two
    strings.

    Returns:
        uint8 ``(H, W)`` in {0, 255}.
    """
    gap = _dash_gap(min_length_px)
    bridged = cv2.morphologyEx(lines, cv2.MORPH_CLOSE, np.ones((gap, 1), np.uint8))
    return cv2.morphologyEx(
        bridged, cv2.MORPH_OPEN, np.ones((max(12, min_length_px // 3), 1), np.uint8)
    )


def remove_lines(binary: Gray, lines: Gray, max_thickness_px: int) -> Gray:
    """Remove line pixels, then restore the pixels where a pen stroke crosses a line.

    A stroke crossing a horizontal line has ink right above and below it: closing the
    line-free image vertically bridges the gap, and only bridged pixels on *horizontal* lines
    are put back (likewise horizontally, on vertical lines). Bridging along a line would
    instead re-create pieces of it beside the strokes that touch it.

    Returns:
        uint8 ``(H, W)`` in {0, 255}: the ink without the lines.
    """
    cleaned = cv2.bitwise_and(binary, cv2.bitwise_not(lines))
    span = max_thickness_px + 3
    along = max(3, 2 * span)
    horizontal = _near_runs(lines, (1, along), span)
    vertical = _near_runs(lines, (along, 1), span)
    bridge_v = cv2.morphologyEx(cleaned, cv2.MORPH_CLOSE, np.ones((span, 1), np.uint8))
    bridge_h = cv2.morphologyEx(cleaned, cv2.MORPH_CLOSE, np.ones((1, span), np.uint8))
    restored = cv2.bitwise_or(
        cv2.bitwise_and(bridge_v, horizontal), cv2.bitwise_and(bridge_h, vertical)
    )
    return cv2.bitwise_or(cleaned, restored)


def _near_runs(lines: Gray, shape: tuple[int, int], reach: int) -> Gray:
    """The line pixels within ``reach`` across of the lines' runs at least ``shape`` long.

    The runs are taken across short gaps in them: beside a dark stroke the threshold loses
    a lighter line for a few pixels (the stroke raises the neighbourhood's mean), and the
    line's mask is thicker where the stroke crosses it; that piece is still the line's.
    """
    kernel = np.ones(shape, np.uint8)
    runs = cv2.morphologyEx(
        cv2.morphologyEx(lines, cv2.MORPH_CLOSE, kernel), cv2.MORPH_OPEN, kernel
    )
    across = np.ones((reach, 1) if shape[0] == 1 else (1, reach), np.uint8)
    return cv2.bitwise_and(lines, cv2.dilate(runs, across))


def clean_speckle(binary: Gray) -> Gray:
    """Median 3x3: removes isolated JPEG and noise pixels, keeps strokes (>= 2 px wide)."""
    return cv2.medianBlur(binary, 3)


def measure_skew(binary: Gray, paper: Gray, min_length_px: int, config: ScanConfig) -> float:
    """The page's skew in degrees (0 if nothing shows it), from the first that has lines.

    The ink's lines (boxes, ruling, page edges); else the paper's own edges against the desk
    (plain paper, a sticky note).
    """
    thickness = config.line_max_thickness_px
    skew = estimate_skew_deg(binary, min_length_px, thickness)
    if skew is None:
        skew = estimate_skew_deg(paper_edges(paper), min_length_px, thickness)
    return skew or 0.0


def prepare(gray: Gray, config: ScanConfig, reference_px: int = 0) -> tuple[dict[str, Gray], float]:
    """Run the page stages on a working-resolution grey page.

    The background's and the threshold's sizes, and the shortest line, are fractions of the
    page's longest side, or of ``reference_px`` if larger (a tight crop of a field: see
    :func:`working_scale`).

    Returns:
        ``({"gray", "flat", "binary", "lines", "ink", "paper", "borders"}, skew_deg)``:
        the grey page as given, the flattened page, the raw ink mask, the line mask, the
        ink without lines and speckle (what segmentation uses), the paper mask and the
        vertical printed lines (box borders), all rotated by ``-skew_deg`` so the page's
        lines are level.
    """
    longest, page_size = max(gray.shape), (gray.shape[1], gray.shape[0])
    reference = max(longest, reference_px)
    background, paper = estimate_background(
        gray, round(config.background_kernel_frac * reference), config.paper_min_brightness_frac
    )
    flat = flatten_illumination(gray, background)
    block = round(config.threshold_block_frac * reference)
    binary = binarize_adaptive(flat, block, config.threshold_offset, config.min_contrast)
    binary = cv2.bitwise_and(binary, paper)
    binary = clean_speckle(binary)
    # Lines are measured by the page too: measured by an enlarged crop's own size, a line
    # was shorter than a digit is wide, and a 4's crossbar or a 1 was taken as one.
    line_length = round(config.line_min_length_frac * reference)
    skew = measure_skew(binary, paper, 2 * line_length, config) if config.deskew else 0.0
    if abs(skew) >= config.deskew_min_deg:
        binary = rotate(binary, skew)
        paper = rotate(paper, skew)
        gray = rotate(gray, skew, cv2.INTER_LINEAR)
        flat = rotate(flat, skew, cv2.INTER_LINEAR)
    else:
        skew = 0.0
    binary = fill_pinholes(binary, flat, block)
    if config.remove_lines:
        lines = find_lines(binary, line_length, config.line_max_thickness_px, page_size)
        if config.faint_lines:
            lines = _with_faint_lines(lines, binary, flat, paper, line_length, config, page_size)
        ink = remove_lines(binary, lines, config.line_max_thickness_px)
    else:
        lines = np.zeros_like(binary)
        ink = binary
    borders = find_borders(lines, line_length)
    images = {
        "gray": gray,
        "flat": flat,
        "binary": binary,
        "lines": lines,
        "ink": ink,
        "paper": paper,
        "borders": borders,
    }
    return images, skew


def _long_runs(
    binary: Gray,
    length: int,
    span: int,
    max_thickness_px: int,
    axis: int,
    thick_span: int | None = None,
) -> Gray:
    """Thin straight runs along ``axis`` (0 horizontal, 1 vertical) in structures >= ``span``.

    With ``thick_span``, runs up to twice as thick count too in structures that long (a
    notebook's margin line, drawn or blurred thicker than the ruling, spans the page; a
    form's boxes photographed close up), if they are thick along most of their length: where
    a pen stroke runs along a thin ruled line the two together are thick, and the stroke
    stays ink. (A line about as thick as the limit breaks into thin pieces, each too short
    to count, between the stretches where it is a pixel thicker: it counts as thick.)
    """
    grow = (3, 1) if axis == 0 else (1, 3)  # numpy (rows, cols): across the run
    grown = cv2.dilate(binary, np.ones(grow, np.uint8))
    # Faint printed lines binarise as dashes: bridge short gaps along the run first.
    gap = _dash_gap(length)
    grown = cv2.morphologyEx(
        grown, cv2.MORPH_CLOSE, np.ones((1, gap) if axis == 0 else (gap, 1), np.uint8)
    )
    kernel = np.ones((1, max(4, length // 2)) if axis == 0 else (max(4, length // 2), 1), np.uint8)
    opened = cv2.morphologyEx(grown, cv2.MORPH_OPEN, kernel)
    lines = _spanning(_thin_only(opened, max_thickness_px + 2, axis), span, axis)
    if thick_span is not None:
        thick = _thin_only(opened, 2 * max_thickness_px + 2, axis)
        min_mean = max_thickness_px + _THICK_LINE_MIN_EXTRA
        lines = cv2.bitwise_or(lines, _spanning(thick, thick_span, axis, min_mean))
    if axis == 1:
        return lines  # upright lines must be long themselves (see find_lines)
    return _drop_parallel_pieces(lines, binary, span, max_thickness_px + 2)


def _dash_gap(min_length_px: int) -> int:
    """The longest gap between the dashes of a faint printed line that is bridged."""
    return max(3, min_length_px // 8)


def _spanning(runs: Gray, span: int, axis: int, min_thickness: float = 0.0) -> Gray:
    """The runs in connected structures at least ``span`` long along ``axis``.

    With ``min_thickness``, only structures at least that thick across ``axis`` on average:
    a thick printed line is thick all along, while a thin ruled line with a pen stroke
    along a stretch of it is thick only there.
    """
    if not runs.any():
        return runs
    # The span of each structure is measured at half resolution (4x fewer pixels; a line's
    # length does not need full precision), then the kept structures are masked back in.
    count, labels, stats, _ = cv2.connectedComponentsWithStats(_half(runs), connectivity=8)
    extent = stats[:, cv2.CC_STAT_WIDTH if axis == 0 else cv2.CC_STAT_HEIGHT] * 2
    keep = extent >= span
    if min_thickness:
        # Every other pixel of every other row: a quarter of the area, at full resolution.
        area = 4 * np.bincount(labels[runs[::2, ::2] > 0], minlength=count)
        keep &= area >= min_thickness * extent
    keep[0] = False
    kept = np.where(keep[labels], np.uint8(255), np.uint8(0))
    full = cv2.resize(kept, (runs.shape[1], runs.shape[0]), interpolation=cv2.INTER_NEAREST)
    return cv2.bitwise_and(runs, full)


def _drop_parallel_pieces(lines: Gray, binary: Gray, span: int, reach: int) -> Gray:
    """Drop short horizontal runs lying alongside a line instead of continuing it.

    A short run counts as line when its structure is long: a line broken by crossing strokes,
    or stepping across rows because it is slightly tilted, meets its other pieces end to end.
    A pen stroke drawn just beside a line (a 7's bar under the top of its box) joins the
    line's structure too, but runs along it: most of its length has line within ``reach``
    pixels across, with paper between the two (a tilted line's steps touch).
    """
    count, labels, stats, _ = cv2.connectedComponentsWithStats(lines, connectivity=8)
    short = np.nonzero(stats[1:, cv2.CC_STAT_WIDTH] < span)[0] + 1
    if not short.size:
        return lines
    out = lines.copy()
    for k in short:
        x, y, w, h = (int(v) for v in stats[k, :4])
        top, bottom = max(0, y - reach), y + h + reach
        band = labels[top:bottom, x : x + w]
        column = binary[top:bottom, x : x + w] > 0
        pieces = (column[1:] & ~column[:-1]).sum(axis=0) + column[0]
        beside = ((band > 0) & (band != k)).any(axis=0) & (pieces >= 2)
        if beside.mean() > _PARALLEL_SHARE:
            out[top:bottom, x : x + w][band == k] = 0
    return out


#: A short run with line beside it along more than this share of its length is a stroke.
_PARALLEL_SHARE = 0.5


def _drop_aligned_strokes(level: Gray, binary: Gray, length: int, max_thickness_px: int) -> Gray:
    """Drop short level "lines" made of the tops of several written digits.

    The bars of a 7 and a 5 or the flat tops of a 9 and an 8 written level with each other,
    a few pixels apart, are bridged into one straight run as long as a short printed line,
    and removing it took the 7's bar (read as 1). A printed line that short is one piece of
    ink with its box, or dashes thinner than a digit; this run's pieces are each part of a
    glyph reaching far above or below it. (One of them may be a box: a 7's bar drawn a
    pixel from the box's top is bridged to it, and is a stroke too.)
    """
    # Outlines, not labels: labelling the whole page costs 5 ms, and most pages have no
    # short runs at all.
    contours, _ = cv2.findContours(level, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    tall = max(3 * max_thickness_px, round(_ALIGNED_GLYPH_HEIGHT * length))
    out = level
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        if w >= _ALIGNED_MAX_SPAN * length:
            continue
        # The ink's pieces are labelled in a window reaching ``tall`` above and below, and
        # half a line length to the sides (a 5's bar sticks out of its body).
        top, left = max(0, y - tall), max(0, x - length // 2)
        window = np.s_[top : y + h + tall, left : x + w + length // 2]
        run = np.zeros(level[window].shape, np.uint8)
        cv2.drawContours(run, [contour], -1, 255, -1, offset=(-left, -top))
        run = (run > 0) & (level[window] > 0)
        _, pieces, piece_stats, _ = cv2.connectedComponentsWithStats(binary[window], connectivity=8)
        under = pieces[run & (pieces > 0)]
        glyph = piece_stats[under, cv2.CC_STAT_HEIGHT] >= tall
        if np.unique(under[glyph]).size >= 2 and glyph.mean() >= _ALIGNED_GLYPH_SHARE:
            if out is level:
                out = level.copy()
            out[window][run] = 0
    return out


#: A level line shorter than this many minimum line lengths may be digits' tops in a row ...
_ALIGNED_MAX_SPAN = 2.0
#: ... when two of its pieces belong to glyphs at least this many line lengths tall ...
_ALIGNED_GLYPH_HEIGHT = 0.3
#: ... and nearly all its ink is theirs (a faint ruled line's dashes touching two digits is not).
_ALIGNED_GLYPH_SHARE = 0.8


def _drop_strokes_along(level: Gray, length: int) -> Gray:
    """Give back to the ink the strokes written along a level line, on it or just beside it.

    A thin pen's stroke lying on a ruled line (a 7's bar, a 2's base) is, with the line, no
    thicker than a printed line may be, and a bar drawn just under the line and touching it
    in places makes a short piece of the line's structure: removing them read the 7 as a 1,
    the 2 as a 7 and a 9 with a flat top as a 4. A short piece (under ``length``) near a
    long line (within :data:`_ALONG_REACH` rows) is a stroke if it is at least
    :data:`_ALONG_EXTRA` pixels thicker than that line, which is as thick all along, or if
    it lies beside it for most of its width (a tilted line's steps are pieces as thick as
    the line that continue it end to end); it is dropped whole. So are the stretches of a
    long line that much thicker than the line itself.
    """
    # Outlines, not labels: labelling the page costs 5-10 ms, outlining it a tenth of that.
    contours, _ = cv2.findContours(level, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return level
    boxes = [cv2.boundingRect(c) for c in contours]
    x, y, w, h = np.array(boxes).T
    thickness = (
        np.array([cv2.countNonZero(level[t : t + d, s : s + v]) for s, t, v, d in boxes]) / w
    )
    is_long = w >= length
    out = level.copy()
    for piece in np.nonzero(~is_long)[0]:
        near = (
            is_long & (y < y[piece] + h[piece] + _ALONG_REACH) & (y + h + _ALONG_REACH > y[piece])
        )
        if not near.any():
            continue
        thicker = thickness[piece] >= float(np.median(thickness[near])) + _ALONG_EXTRA
        overlap = np.clip(np.minimum(x[piece] + w[piece], x + w) - np.maximum(x[piece], x), 0, None)
        alongside = (overlap[near] >= _ALONG_OVERLAP * w[piece]).any()
        if thicker or alongside:
            cv2.drawContours(out, contours, int(piece), 0, -1)
    for line in np.nonzero(is_long)[0]:
        top, left = max(0, y[line] - 1), max(0, x[line] - 1)
        window = np.s_[top : y[line] + h[line] + 1, left : x[line] + w[line] + 1]
        across = round(thickness[line]) + _ALONG_EXTRA + 1
        thick = cv2.morphologyEx(level[window], cv2.MORPH_OPEN, np.ones((across, 1), np.uint8))
        if thick.any():
            out[window][cv2.dilate(thick, np.ones((3, 3), np.uint8)) > 0] = 0
    return out


#: A stroke along a line makes it at least this many pixels thicker than the line, ...
_ALONG_EXTRA = 2
#: ... on it or within this many rows of it; ...
_ALONG_REACH = 3
#: ... or, as thick as the line, lies beside it for this share of its width.
_ALONG_OVERLAP = 0.6


def _mean_thickness(level_lines: Gray) -> float:
    """Mean thickness of level lines: their pixels over the vertical runs they make."""
    ink = level_lines > 0
    starts = np.count_nonzero(ink[1:] & ~ink[:-1]) + np.count_nonzero(ink[0])
    return float(np.count_nonzero(ink)) / starts if starts else 0.0


def _thin_only(runs: Gray, max_thickness_px: int, axis: int) -> Gray:
    """Drop the parts of runs thicker than ``max_thickness_px`` across their direction."""
    if not runs.any():
        return runs
    across = (max_thickness_px + 1, 1) if axis == 0 else (1, max_thickness_px + 1)
    thick = cv2.morphologyEx(runs, cv2.MORPH_OPEN, np.ones(across, np.uint8))
    return cv2.bitwise_and(runs, cv2.bitwise_not(cv2.dilate(thick, np.ones((3, 3), np.uint8))))


#: Most rows of a box's separator are a thin line; a digit touching it thickens the rest.
_SEPARATOR_THIN_SHARE = 0.6
#: A separator's centre strays at most this many pixels from a straight line (but where it
#: meets the horizontal lines).
_SEPARATOR_STRAIGHT_PX = 2.0


def _separators(binary: Gray, horizontal: Gray, length: int, max_thickness_px: int) -> Gray:
    """The upright sides of boxes: straight thin segments from one horizontal line to the next.

    Separators may binarise dotted (short gaps along them are bridged first) and have a digit
    touching them: only most of their rows need to be thin (a digit against a side must not
    hide the whole side, which would then be read as a 1 beside it). Each is fitted with a
    straight line (a curved stroke is not a separator), and the ink within its width of that
    line, in its thin rows, is the separator: where a digit thickens it, the digit keeps its
    ink. A straight 1 filling its box from line to line is told from the sides by where it
    stands: the sides of a row of boxes are evenly spaced (:func:`_evenly_spaced`).
    """
    short = max(12, length // 3)
    bridged = cv2.morphologyEx(binary, cv2.MORPH_CLOSE, np.ones((max(3, length // 8), 1), np.uint8))
    upright = cv2.morphologyEx(bridged, cv2.MORPH_OPEN, np.ones((short, 1), np.uint8))
    joined = _joined_at_both_ends(upright, horizontal)
    out = np.zeros_like(binary)
    if not joined.any():
        return out
    count, labels, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    found: list[_Separator] = []
    for k in range(1, count):
        x, y, w, h = (int(v) for v in stats[k, :4])
        ink = (labels[y : y + h, x : x + w] == k) & (bridged[y : y + h, x : x + w] > 0)
        widths = ink.sum(axis=1)
        thin = (widths > 0) & (widths <= max_thickness_px)
        if thin.sum() < _SEPARATOR_THIN_SHARE * h:
            continue
        rows = np.nonzero(thin)[0]
        cols = np.arange(w)
        centres = (ink[rows] * cols).sum(axis=1) / widths[rows]
        slope, offset = np.polyfit(rows, centres, 1)
        if np.percentile(np.abs(centres - (slope * rows + offset)), 90) > _SEPARATOR_STRAIGHT_PX:
            continue  # a curved stroke, not a printed line
        half = np.median(widths[rows]) / 2 + 1
        fitted = slope * np.arange(h)[:, None] + offset
        # Rows a digit thickens stay ink: its stroke may run along the line there.
        near = (np.abs(cols[None, :] - fitted) <= half) & thin[:, None]
        found.append((x + offset + slope * h / 2, (x, y, w, h), near))
    for _, (x, y, w, h), near in _evenly_spaced(found):
        region = out[y : y + h, x : x + w]
        region[near & (binary[y : y + h, x : x + w] > 0)] = 255
    return out


#: Sides of one row of boxes stand a box's width apart: an upright stroke closer than this
#: fraction of it to the sides on both its left and right is a 1 written inside a box.
_SEPARATOR_MIN_SPACING = 0.85


#: A crowded side is kept if it lies within this fraction of a pitch of a whole number of
#: pitches from the row's other sides up to this many pitches away, for at least this share
#: of the best-placed one's count.
_LATTICE_TOLERANCE = 0.12
_LATTICE_REACH = 3
_LATTICE_SUPPORT = 0.6


#: A separator found: ``(centre_x, (x, y, w, h), mask within that box)``.
_Separator = tuple[float, tuple[int, int, int, int], NDArray[np.bool_]]


def _evenly_spaced(found: list[_Separator]) -> list[_Separator]:
    """The separators without the straight 1s that filled their box from line to line.

    Candidates spanning the same rows (one row of boxes) are compared with the median
    spacing of the row; the first and last of a row have one neighbour and are kept.
    """
    kept: list[_Separator] = []
    rows: list[list[_Separator]] = []
    for item in sorted(found, key=lambda f: f[1][1]):
        _, (_, y, _, h), _ = item
        for row in rows:
            _, (_, ry, _, rh), _ = row[0]
            if abs(y - ry) <= 0.2 * rh and abs(y + h - ry - rh) <= 0.2 * rh:
                row.append(item)
                break
        else:
            rows.append([item])
    for row in rows:
        row.sort(key=lambda f: f[0])
        centres = np.array([f[0] for f in row])
        if len(row) < 3:
            kept += row
            continue
        gaps = np.diff(centres)
        close = _SEPARATOR_MIN_SPACING * float(np.median(gaps))
        crowded = (np.append(np.inf, gaps) < close) & (np.append(gaps, np.inf) < close)
        # A side with a stroke standing close on either hand is still a side: it lies a
        # whole number of pitches from the row's other sides, a stroke in a box does not.
        # (The pitch from the gaps no stroke splits.)
        pitch = float(np.median(gaps[gaps >= close]))
        steps = (centres[:, None] - centres[None, :]) / pitch
        near = (np.abs(steps) > 0.5) & (np.abs(steps) < _LATTICE_REACH + 0.5)
        support = (near & (np.abs(steps - np.round(steps)) < _LATTICE_TOLERANCE)).sum(axis=1)
        on_lattice = support >= _LATTICE_SUPPORT * support.max()
        kept += [f for f, drop in zip(row, crowded & ~on_lattice, strict=True) if not drop]
    return kept


def _joined_at_both_ends(vertical: Gray, horizontal: Gray) -> Gray:
    """Vertical segments whose top and bottom both touch a horizontal line."""
    if not vertical.any() or not horizontal.any():
        return np.zeros_like(vertical)
    near = cv2.dilate(horizontal, np.ones((7, 7), np.uint8)) > 0
    count, labels, stats, _ = cv2.connectedComponentsWithStats(vertical, connectivity=8)
    x, y, w, h = (stats[1:, k] for k in range(4))
    # Per component: is any pixel of its top (bottom) row's span near a horizontal line?
    # Prefix sums over just those rows answer every component at once.
    prefix_top = np.pad(np.cumsum(near[y], axis=1), ((0, 0), (1, 0)))
    prefix_bottom = np.pad(np.cumsum(near[y + h - 1], axis=1), ((0, 0), (1, 0)))
    rows = np.arange(count - 1)
    top = prefix_top[rows, x + w] > prefix_top[rows, x]
    bottom = prefix_bottom[rows, x + w] > prefix_bottom[rows, x]
    keep = np.concatenate([[False], top & bottom])
    return np.where(keep[labels], np.uint8(255), np.uint8(0))
