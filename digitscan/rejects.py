"""Training images of the classifier's extra class "not one whole digit" (label 10).

The reading pipeline cuts every blob of ink out of a thresholded photo and normalises it as
MNIST was normalised. Many of those blobs are not digits: printed letters and signs, words
written beside a number, a piece of a digit cut off wrongly, two digits that touch, pieces of
boxes and ruling, wood grain or paper texture, specks. :func:`render_rejects` draws such
blobs as binary ink masks 30-90 px across (the size of a blob at working resolution), then
evens their pen width and normalises them exactly as the pipeline does
(:func:`digitscan.pipeline.digit_image`), so they look like what the classifier is shown.

Nothing drawn here may pass for a single digit: glyphs and shapes that look like one once
normalised (printed O, l, S, Z, B, g, a lone straight bar, a lone oval, ...) are left out,
because they would teach the classifier that real digits are not digits.

Every image is drawn from the given ``numpy.random.Generator`` only, so the same seed (and
the same font files) gives the same images.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from digitscan.config import ScanConfig
from digitscan.errors import ConfigError
from digitscan.normalize import MNIST_BOX_PX, MNIST_SIZE_PX
from digitscan.pipeline import digit_image
from digitscan.types import BBox, Candidate

Mask = NDArray[np.uint8]
Points = NDArray[np.float64]

#: Kinds of non-digit and the share of the images each gets.
KINDS: tuple[tuple[str, float], ...] = (
    ("printed", 0.25),  # letters and signs on forms, cheques, labels
    ("handwriting", 0.18),  # words and marks written beside the numbers
    ("digit_piece", 0.12),  # a wrong cut or a broken stroke
    ("digit_group", 0.10),  # touching digits the splitter did not cut
    ("lines", 0.15),  # what line removal leaves of boxes and ruling
    ("texture", 0.10),  # wood grain, guilloche, paper fibres, halftone
    ("specks", 0.10),  # dots, commas, blots, smudges
)
#: The kinds drawn from real handwritten digits (skipped without them).
DIGIT_KINDS = frozenset({"digit_piece", "digit_group"})

#: Where :func:`find_fonts` looks, and the font files it takes.
FONT_DIR = Path("/usr/share/fonts")
FONT_SUFFIXES = (".ttf", ".otf")
#: Fonts of symbols, dingbats and mathematics, left out: their letters map to other shapes,
#: digits in circles among them (D050000L is URW's Dingbats).
FONT_EXCLUDE = ("D050000L", "Symbol", "Dingbat", "Math")

#: Printed glyphs that stay distinct from every digit once normalised to 20 px, chosen by
#: looking at renders in every installed font. Left out as digit-like, and why:
#: O o Q D C c U u (a 0, closed or with a gap), I l i j J | ! / \ ( ) [ ] { } (a 1, straight,
#: slanted or bowed), S s (5), Z z (2), B (8), b G (6), g q a (9; a double-storey a is a 2
#: with a loop), T (7), y (an open 4), > ^ (a 7, a flagged 1), and every digit.
PRINTED_GLYPHS = "AEFHKLMNPRVWXYdefhkmnprtvwx&%#@?+=*<~$\u20ac\u00a3"  # ... euro, pound
#: The Hershey fonts have ASCII only.
_HERSHEY_GLYPHS = "".join(c for c in PRINTED_GLYPHS if c.isascii())
#: Letters a run of 2-3 touching printed letters is drawn from (capitals or small letters):
#: any but the bar-like ones (two touching bars are a thick 1); a run is wider than a digit
#: even of round letters.
RUN_LETTERS = ("ABCDEFGHKLMNOPRSUVWXYZ", "abcdeghkmnopqrsuvwxyz")
#: Chance that a printed sample is a run of touching letters (a thresholded bold title).
P_RUN = 0.3
#: Cursive words are at least this many times wider than tall (narrower ones may be digits).
WORD_MIN_ASPECT = 1.2

#: Longest side of a drawn blob in pixels (digits are cut at working resolution at this size).
SIZE_PX = (30, 90)
#: Pen width as a fraction of the glyph's height (MNIST strokes are about 0.13).
PEN_FRAC = (0.08, 0.18)
#: Printed text is slanted (shear) and turned this much at most.
MAX_SHEAR = 0.3
MAX_TURN_DEG = 10.0
#: A mask needs this much ink to be a candidate at all (as ``ScanConfig.min_ink_px``).
MIN_INK_PX = 30
#: A blob this many times longer than wide (principal axes) and within 45 degrees of upright
#: is a lone bar: a 1, never drawn as a non-digit.
BAR_ELONGATION = 3.2
#: A hole this large (fraction of the blob's box, both ways) makes a blob a ring: a 0.
RING_HOLE_FRAC = 0.3
#: A normalised blob narrower than this fraction of its height is a 1 (straight, bowed or
#: hooked): no other digit is that narrow.
NARROW_FRAC = 0.45
#: Attempts at drawing one kind before falling back to a plain shape.
MAX_TRIES = 12

#: A piece of a digit is this fraction of its ink box, cut from one side.
PIECE_FRAC = (0.35, 0.6)
#: Pieces keeping more of the digit's ink than this are still the digit ...
PIECE_MAX_INK = 0.85
#: ... and so are pieces whose normalised image is this similar (cosine) to the whole digit's:
#: the right part of a 3, the left part of a 6, the top of a 1 normalised to full height.
PIECE_MAX_SIMILARITY = 0.6
#: Touching digits overlap by this fraction of the narrower one's width once they touch ...
GROUP_OVERLAP = (0.0, 0.25)
#: ... and each starts at least this fraction of the one before's width to its right (so no
#: digit hides in another's hollow), and the group is this much wider than its widest digit.
GROUP_MIN_OFFSET = 0.5
GROUP_MIN_WIDTH = 1.3

#: The pipeline's settings (pen width evening, shape checks) the images are made with.
_CONFIG = ScanConfig()


def render_rejects(
    n: int,
    rng: np.random.Generator,
    *,
    digits: NDArray[np.uint8] | None = None,
    fonts: Sequence[Path] | None = None,
    reads_as_digit: Callable[[NDArray[np.uint8]], bool] | None = None,
    return_kinds: bool = False,
) -> NDArray[np.uint8] | tuple[NDArray[np.uint8], list[str]]:
    """Render ``n`` images of things that are not one whole digit, as the pipeline shows them.

    Each kind of :data:`KINDS` gets its share of the ``n`` images (rounded so they add up to
    ``n``), in a random order.

    Args:
        n: How many images.
        rng: The random generator; the same state (and fonts) gives the same images.
        digits: Real handwritten digits, uint8 ``(M, 28, 28)`` with bright ink, for the
            "piece of a digit" and "touching digits" kinds; without them (None or empty)
            those kinds' shares go to the others.
        fonts: TrueType/OpenType files for printed glyphs; None finds the installed ones
            (:func:`find_fonts`). OpenCV's built-in variable sans face is added to them
            (OpenCV 5); with no files (or an OpenCV without TrueType), OpenCV's Hershey
            fonts are used instead.
        reads_as_digit: Tells whether a normalised piece of a digit still reads as a whole
            digit (e.g. a trained classifier reading it surely); such pieces (a 3 cut from an
            8, a 5 without its bar) are drawn again, as a person would call them digits too.
        return_kinds: Also return each image's kind (a name of :data:`KINDS`, or "lines"
            for the rare fallback dash), e.g. to label touching digits apart.

    Returns:
        uint8 ``(n, 28, 28)``, bright ink on black, MNIST-normalised (longest side 20 px,
        centre of mass at the centre); every image has ink. With ``return_kinds``, the
        images and the list of their kinds.

    Raises:
        ConfigError: ``n`` is negative or ``digits`` is not a uint8 ``(M, 28, 28)`` array.

    Example:
        >>> images = render_rejects(8, np.random.default_rng(0))
        >>> images.shape, images.dtype.name, bool((images.max(axis=(1, 2)) > 0).all())
        ((8, 28, 28), 'uint8', True)
    """
    if n < 0:
        raise ConfigError(f"`n` must be >= 0, got {n}")
    digits = _check_digits(digits)
    faces = _faces(find_fonts() if fonts is None else fonts)
    kinds = _kind_sequence(n, rng, with_digits=digits is not None)
    out = np.zeros((n, MNIST_SIZE_PX, MNIST_SIZE_PX), np.uint8)
    drawn = []
    for i, kind in enumerate(kinds):
        out[i], done = _render_kind(kind, rng, faces, digits, reads_as_digit)
        drawn.append(kind if done else "lines")
    return (out, drawn) if return_kinds else out


def find_fonts(folder: Path = FONT_DIR) -> list[Path]:
    """The TrueType and OpenType files under a folder with Latin letters, sorted.

    Args:
        folder: Where to look (recursively); a missing folder gives no fonts.

    Returns:
        The font files, sorted by path (so a seed renders the same images on the same
        machine); symbol and dingbat fonts (:data:`FONT_EXCLUDE`) are left out.
    """
    if not folder.is_dir():
        return []
    found = (p for p in folder.rglob("*") if p.suffix.lower() in FONT_SUFFIXES and p.is_file())
    return sorted(p for p in found if not any(word in p.name for word in FONT_EXCLUDE))


# --- choosing and finishing


def _check_digits(digits: NDArray[np.uint8] | None) -> NDArray[np.uint8] | None:
    if digits is None:
        return None
    digits = np.asarray(digits)
    if digits.dtype != np.uint8 or digits.ndim != 3 or digits.shape[1:] != (28, 28):
        raise ConfigError(f"`digits` must be uint8 (M, 28, 28), got {digits.dtype} {digits.shape}")
    return digits if len(digits) else None


def _kind_sequence(n: int, rng: np.random.Generator, *, with_digits: bool) -> list[str]:
    """Each kind repeated its share of ``n`` times (largest remainders), shuffled."""
    kinds = [(k, s) for k, s in KINDS if with_digits or k not in DIGIT_KINDS]
    shares = np.array([s for _, s in kinds]) / sum(s for _, s in kinds)
    counts = np.floor(shares * n).astype(int)
    remainders = shares * n - counts
    counts[np.argsort(-remainders, kind="stable")[: n - counts.sum()]] += 1
    sequence = [k for (k, _), c in zip(kinds, counts, strict=True) for _ in range(c)]
    return [sequence[i] for i in rng.permutation(n)]


def _render_kind(
    kind: str,
    rng: np.random.Generator,
    faces: list[_Face],
    digits: NDArray[np.uint8] | None,
    reads_as_digit: Callable[[NDArray[np.uint8]], bool] | None = None,
) -> tuple[NDArray[np.uint8], bool]:
    """One normalised image of a kind, and whether it is one.

    A plain dash (and False) if the kind keeps failing (rare).
    """
    draw: dict[str, Callable[[], Mask | None]] = {
        "printed": lambda: _printed(rng, faces),
        "handwriting": lambda: _handwriting(rng),
        "digit_piece": lambda: _digit_piece(rng, digits),
        "digit_group": lambda: _digit_group(rng, digits),
        "lines": lambda: _lines(rng),
        "texture": lambda: _texture(rng),
        "specks": lambda: _specks(rng),
    }
    if kind not in draw:
        raise ConfigError(f"unknown kind {kind!r}; known: {', '.join(draw)}")
    for _ in range(MAX_TRIES):
        mask = draw[kind]()
        if mask is None or not _reaches_classifier(mask):
            continue
        image = _normalise(mask)
        if not _not_digit_like(image, kind):
            continue
        if kind == "digit_piece" and reads_as_digit is not None and reads_as_digit(image):
            continue
        return image, True
    return _normalise(_dash(rng)), False


def _reaches_classifier(mask: Mask) -> bool:
    """The pipeline's shape checks pass it on: enough ink, not too wide, not solid."""
    ink = np.count_nonzero(mask >= 128)
    h, w = mask.shape
    if ink < MIN_INK_PX or w > _CONFIG.max_aspect * h:
        return False
    return not (ink > _CONFIG.max_fill * h * w and w > 0.5 * h)


