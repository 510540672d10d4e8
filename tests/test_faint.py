"""Faint strokes round a candidate: found with a lenient threshold of its own, or left out."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

import digitscan
from digitscan import faint
from digitscan.config import ScanConfig
from digitscan.pipeline import make_page, segment_page
from digitscan.types import BBox, Candidate

RESOURCES = Path(__file__).parent / "resources"
PAPER, INK = 245, 60


def candidate(ink: np.ndarray, box: BBox) -> Candidate:
    x, y, w, h = box
    return Candidate(box, ink[y : y + h, x : x + w].copy())


def seven(bar_tone: int) -> tuple[np.ndarray, np.ndarray, Candidate]:
    """A flattened page with a 7 whose bar has ``bar_tone``; the ink mask holds its stem only."""
    flat = np.full((200, 200), PAPER, np.uint8)
    cv2.line(flat, (85, 60), (130, 60), bar_tone, 5)
    cv2.line(flat, (130, 60), (95, 150), INK, 5)
    ink = np.where(flat <= INK + 10, np.uint8(255), np.uint8(0))
    ys, xs = np.nonzero(ink)
    box = BBox(int(xs.min()), int(ys.min()), int(np.ptp(xs)) + 1, int(np.ptp(ys)) + 1)
    return flat, ink, candidate(ink, box)


def test_a_faint_bar_joined_to_the_stem_is_added() -> None:
    flat, ink, stem = seven(bar_tone=150)
    grown = faint.with_faint_strokes(stem, flat, ink, np.zeros_like(ink))
    assert grown is not None
    assert grown.bbox.x <= 85 < stem.bbox.x  # the bar reaches left of the stem
    assert grown.bbox.y <= 59 and grown.mask.sum() > 1.3 * stem.mask.sum()


def test_paper_tone_and_halos_add_nothing() -> None:
    flat, ink, stem = seven(bar_tone=PAPER - 10)  # barely darker than the paper
    assert faint.with_faint_strokes(stem, flat, ink, np.zeros_like(ink)) is None
    blurred = cv2.GaussianBlur(np.where(ink > 0, INK, PAPER).astype(np.uint8), (0, 0), 1.5)
    halo_only = faint.with_faint_strokes(stem, blurred, ink, np.zeros_like(ink))
    assert halo_only is None  # the blur round the stem is not a stroke


def test_lines_and_neighbours_are_kept_out() -> None:
    flat, ink, stem = seven(bar_tone=150)
    # The bar is a stretch of a faint printed line that runs on across the page.
    ruled = flat.copy()
    cv2.line(ruled, (0, 60), (199, 60), 150, 5)
    cv2.line(ruled, (130, 60), (95, 150), INK, 5)
    assert faint.with_faint_strokes(stem, ruled, ink, np.zeros_like(ink)) is None
    # The same bar, found as a printed line by the page stage: left out.
    lines = np.zeros_like(ink)
    cv2.line(lines, (80, 60), (128, 60), 255, 5)
    assert faint.with_faint_strokes(stem, flat, ink, lines) is None
    # Another blob's ink at the bar's end: the bar stops short of it.
    ink[50:70, 78:81] = 255
    near = faint.with_faint_strokes(stem, flat, ink, np.zeros_like(ink))
    assert near is not None and near.bbox.x > 81


def test_hollow_felt_pen_stroke_is_filled_and_read() -> None:
    # A fat felt-pen 3 on a sticky note, as wide as the threshold's window: its middle is
    # no darker than its surroundings, so the threshold leaves it hollow (read as an 8).
    # At the page-sized working resolution (1200 px, not scaled by its text's height), where
    # the stroke is as wide as the threshold's window; the photo reads "532" either way.
    path = RESOURCES / "hollow-felt-3.jpg"
    config = ScanConfig(text_height_px=0)
    images, _, _, strings, _ = segment_page(make_page(cv2.imread(str(path)), config), config)
    three = strings[0][1]
    grown = faint.with_faint_strokes(three, images["flat"], images["binary"], images["lines"])
    assert grown is not None and grown.bbox == three.bbox
    x, y, w, h = three.bbox
    dark = images["flat"][y : y + h, x : x + w] < 100  # the felt pen's ink, as photographed
    assert (three.mask[dark] > 0).mean() < 0.8 < 0.9 < (grown.mask[dark] > 0).mean()
    assert digitscan.read(path).text == "532"


def test_a_dark_slit_inside_a_stroke_is_filled_and_a_grey_one_is_not() -> None:
    # A felt-pen 1 the threshold left hollow: a slit 3 px wide, as dark as the ink, inside
    # it (too narrow to reach past the halo); and a 0 as narrow, its loop blurred grey.
    flat = np.full((200, 300), PAPER, np.uint8)
    cv2.rectangle(flat, (60, 50), (75, 150), INK, cv2.FILLED)
    cv2.ellipse(flat, (200, 100), (11, 40), 0, 0, 360, 150, cv2.FILLED)
    cv2.ellipse(flat, (200, 100), (11, 40), 0, 0, 360, INK, 18)
    ink = np.where(flat <= INK + 10, np.uint8(255), np.uint8(0))
    ink[60:140, 66:69] = 0  # the slit, tone INK in the photo, missing from the ink mask
    one = candidate(ink, BBox(60, 50, 16, 101))
    grown = faint.with_faint_strokes(one, flat, ink, np.zeros_like(ink))
    assert grown is not None and grown.bbox == one.bbox
    assert grown.mask[10:90, 6:9].all()
    ys, xs = np.nonzero(ink[:, 150:])
    zero = candidate(
        ink, BBox(150 + int(xs.min()), int(ys.min()), int(np.ptp(xs)) + 1, int(np.ptp(ys)) + 1)
    )
    assert (zero.mask == 0).sum() > 100  # a loop
    assert faint.with_faint_strokes(zero, flat, ink, np.zeros_like(ink)) is None