def _not_digit_like(image: NDArray[np.uint8], kind: str) -> bool:
    """A normalised image is not narrow or a lone upright bar (a 1), nor a ring (a 0).

    Judged after normalising: a short bar becomes a 1's length, and evening the pen width
    closes small gaps. Printed glyphs are chosen by hand (so an e or an A keeps its hole)
    and groups of digits may hold a 0: they are checked for narrowness only.
    """
    if _is_narrow(image):
        return False
    if kind in ("printed", "digit_group"):
        return True
    return not (_is_bar(image) or _is_ring(image))


def _is_narrow(image: NDArray[np.uint8]) -> bool:
    rows = np.nonzero(image.any(axis=1))[0]
    cols = np.nonzero(image.any(axis=0))[0]
    if rows.size == 0:
        return False
    return cols[-1] - cols[0] + 1 < NARROW_FRAC * (rows[-1] - rows[0] + 1)


def _is_bar(mask: Mask) -> bool:
    """A lone straight stroke within 45 degrees of upright: its ink's principal axes."""
    ys, xs = np.nonzero(mask >= 128)
    if ys.size < 3:
        return False
    variances, axes = np.linalg.eigh(np.cov(np.vstack([xs, ys]).astype(np.float64)))
    along, across = max(variances[1], 0.0), max(variances[0], 1e-9)
    upright = abs(axes[1, 1]) >= abs(axes[0, 1])  # the long axis's y part beats its x part
    return upright and math.sqrt(along / across) > BAR_ELONGATION


def _is_ring(mask: Mask) -> bool:
    """A closed loop whose hole spans much of the blob's box (a 0 or an o)."""
    binary = np.where(mask >= 128, 255, 0).astype(np.uint8)
    contours, hierarchy = cv2.findContours(binary, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return False
    h, w = mask.shape
    for contour, (_, _, _, parent) in zip(contours, hierarchy[0], strict=True):
        if parent >= 0:  # a hole
            _, _, hole_w, hole_h = cv2.boundingRect(contour)
            if hole_w > RING_HOLE_FRAC * w and hole_h > RING_HOLE_FRAC * h:
                return True
    return False


def _normalise(mask: Mask) -> NDArray[np.uint8]:
    """Binarise a drawn mask and normalise it as the pipeline normalises a blob."""
    binary = np.where(mask >= 128, 255, 0).astype(np.uint8)
    h, w = binary.shape
    return digit_image(Candidate(bbox=BBox(0, 0, w, h), mask=binary), _CONFIG)


def _size(rng: np.random.Generator) -> int:
    return int(rng.integers(SIZE_PX[0], SIZE_PX[1] + 1))


def _pen(rng: np.random.Generator, height: float) -> int:
    return max(1, round(height * rng.uniform(*PEN_FRAC)))


# --- geometry helpers


def _crop(mask: Mask) -> Mask | None:
    """The mask cut to its ink's box; None without ink."""
    ys, xs = np.nonzero(mask >= 128)
    if ys.size == 0:
        return None
    return mask[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]


def _warp(mask: Mask, shear: float, turn_deg: float) -> Mask:
    """Slant (x -= shear * y: positive leans right) and turn a mask on a canvas that fits it."""
    h, w = mask.shape
    turn = np.deg2rad(turn_deg)
    rot = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    linear = rot @ np.array([[1.0, -shear], [0.0, 1.0]])
    corners = np.array([[0, 0], [w, 0], [0, h], [w, h]], np.float64) @ linear.T
    lo, hi = corners.min(axis=0), corners.max(axis=0)
    matrix = np.hstack([linear, -lo[:, None]])
    size = (int(math.ceil(hi[0] - lo[0])) + 1, int(math.ceil(hi[1] - lo[1])) + 1)
    return cv2.warpAffine(mask, matrix, size, flags=cv2.INTER_LINEAR)


def _spline(points: Points, per_segment: int = 10) -> Points:
    """A Catmull-Rom curve through the points (the ends are repeated so it reaches them)."""
    p = np.vstack([points[:1], points, points[-1:]])
    t = np.linspace(0, 1, per_segment, endpoint=False)[:, None]
    parts = []
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        parts.append(
            0.5
            * (
                2 * p1
                + (p2 - p0) * t
                + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2
                + (3 * p1 - p0 - 3 * p2 + p3) * t**3
            )
        )
    parts.append(points[-1:])
    return np.vstack(parts)


def _draw_strokes(strokes: Sequence[Points], longest_px: int, pen_px: int) -> Mask:
    """Draw polylines given in any units, scaled so their box's longest side is ``longest_px``."""
    every = np.vstack(strokes)
    lo = every.min(axis=0)
    extent = max(float((every.max(axis=0) - lo).max()), 1e-6)
    scale = longest_px / extent
    margin = pen_px + 2
    w, h = np.ceil((every.max(axis=0) - lo) * scale).astype(int) + 2 * margin + 1
    canvas = np.zeros((h, w), np.uint8)
    # Fixed-point coordinates (4 fractional bits) keep the curves smooth at small sizes.
    shift = 4
    polys = [np.round(((s - lo) * scale + margin) * (1 << shift)).astype(np.int32) for s in strokes]
    cv2.polylines(canvas, polys, False, 255, pen_px, cv2.LINE_AA, shift)
    return canvas


# --- 1. printed letters and signs


@dataclass(frozen=True, slots=True)
class _Face:
    """A font: a TrueType face (``face``) or one of OpenCV's Hershey fonts (``hershey``)."""

    face: Any = None
    hershey: int | None = None


_HERSHEY = (
    cv2.FONT_HERSHEY_SIMPLEX,
    cv2.FONT_HERSHEY_DUPLEX,
    cv2.FONT_HERSHEY_COMPLEX,
    cv2.FONT_HERSHEY_TRIPLEX,
    cv2.FONT_HERSHEY_SCRIPT_SIMPLEX,
    cv2.FONT_HERSHEY_SCRIPT_COMPLEX,
)
#: Variable fonts are drawn at a weight in this range (100 thin ... 900 black).
_WEIGHTS = (300, 900)


def _faces(fonts: Sequence[Path]) -> list[_Face]:
    """The files' TrueType faces and the built-in sans (OpenCV 5), else the Hershey fonts."""
    if not hasattr(cv2, "FontFace") or not fonts:
        return [_Face(hershey=h) for h in _HERSHEY]
    # The built-in face is a variable font: drawn at random weights, thin to black.
    return [_Face(face=_load_face(str(p))) for p in fonts] + [_Face(face=_load_face("sans"))]


@cache
def _load_face(path: str) -> Any:
    return cv2.FontFace(path)


def _printed(rng: np.random.Generator, faces: list[_Face]) -> Mask | None:
    """A printed glyph or a run of 2-3 touching letters, slanted and turned a little."""
    face = faces[int(rng.integers(len(faces)))]
    size = _size(rng)
    if rng.random() < P_RUN:
        count = int(rng.integers(2, 4))
        letters = RUN_LETTERS[int(rng.integers(len(RUN_LETTERS)))]
        text = [letters[i] for i in rng.integers(len(letters), size=count)]
        glyphs = [_glyph(c, face, size, rng) for c in text]
        mask = _touching(glyphs, rng, overlap=(0.02, 0.1))  # bold ink runs together a little
    else:
        glyphs = PRINTED_GLYPHS if face.face is not None else _HERSHEY_GLYPHS
        mask = _glyph(glyphs[int(rng.integers(len(glyphs)))], face, size, rng)
    if mask is None:
        return None
    return _crop(_warp(mask, rng.uniform(-MAX_SHEAR, MAX_SHEAR) * rng.random(), _turn(rng)))


def _turn(rng: np.random.Generator) -> float:
    return float(rng.uniform(-MAX_TURN_DEG, MAX_TURN_DEG))


def _glyph(char: str, face: _Face, size: int, rng: np.random.Generator) -> Mask | None:
    """One character drawn white on black with its baseline at a fixed row, cropped to width.

    Rows are kept (not cropped) so glyphs of one run share the baseline.
    """
    canvas = np.zeros((2 * size, 2 * size), np.uint8)
    org = (size // 2, round(1.4 * size))  # room for ascenders above, descenders below
    if face.face is not None:
        weight = int(rng.integers(*_WEIGHTS))
        cv2.putText(canvas, char, org, 255, face.face, size, weight)
    else:
        scale = cv2.getFontScaleFromHeight(face.hershey, size)
        thick = max(1, round(size * rng.uniform(0.05, 0.12)))  # plotter pens, thin to bold
        italic = cv2.FONT_ITALIC if rng.random() < 0.3 else 0
        cv2.putText(canvas, char, org, face.hershey | italic, scale, 255, thick, cv2.LINE_AA)
    cols = np.nonzero((canvas >= 128).any(axis=0))[0]
    if cols.size == 0:
        return None
    return canvas[:, cols[0] : cols[-1] + 1]


def _touching(
    parts: Sequence[Mask | None], rng: np.random.Generator, overlap: tuple[float, float]
) -> Mask | None:
    """Same-height masks side by side, each moved left until it touches the one before.

    Each then overlaps the previous by ``overlap`` (fractions of the height), as ink that
    ran together does.
    """
    parts = [p for p in parts if p is not None]
    if not parts:
        return None
    out = parts[0]
    for part in parts[1:]:
        out, _ = _join(out, part, round(out.shape[0] * rng.uniform(*overlap)))
    return out


def _join(left: Mask, right: Mask, overlap_px: int) -> tuple[Mask, int]:
    """Put ``right`` beside ``left`` (same height) where they first touch, minus an overlap.

    Returns the joined mask and the column where ``right`` starts in it.
    """
    h = left.shape[0]
    ink_l, ink_r = left >= 128, right >= 128
    rows = ink_l.any(axis=1) & ink_r.any(axis=1)
    if rows.any():
        last_l = left.shape[1] - 1 - np.argmax(ink_l[:, ::-1], axis=1)
        first_r = np.argmax(ink_r, axis=1)
        contact = int((last_l - first_r)[rows].max())  # right's x where they first touch
    else:
        contact = left.shape[1]
    x = max(0, contact - overlap_px)
    out = np.zeros((h, max(left.shape[1], x + right.shape[1])), np.uint8)
    out[:, : left.shape[1]] = left
    region = out[:, x : x + right.shape[1]]
    np.maximum(region, right, out=region)
    return out, x


# --- 2. handwriting


def _handwriting(rng: np.random.Generator) -> Mask | None:
    """A written word or mark: cursive letters, zig-zag, cross, tick, scribble."""
    maker = (_cursive, _cursive, _zigzag, _cross, _tick, _scribble, _loop_tail, _cursive_a)[
        int(rng.integers(8))
    ]
    strokes = [s + rng.normal(0, 0.02, s.shape) for s in maker(rng)]  # an unsteady hand
    strokes = [_spline(s) for s in strokes]
    shear = rng.uniform(-0.4, 0.4)  # backhand to strongly italic writers
    strokes = [s @ np.array([[1.0, 0.0], [-shear, 1.0]]) for s in strokes]  # (x, y): x -= sh*y
    width, height = np.ptp(np.vstack(strokes), axis=0)
    longest = _size(rng)
    pen = _pen(rng, longest * height / max(width, height, 1e-6))  # of the drawn height
    mask = _crop(_warp(_draw_strokes(strokes, longest, max(pen, 2)), 0.0, _turn(rng)))
    if maker is _cursive and mask is not None and mask.shape[1] < WORD_MIN_ASPECT * mask.shape[0]:
        return None
    return mask


# Letter pieces in x-height units: y grows downwards, 0 is the x-height, 1 the baseline.


def _hump(x: float) -> list[tuple[float, float]]:  # n's arch
    return [(x + 0.05, 0.3), (x + 0.25, 0.0), (x + 0.45, 0.3), (x + 0.5, 1.0)]


def _cup(x: float) -> list[tuple[float, float]]:  # u's valley
    return [(x + 0.05, 0.7), (x + 0.25, 1.0), (x + 0.45, 0.7), (x + 0.5, 0.0)]


def _eye(x: float) -> list[tuple[float, float]]:  # e's loop
    return [(x + 0.35, 0.45), (x + 0.3, 0.0), (x + 0.1, 0.3), (x + 0.2, 0.95), (x + 0.5, 0.9)]


def _tall(x: float) -> list[tuple[float, float]]:  # l's loop, up to the ascender
    return [(x + 0.3, -0.4), (x + 0.25, -1.0), (x + 0.1, -0.6), (x + 0.15, 0.9), (x + 0.4, 0.95)]


def _vee(x: float) -> list[tuple[float, float]]:  # w's pointed valley
    return [(x + 0.2, 1.0), (x + 0.4, 0.1)]


_LETTER_PIECES = (_hump, _cup, _eye, _tall, _vee)


def _cursive(rng: np.random.Generator) -> list[Points]:
    """Two to five joined cursive letter pieces along a baseline (mn, ee, ul, w ...)."""
    points = [(0.0, 1.0)]
    x = 0.0
    for _ in range(int(rng.integers(2, 6))):
        piece = _LETTER_PIECES[int(rng.integers(len(_LETTER_PIECES)))]
        points += piece(x)
        x += 0.5 * rng.uniform(0.8, 1.3)  # each piece is half an x-height wide, give or take
    points.append((x + 0.3, 0.6 + 0.3 * rng.random()))
    return [np.array(points)]


def _zigzag(rng: np.random.Generator) -> list[Points]:
    """Four to seven sharp turns up and down, as a W or a crossed-out word."""
    turns = int(rng.integers(4, 8))
    xs = np.cumsum(rng.uniform(0.15, 0.4, turns + 1))  # narrow to wide strokes, height 1
    ys = np.where(np.arange(turns + 1) % 2 == 0, 0.0, 1.0) + rng.normal(0, 0.08, turns + 1)
    pts = np.column_stack([xs, ys])
    # Doubling each point keeps the spline's corners sharp.
    return [np.repeat(pts, 2, axis=0)]


def _cross(rng: np.random.Generator) -> list[Points]:
    """An x (two leaning strokes) or a + of uneven arms; bowed a little."""
    if rng.random() < 0.5:
        a, b = rng.uniform(0.5, 1.2, 2)  # each stroke's lean: its width over the height
        return [
            np.array([(-a / 2, 0.0), (0.0, 0.5 + rng.normal(0, 0.05)), (a / 2, 1.0)]),
            np.array([(b / 2, 0.0), (0.0, 0.5), (-b / 2, 1.0)]),
        ]
    arm = rng.uniform(0.6, 1.0)  # the bar, no longer than the upright
    mid = rng.uniform(0.3, 0.6)  # the crossing is off centre on a t or a dagger
    return [
        np.array([(0.0, 0.0), (0.02, 0.5), (0.0, 1.0)]),
        np.array([(-arm / 2, mid), (0.0, mid + 0.02), (arm / 2, mid)]),
    ]


def _tick(rng: np.random.Generator) -> list[Points]:
    """A check mark: a short stroke down to the right, a long one up to the right."""
    down = rng.uniform(0.2, 0.45)
    corner = (0.3, 1.0)
    # The corner is given twice so the spline turns sharply there.
    return [np.array([(0.0, 1.0 - down), corner, corner, (0.3 + rng.uniform(0.5, 0.9), 0.0)])]


def _scribble(rng: np.random.Generator) -> list[Points]:
    """A crossed-out patch or a random scrawl: many points criss-crossing a box."""
    count = int(rng.integers(9, 15))  # fewer points can make a digit's path
    aspect = rng.uniform(0.8, 2.5)  # the box scrawled over: squarish to a word's width
    if rng.random() < 0.5:  # crossing out: back and forth, moving down
        xs = np.where(np.arange(count) % 2 == 0, 0.0, aspect) + rng.normal(0, 0.1, count)
        ys = np.linspace(0, 1, count) + rng.normal(0, 0.1, count)
    else:
        xs, ys = rng.uniform(0, aspect, count), rng.uniform(0, 1, count)
    return [np.column_stack([xs, ys])]


def _loop_tail(rng: np.random.Generator) -> list[Points]:
    """A loop with tails going off sideways on both sides (a cursive o in a word)."""
    t = np.linspace(0, 2 * np.pi, 9)
    width = rng.uniform(0.5, 1.0)  # of the loop, whose height is 1
    loop = np.column_stack([width / 2 * np.sin(t) + 1.0, 0.5 - 0.5 * np.cos(t)])
    lead = np.array([(0.0, 0.9 + 0.1 * rng.random()), (0.6, 0.7)])
    tail = np.array([(1.4, 0.3), (1.9 + rng.uniform(0, 0.5), 0.2 + 0.5 * rng.random())])
    return [np.vstack([lead, loop, tail])]


def _cursive_a(rng: np.random.Generator) -> list[Points]:
    """A cursive a (a wide bowl, a short stem on its right, an exit stroke) or two."""
    strokes = []
    for k in range(int(rng.integers(1, 3))):
        x = 1.6 * k
        bowl = rng.uniform(1.0, 1.4)  # wider than tall, unlike a 9's or a 0's
        strokes.append(
            np.array(
                [
                    (x + bowl, 0.15),
                    (x + bowl / 2, 0.0),
                    (x, 0.55),
                    (x + bowl / 2, 1.0),
                    (x + bowl, 0.5),
                    (x + bowl, 0.0),
                    (x + bowl, 0.0),
                    (x + bowl + 0.05, 0.95),
                    (x + bowl + 0.5, 0.7),
                ]
            )
        )
    return strokes


# --- 3. a piece of a digit


def _digit_mask(digit: NDArray[np.uint8], rng: np.random.Generator) -> Mask:
    """An MNIST digit enlarged to blob size and thresholded, as a photo's blob is."""
    longest = _size(rng)
    big = cv2.resize(digit, None, fx=longest / MNIST_BOX_PX, fy=longest / MNIST_BOX_PX)
    cropped = _crop(np.where(big >= 128, 255, 0).astype(np.uint8))
    return cropped if cropped is not None else np.zeros((1, 1), np.uint8)


def _digit_piece(rng: np.random.Generator, digits: NDArray[np.uint8] | None) -> Mask | None:
    """The left, right, top or bottom 35-60% of a real digit (a wrong cut, a broken stroke).

    None when the piece is still the digit: it keeps nearly all the ink, or it looks like
    the whole once both are normalised. Lone bars and rings are turned down later
    (:func:`_not_digit_like`).
    """
    if digits is None:
        return None
    mask = _digit_mask(digits[int(rng.integers(len(digits)))], rng)
    h, w = mask.shape
    frac = rng.uniform(*PIECE_FRAC)
    keep_w, keep_h = round(w * frac), round(h * frac)
    cut = (
        (slice(None), slice(0, keep_w)),  # left
        (slice(None), slice(w - keep_w, w)),  # right
        (slice(0, keep_h), slice(None)),  # top
        (slice(h - keep_h, h), slice(None)),  # bottom
    )[int(rng.integers(4))]
    piece = _crop(mask[cut])
    if piece is None or np.count_nonzero(piece) > PIECE_MAX_INK * np.count_nonzero(mask):
        return None
    whole, part = (_normalise(m).astype(np.float64).ravel() for m in (mask, piece))
    similarity = whole @ part / max(float(np.linalg.norm(whole) * np.linalg.norm(part)), 1e-9)
    return None if similarity > PIECE_MAX_SIMILARITY else piece


# --- 4. touching digits


def _digit_group(rng: np.random.Generator, digits: NDArray[np.uint8] | None) -> Mask | None:
    """Two or three real digits touching side by side, one blob (the splitter missed it)."""
    if digits is None:
        return None
    count = 2 if rng.random() < 0.75 else 3
    longest = _size(rng)
    parts = []
    for i in rng.integers(len(digits), size=count):
        big = cv2.resize(digits[i], None, fx=longest / MNIST_BOX_PX, fy=longest / MNIST_BOX_PX)
        big = np.where(big >= 128, 255, 0).astype(np.uint8)
        cols = np.nonzero(big.any(axis=0))[0]
        if cols.size == 0:
            return None
        dy = round(longest * rng.uniform(-0.1, 0.1))  # a hand does not keep a level line
        parts.append(np.roll(big[:, cols[0] : cols[-1] + 1], dy, axis=0))  # margins: no wrap
    out, start = parts[0], 0
    for before, part in itertools.pairwise(parts):
        narrower = min(before.shape[1], part.shape[1])
        out, x = _join(out, part, round(narrower * rng.uniform(*GROUP_OVERLAP)))
        if x - start < GROUP_MIN_OFFSET * before.shape[1]:
            return None
        start = x
    if out.shape[1] < GROUP_MIN_WIDTH * max(p.shape[1] for p in parts):
        return None
    return _crop(out)


# --- 5. pieces of lines and boxes


def _lines(rng: np.random.Generator) -> Mask | None:
    """What line removal leaves of boxes and ruling: dashes, corners, junctions, arcs."""
    maker = (_dash, _corner, _junction, _plus, _bracket, _comb, _dashes, _arc, _slant)[
        int(rng.integers(9))
    ]
    mask = maker(rng)
    return _crop(_warp(mask, 0.0, rng.uniform(-3, 3)))  # a page is rarely quite level


def _bars(segments: Sequence[tuple[float, float, float, float]], rng: np.random.Generator) -> Mask:
    """Straight lines given as (x0, y0, x1, y1) in 0..1 of a square of random size."""
    size = _size(rng)
    pen = _pen(rng, size)
    canvas = np.zeros((size + 2 * pen + 1, size + 2 * pen + 1), np.uint8)
    for x0, y0, x1, y1 in segments:
        p0 = (pen + round(x0 * size), pen + round(y0 * size))
        p1 = (pen + round(x1 * size), pen + round(y1 * size))
        cv2.line(canvas, p0, p1, 255, pen, cv2.LINE_8)  # printed lines are crisp
    return canvas


def _dash(rng: np.random.Generator) -> Mask:
    """A dash or a piece of an underline, 2-5 times as long as thick.

    Longer ones never reach the classifier (``ScanConfig.max_aspect``).
    """
    length = _size(rng)
    thick = max(2, round(length / rng.uniform(2.0, _CONFIG.max_aspect)))
    mask = np.zeros((thick, length), np.uint8)
    mask[:] = 255
    return mask


def _corner(rng: np.random.Generator) -> Mask:
    """A box corner (an L in any of four turns); a 7-like one (top bar, side down) is flat."""
    a, b = rng.uniform(0.4, 1.0, 2)  # horizontal and vertical arm
    turn = int(rng.integers(4))
    if turn == 1:  # top bar with the side hanging at its right end: keep it low like a hook
        b = min(b, 0.5 * a)
    segments = {
        0: [(0, 0, 0, b), (0, b, a, b)],  # L
        1: [(0, 0, a, 0), (a, 0, a, b)],  # top-right corner
        2: [(0, 0, a, 0), (0, 0, 0, b)],  # top-left corner
        3: [(a, 0, a, b), (0, b, a, b)],  # bottom-right corner
    }[turn]
    return _bars(segments, rng)


def _junction(rng: np.random.Generator) -> Mask:
    """Where a box's side meets its top or bottom line: a T on its side or upside down."""
    turn = int(rng.integers(4))
    arm = rng.uniform(0.6, 1.0)
    # A long stem under a lying line is a T (a 7); a short one on a standing line, a 1's nub.
    stem = rng.uniform(0.15, 0.3) if turn < 2 else rng.uniform(0.4, 0.8)
    mid = arm / 2 + rng.uniform(-0.15, 0.15) * arm
    segments = {
        0: [(0, 0, arm, 0), (mid, 0, mid, stem)],  # T
        1: [(0, stem, arm, stem), (mid, 0, mid, stem)],  # upside-down T
        2: [(0, 0, 0, arm), (0, mid, stem, mid)],  # |-
        3: [(stem, 0, stem, arm), (0, mid, stem, mid)],  # -|
    }[turn]
    return _bars(segments, rng)


def _plus(rng: np.random.Generator) -> Mask:
    """Two lines crossing: a grid's crossing."""
    x, y = rng.uniform(0.3, 0.7, 2)
    return _bars([(0, y, 1, y), (x, 0, x, 1)], rng)


def _bracket(rng: np.random.Generator) -> Mask:
    """A box's side with a piece of its top and bottom lines on one side, as [ or ]."""
    stub = rng.uniform(0.3, 0.6)  # long enough not to be a 1's flag and foot
    if rng.random() < 0.5:
        return _bars([(0, 0, 0, 1), (0, 0, stub, 0), (0, 1, stub, 1)], rng)
    return _bars([(stub, 0, stub, 1), (0, 0, stub, 0), (0, 1, stub, 1)], rng)


def _comb(rng: np.random.Generator) -> Mask:
    """A comb box's base line with one or two short teeth rising from it."""
    tooth = rng.uniform(0.1, 0.35)
    base = 1.0
    segments = [(0, tooth, base, tooth)]
    xs = [rng.uniform(0.1, 0.9)] if rng.random() < 0.5 else [0.0, base]
    segments += [(x, 0, x, tooth) for x in xs]
    return _bars(segments, rng)


def _dashes(rng: np.random.Generator) -> Mask:
    """A piece of a dotted or dashed line: three to six marks in a row."""
    count = int(rng.integers(3, 7))
    mark = rng.uniform(0.3, 0.8)  # of the pitch
    pitch = 1.0 / count
    if rng.random() < 0.4:  # dots
        size = _size(rng)
        radius = max(1, round(size * pitch * mark / 2))
        out = np.zeros((2 * radius + 1, size + 2 * radius + 1), np.uint8)
        for i in range(count):
            cv2.circle(out, (radius + round(i * pitch * size), radius), radius, 255, -1)
        return out
    return _bars([(i * pitch, 0, i * pitch + mark * pitch, 0) for i in range(count)], rng)


def _arc(rng: np.random.Generator) -> Mask:
    """A short piece of a curved line, lying rather than standing (a standing one is a 1)."""
    sweep = np.deg2rad(rng.uniform(40, 140))
    start = np.deg2rad(rng.choice([90.0, 270.0])) - sweep / 2  # centred on the top or bottom
    t = np.linspace(start, start + sweep, 16)
    points = np.column_stack([np.cos(t), rng.uniform(0.4, 1.0) * np.sin(t)])
    size = _size(rng)
    return _draw_strokes([points], size, _pen(rng, size * 0.7))


def _slant(rng: np.random.Generator) -> Mask:
    """A straight line leaning at most 35 degrees from level (steeper ones are 1s)."""
    rise = math.tan(np.deg2rad(rng.uniform(5, 35))) * rng.choice([-1.0, 1.0])
    y0 = max(0.0, -rise)
    return _bars([(0, y0, 1, y0 + rise)], rng)


# --- 6. texture

#: Pattern periods as fractions of the patch's longest side: finer patterns merge into a
#: solid block once the pen width is evened to ~13% of the blob (as the pipeline does).
TEXTURE_PERIOD = (0.18, 0.4)
#: Chance that a texture sample is the patch's largest blob rather than the whole patch.
P_LARGEST_BLOB = 0.6


def _texture(rng: np.random.Generator) -> Mask | None:
    """A thresholded patch of wood grain, guilloche, fibres, hatching, halftone or mottle."""
    h, w = _size(rng), _size(rng)
    pattern = (_wood, _guilloche, _fibres, _hatch, _halftone, _mottle)[int(rng.integers(6))]
    period = max(h, w) * rng.uniform(*TEXTURE_PERIOD)
    dark = pattern(h, w, period, rng)  # 0..1, 1 = dark (ink)
    mask = np.where(dark >= 0.5, 255, 0).astype(np.uint8)
    if rng.random() < P_LARGEST_BLOB:
        mask = _largest_blob(mask)
    return _crop(mask)


def _largest_blob(mask: Mask) -> Mask:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count <= 1:
        return mask
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    return np.where(labels == biggest, 255, 0).astype(np.uint8)


def _smooth_noise(h: int, w: int, sigma: float, rng: np.random.Generator) -> NDArray[np.float32]:
    """Gaussian-smoothed noise scaled to -1..1."""
    noise = cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), sigma)
    return noise / max(float(np.abs(noise).max()), 1e-6)


def _grid(h: int, w: int, angle: float) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Pixel coordinates turned by ``angle`` (radians): along and across."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    c, s = math.cos(angle), math.sin(angle)
    return x * c + y * s, -x * s + y * c


def _wood(h: int, w: int, period: float, rng: np.random.Generator) -> NDArray[np.float32]:
    """Wood grain: long bands bent by smooth noise, with knots of darker noise."""
    _, across = _grid(h, w, rng.uniform(-0.4, 0.4))  # grain runs roughly along the patch
    # The bands wander by up to a period, over distances of about a period.
    bend = _smooth_noise(h, w, period * rng.uniform(0.5, 1.0), rng) * period * rng.uniform(0.3, 1)
    bands = np.sin(2 * np.pi * (across + bend) / period)
    return 0.5 + 0.5 * bands + 0.25 * _smooth_noise(h, w, period * 0.15, rng)


def _guilloche(h: int, w: int, period: float, rng: np.random.Generator) -> NDArray[np.float32]:
    """Guilloche: a few overlapping sine curves or a spirograph's loops, as on a cheque."""
    canvas = np.zeros((h, w), np.uint8)
    pen = max(1, round(period * rng.uniform(0.1, 0.25)))
    t = np.linspace(0, 1, 120)
    if rng.random() < 0.6:
        for _ in range(int(rng.integers(2, 5))):
            cycles = w / period * rng.uniform(0.5, 1.0)
            ys = h * (0.5 + 0.4 * np.sin(2 * np.pi * (cycles * t + rng.random())))
            pts = np.column_stack([t * w, ys])
            cv2.polylines(canvas, [pts.astype(np.int32)], False, 255, pen, cv2.LINE_AA)
    else:  # a hypotrochoid's loops round a centre
        # Ring radius, rolling circle's radius and pen arm: the usual spirograph ranges.
        big, small, arm = rng.uniform(3, 7), rng.uniform(0.5, 2.5), rng.uniform(0.5, 2.0)
        a = 2 * np.pi * rng.uniform(1, 3) * t
        xs = (big - small) * np.cos(a) + arm * np.cos((big - small) / small * a)
        ys = (big - small) * np.sin(a) - arm * np.sin((big - small) / small * a)
        span = big - small + arm
        pts = np.column_stack([(xs / span + 1) * w / 2, (ys / span + 1) * h / 2])
        cv2.polylines(canvas, [pts.astype(np.int32)], False, 255, pen, cv2.LINE_AA)
    return canvas.astype(np.float32) / 255


def _fibres(h: int, w: int, period: float, rng: np.random.Generator) -> NDArray[np.float32]:
    """Paper fibres: a few bent hairs crossing each other."""
    canvas = np.zeros((h, w), np.uint8)
    pen = max(1, round(period * rng.uniform(0.1, 0.2)))
    for _ in range(int(rng.integers(3, 8))):
        start = rng.uniform(0, [w, h])
        heading = rng.normal(0, 1, 2)
        heading *= period / max(float(np.hypot(*heading)), 1e-6)
        steps = np.cumsum(heading + rng.normal(0, period * 0.3, (4, 2)), axis=0)
        pts = _spline(np.vstack([start, start + steps]))
        cv2.polylines(canvas, [pts.astype(np.int32)], False, 255, pen, cv2.LINE_AA)
    return canvas.astype(np.float32) / 255


def _hatch(h: int, w: int, period: float, rng: np.random.Generator) -> NDArray[np.float32]:
    """Hatching: parallel lines, sometimes crossed by a second set."""
    out = np.zeros((h, w), np.float32)
    for _ in range(1 if rng.random() < 0.5 else 2):
        along, _ = _grid(h, w, rng.uniform(0, np.pi))
        duty = rng.uniform(0.15, 0.4)  # of the period that is ink
        out = np.maximum(out, ((along / period) % 1.0 < duty).astype(np.float32))
    return out


def _halftone(h: int, w: int, period: float, rng: np.random.Generator) -> NDArray[np.float32]:
    """Halftone dots on a turned grid, growing along a gradient until they merge."""
    u, v = _grid(h, w, rng.uniform(0, np.pi / 2))
    u, v = u / period, v / period
    dist = np.hypot(u - np.round(u), v - np.round(v))  # 0 at dot centres, ~0.7 between
    ramp = np.linspace(0, 1, w, dtype=np.float32)[None, :]
    radius = rng.uniform(0.2, 0.4) + rng.uniform(0, 0.3) * ramp  # dots touch from 0.5
    return (dist < radius).astype(np.float32)


def _mottle(h: int, w: int, period: float, rng: np.random.Generator) -> NDArray[np.float32]:
    """Blotchy noise (a dark, uneven surface such as a desk or a shadowed fold)."""
    return 0.5 + 0.6 * _smooth_noise(h, w, period * 0.3, rng)


# --- 7. specks and blobs


def _specks(rng: np.random.Generator) -> Mask | None:
    """A few dots, a comma, an ink blot, a cluster of specks or a smudge."""
    maker = (_dots, _comma, _blot, _cluster, _smudge)[int(rng.integers(5))]
    return _crop(maker(rng))


def _dots(rng: np.random.Generator) -> Mask:
    """Two to five dots near each other (a colon, an ellipsis, stray specks)."""
    size = _size(rng)
    canvas = np.zeros((size, size), np.uint8)
    radius = max(2, round(size * rng.uniform(0.06, 0.14)))  # pen dots, fine to felt-tip
    for _ in range(int(rng.integers(2, 6))):
        centre = rng.integers(radius, size - radius, 2)
        cv2.circle(canvas, (int(centre[0]), int(centre[1])), radius, 255, -1, cv2.LINE_AA)
    return canvas


def _comma(rng: np.random.Generator) -> Mask:
    """A comma: a round head and a short pointed tail down to the left.

    A long, thin tail would make a 9 with its loop filled in.
    """
    size = _size(rng)
    r = size * rng.uniform(0.25, 0.35)
    tail = r * rng.uniform(0.6, 1.2)
    cx, cy = size / 2, r + 1
    tip = (cx - r * rng.uniform(0.2, 0.8), cy + r + tail)
    outline = np.array([(cx + r, cy), (cx + 0.8 * r, cy + 0.9 * r), tip, (cx - 0.2 * r, cy + r)])
    canvas = np.zeros((size, size), np.uint8)
    cv2.circle(canvas, (round(cx), round(cy)), round(r), 255, -1, cv2.LINE_AA)
    cv2.fillPoly(canvas, [np.round(outline).astype(np.int32)], 255, cv2.LINE_AA)
    return canvas


def _blot(rng: np.random.Generator) -> Mask:
    """A filled irregular blot (a drop of ink)."""
    size = _size(rng)
    angles = np.sort(rng.uniform(0, 2 * np.pi, int(rng.integers(6, 12))))
    radii = size / 2 * rng.uniform(0.55, 1.0, angles.size)  # lumpy, never star-shaped
    aspect = rng.uniform(0.5, 1.0)  # round to flattened
    pts = np.column_stack([np.cos(angles) * radii, aspect * np.sin(angles) * radii])
    pts = _spline(np.vstack([pts, pts[:1]])) + size / 2
    canvas = np.zeros((size + 1, size + 1), np.uint8)
    cv2.fillPoly(canvas, [pts.astype(np.int32)], 255, cv2.LINE_AA)
    return canvas


def _cluster(rng: np.random.Generator) -> Mask:
    """Many tiny specks close together, some touching."""
    size = _size(rng)
    canvas = np.zeros((size, size), np.uint8)
    # 8-24 specks, most within a third of the box from its centre.
    centre = rng.normal(size / 2, size / 6, (int(rng.integers(8, 25)), 2)).clip(2, size - 3)
    for cx, cy in centre:
        r = max(1, round(size * rng.uniform(0.02, 0.07)))
        cv2.circle(canvas, (round(cx), round(cy)), r, 255, -1)
    return canvas


def _smudge(rng: np.random.Generator) -> Mask:
    """A smudge: blurred noise in a soft-edged blob, thresholded (ragged, with holes)."""
    size = _size(rng)
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    cy, cx = size / 2, size / 2
    a, b = size / 2 * rng.uniform(0.5, 1.0), size / 2 * rng.uniform(0.3, 1.0)  # half-axes
    envelope = 1 - ((x - cx) / a) ** 2 - ((y - cy) / b) ** 2
    # Noise strong enough to fray the edge and open holes, as a rubbed-in smear has.
    dark = envelope + 0.6 * _smooth_noise(size, size, rng.uniform(1, 3), rng)
    return np.where(dark > 0.3, 255, 0).astype(np.uint8)
