from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from digitscan import preprocess
from digitscan.config import ScanConfig

RESOURCES = Path(__file__).parent / "resources"


def page_with_stroke(seed: int, shadow: float = 0.0) -> np.ndarray:
    """A 300x400 grey page with a thick dark 'digit' stroke and an optional shadow gradient."""
    rng = np.random.default_rng(seed)
    page = np.full((300, 400), 230, np.float32) + rng.normal(0, 3, (300, 400))
    cv2.line(page, (150, 80), (200, 220), 40, 6)
    if shadow:
        page *= np.linspace(1.0, 1.0 - shadow, 400)[None, :]
    return np.clip(page, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("seed", range(5))
def test_binarize_is_binary_and_pure(seed: int) -> None:
    gray = page_with_stroke(seed, shadow=0.5)
    before = gray.copy()
    images, _ = preprocess.prepare(gray, ScanConfig())
    np.testing.assert_array_equal(gray, before)
    for name in ("binary", "lines", "ink"):
        assert set(np.unique(images[name])) <= {0, 255}, name


def test_flatten_removes_a_shadow() -> None:
    gray = page_with_stroke(0, shadow=0.55)
    flat = preprocess.flatten_illumination(gray, preprocess.estimate_background(gray, 64)[0])
    paper_left, paper_right = flat[20:60, 10:60].mean(), flat[20:60, 340:390].mean()
    assert gray[20:60, 340:390].mean() < 0.6 * gray[20:60, 10:60].mean()  # the shadow is real
    assert abs(paper_left - paper_right) < 12  # ...and gone after flattening
    assert flat[150, 175] < 120  # the ink stays dark


def test_shadowed_page_gives_only_the_stroke() -> None:
    images, _ = preprocess.prepare(page_with_stroke(1, shadow=0.55), ScanConfig())
    count, _, stats, _ = cv2.connectedComponentsWithStats(images["ink"])
    big = [s for s in stats[1:] if s[4] > 20]
    assert len(big) == 1
    x, y, w, h, _ = big[0]
    assert 140 <= x <= 150 and 75 <= y <= 80 and 55 <= w <= 65 and 140 <= h <= 150


def test_blank_page_has_no_ink() -> None:
    rng = np.random.default_rng(0)
    gray = np.clip(235 + rng.normal(0, 4, (480, 640)), 0, 255).astype(np.uint8)
    images, skew = preprocess.prepare(gray, ScanConfig())
    assert not images["ink"].any() and skew == 0


def ruled_page(angle_deg: float) -> np.ndarray:
    page = np.full((600, 800), 235, np.uint8)
    for y in range(60, 600, 60):
        cv2.line(page, (0, y), (800, y), 150, 2)
    # A digit-like stroke crossing the line at y=300.
    cv2.line(page, (400, 260), (405, 340), 30, 5)
    matrix = cv2.getRotationMatrix2D((400, 300), -angle_deg, 1.0)
    return cv2.warpAffine(page, matrix, (800, 600), borderValue=235)


@pytest.mark.parametrize("angle", [-25.0, -14.0, -6.0, -2.5, 0.0, 1.0, 4.0, 12.0, 22.0])
def test_skew_is_measured(angle: float) -> None:
    gray = ruled_page(angle)
    binary = cv2.threshold(gray, 200, 255, cv2.THRESH_BINARY_INV)[1]
    assert preprocess.estimate_skew_deg(binary, 200) == pytest.approx(angle, abs=0.35)


@pytest.mark.parametrize("angle", [0.0, 3.0])
def test_lines_removed_strokes_kept(angle: float) -> None:
    images, _ = preprocess.prepare(ruled_page(angle), ScanConfig(max_side_px=800))
    count, _, stats, _ = cv2.connectedComponentsWithStats(images["ink"])
    big = [s for s in stats[1:] if s[4] > 30]
    assert len(big) == 1, big  # every ruled line gone; the stroke is one piece
    x, y, w, h, _ = big[0]
    assert 70 <= h <= 90  # whole: not cut where it crosses the line


def comb_row(top: int, bottom: int) -> np.ndarray:
    """A binary page with a row of six comb boxes, 60 px wide from x=100, lines 2 px."""
    page = np.zeros((220, 600), np.uint8)
    for x in range(100, 461, 60):
        cv2.line(page, (x, top), (x, bottom), 255, 2)
    cv2.line(page, (100, top), (460, top), 255, 2)
    cv2.line(page, (100, bottom), (460, bottom), 255, 2)
    return page


def test_comb_box_separators_are_lines() -> None:
    page = comb_row(60, 140)
    cv2.line(page, (130, 75), (130, 125), 255, 6)  # a thick '1' inside a box: not a line
    lines = preprocess.find_lines(page, 96, 6)
    assert lines[100, 220] == 255 and lines[60, 300] == 255  # separator and border found
    assert lines[100, 130] == 0


def test_a_separator_a_digit_touches_is_still_a_line() -> None:
    page = comb_row(50, 150)
    # A digit's upright stroke written against the side at x=220 for a third of its height.
    cv2.line(page, (224, 85), (224, 120), 255, 5)
    lines = preprocess.find_lines(page, 96, 6)
    # Above and below the stroke the side is a line (not left behind as a 1) ...
    assert lines[60, 220] == 255 and lines[140, 220] == 255
    # ... and where the stroke runs along it, the stroke keeps its ink.
    assert lines[100, 224] == 0 and page[100, 224] == 255


def test_a_bar_drawn_just_under_a_box_line_is_not_line(monkeypatch) -> None:
    page = comb_row(50, 150)
    # A 7 in the first box, its bar three pixels under the box's top line.
    cv2.line(page, (108, 57), (150, 57), 255, 4)
    cv2.line(page, (150, 57), (128, 140), 255, 4)
    lines = preprocess.find_lines(page, 96, 6)
    assert lines[50, 300] == 255 and lines[50, 130] == 255  # the box's top line
    assert not lines[56:59, 115:145].any()  # the 7's bar
    monkeypatch.setattr(preprocess, "_drop_parallel_pieces", lambda lines, *args: lines)
    # (The bar and the box's top, bridged, are also two tall glyphs' tops in a short run,
    # and a piece thicker than the line it lies beside.)
    monkeypatch.setattr(preprocess, "_drop_aligned_strokes", lambda level, *args: level)
    monkeypatch.setattr(preprocess, "_drop_strokes_along", lambda level, *args: level)
    assert preprocess.find_lines(page, 96, 6)[56:59, 115:145].any()


def test_a_straight_one_filling_its_box_is_not_a_separator(monkeypatch) -> None:
    page = comb_row(50, 150)
    cv2.line(page, (250, 55), (250, 145), 255, 2)  # a 1 in the third box, nearly line to line
    lines = preprocess.find_lines(page, 96, 6)
    assert lines[100, 220] == 255 and lines[100, 280] == 255  # the box's sides
    assert not lines[60:140, 245:256].any()
    monkeypatch.setattr(preprocess, "_evenly_spaced", lambda found: found)
    assert preprocess.find_lines(page, 96, 6)[60:140, 245:256].any()


def test_a_side_with_a_straight_stroke_close_on_either_hand_is_a_separator(monkeypatch) -> None:
    page = comb_row(50, 150)
    # Straight upright strokes, line to line, in the boxes either side of the side at x=280
    # (a 5's back and an 8's side, say): the side is crowded on both hands, yet on the pitch.
    cv2.line(page, (262, 53), (262, 147), 255, 3)
    cv2.line(page, (296, 53), (296, 147), 255, 3)
    lines = preprocess.find_lines(page, 96, 6)
    assert lines[60:140, 279:282].any(axis=1).all()  # the side, all the way down
    assert not lines[60:140, 259:266].any() and not lines[60:140, 293:300].any()
    monkeypatch.setattr(preprocess, "_LATTICE_SUPPORT", 10.0)  # crowded sides dropped
    assert not preprocess.find_lines(page, 96, 6)[60:140, 279:282].any(axis=1).all()


def test_a_thick_margin_line_across_the_page_is_a_line() -> None:
    page = np.zeros((600, 800), np.uint8)
    for y in range(40, 600, 60):
        cv2.line(page, (20, y), (780, y), 255, 2)  # blue ruling
    cv2.line(page, (100, 20), (108, 580), 255, 8)  # a red margin, thick and a little tilted
    cv2.line(page, (400, 130), (400, 290), 255, 8)  # a tall felt-pen 1 as thick
    lines = preprocess.find_lines(page, 96, 6)
    assert lines[70:550:30, 98:112].any(axis=1).all()  # the margin, all the way down
    assert not lines[165:215, 395:406].any() and not lines[225:275, 395:406].any()


def test_thick_box_lines_of_a_form_photographed_close_up_are_lines() -> None:
    page = np.zeros((400, 1200), np.uint8)
    for x in range(300, 901, 100):
        cv2.line(page, (x, 100), (x, 200), 255, 8)
    cv2.line(page, (300, 100), (900, 100), 255, 8)
    cv2.line(page, (300, 200), (900, 200), 255, 8)
    cv2.line(page, (350, 130), (350, 170), 255, 8)  # a felt-pen 1 in the first box
    lines = preprocess.find_lines(page, 72, 6)
    assert lines[100, 620] and lines[200, 450]  # the boxes' top and bottom
    assert lines[150, 500] and lines[150, 800]  # their sides
    assert not lines[130:170, 345:356].any()


def test_box_lines_thick_in_stretches_are_lines_all_along() -> None:
    # A real comb row from a form photographed close up, a little tilted: its lower line is
    # about as thick as a pen in stretches, so the thin-line search breaks it into pieces
    # each too short to be a line, and on average it is thinner than a thick printed line.
    crop = cv2.imread(str(RESOURCES / "comb-close-up.png"), cv2.IMREAD_GRAYSCALE)
    page = np.zeros((1600, 1200), np.uint8)
    page[420:620, 320:880] = crop
    lines = preprocess.find_lines(page, 96, 6)[420:620, 320:880]
    assert lines[100:, 80:520].any(axis=0).mean() > 0.9  # the lower line
    assert lines[:100, 80:520].any(axis=0).mean() > 0.9  # the upper line
    assert not lines[85:125, 250:285].any()  # the 3 in the third box


def test_a_dashed_box_side_is_a_border() -> None:
    lines = np.zeros((200, 200), np.uint8)
    for y in range(40, 160, 12):
        lines[y : y + 8, 50:53] = 255  # a faint box side, binarised as dashes
    lines[40:60, 150:153] = 255  # an upright piece shorter than a third of a line
    borders = preprocess.find_borders(lines, 72)
    assert borders[42:154, 50:53].any(axis=1).all()
    assert not borders[:, 140:160].any()


def test_a_bar_along_a_thin_ruled_line_is_not_a_thick_line(monkeypatch) -> None:
    page = np.zeros((400, 1200), np.uint8)
    # Ruling across the page, faded where a felt-pen 7's bar is drawn right against it.
    cv2.line(page, (0, 100), (497, 100), 255, 2)
    cv2.line(page, (548, 100), (1199, 100), 255, 2)
    cv2.rectangle(page, (500, 102), (545, 111), 255, -1)
    cv2.line(page, (545, 112), (520, 190), 255, 9)
    lines = preprocess.find_lines(page, 72, 6)
    assert lines[100, 200] and lines[100, 900]
    assert not lines[104:110, 505:540].any()
    # The ruling and the bar together span the page and are thick where the bar is (and,
    # were they counted as a line, thicker there than the line itself).
    monkeypatch.setattr(preprocess, "_drop_strokes_along", lambda level, *args: level)
    spanning = preprocess._spanning
    monkeypatch.setattr(
        preprocess, "_spanning", lambda runs, span, axis, *_: spanning(runs, span, axis)
    )
    assert preprocess.find_lines(page, 72, 6)[104:110, 505:540].any()


def ruled_page_with_a_seven(bar_from: tuple[int, int], bar_to: tuple[int, int]) -> np.ndarray:
    """Thin ruling across a page and a thin-pen 7 whose bar follows the line at y=100."""
    page = np.zeros((400, 1200), np.uint8)
    cv2.line(page, (0, 100), (1199, 100), 255, 2)
    cv2.line(page, bar_from, bar_to, 255, 3)
    cv2.line(page, bar_to, (520, 180), 255, 3)
    return page


@pytest.mark.parametrize(
    ("bar_from", "bar_to"),
    [((500, 102), (545, 102)), ((500, 102), (545, 104))],
    ids=["on the line", "leaving it"],
)
def test_a_bar_written_along_a_ruled_line_stays_ink(monkeypatch, bar_from, bar_to) -> None:
    # Line and bar together are no thicker than a printed line may be (6 px).
    page = ruled_page_with_a_seven(bar_from, bar_to)
    lines = preprocess.find_lines(page, 72, 6)
    assert lines[100, 200] and lines[100, 900]  # the ruling
    assert not lines[103, 505:540].any()  # the bar, below the line's rows
    monkeypatch.setattr(preprocess, "_drop_strokes_along", lambda level, *args: level)
    assert preprocess.find_lines(page, 72, 6)[103, 505:540].any()


def test_a_flat_top_just_under_a_faint_ruled_line_stays_ink(monkeypatch) -> None:
    # A real pencil "7979" on ruled paper: the first 9's flat top runs just under the upper
    # line, touching it, as thick as it: a piece of the line's structure lying alongside it.
    crop = cv2.imread(str(RESOURCES / "nine-on-ruling.png"), cv2.IMREAD_GRAYSCALE)
    page = np.zeros((1200, 1600), np.uint8)
    page[500:610, 500:950] = crop
    lines = preprocess.find_lines(page, 72, 6)[500:610, 500:950]
    assert (lines[98:101] > 0).mean() > 0.9  # the lower line
    assert (lines[21:28, 200:260] > 0).any(axis=0).mean() > 0.5  # the upper one, faint
    assert not lines[28:33, 148:182].any()  # the 9's top
    monkeypatch.setattr(preprocess, "_ALONG_OVERLAP", 2.0)
    assert (preprocess.find_lines(page, 72, 6)[528:533, 648:682] > 0).mean() > 0.5


def test_level_tops_of_two_written_digits_are_not_a_line(monkeypatch) -> None:
    page = np.zeros((300, 700), np.uint8)
    # A 5 and a 7 written with their bars level, 6 px apart: bridged, they span 86 px.
    cv2.polylines(
        page,
        [np.array([(140, 100), (100, 100), (100, 140), (140, 160), (100, 190)])],
        False,
        255,
        4,
    )
    cv2.polylines(page, [np.array([(146, 100), (186, 100), (160, 190)])], False, 255, 4)
    # A short printed line on its own, and one printed in dashes that two digits touch.
    cv2.line(page, (300, 250), (390, 250), 255, 2)
    for x in range(480, 580, 20):
        cv2.line(page, (x, 60), (x + 14, 60), 255, 2)
    cv2.line(page, (470, 60), (470, 120), 255, 4)
    cv2.line(page, (582, 60), (582, 120), 255, 4)
    lines = preprocess.find_lines(page, 72, 6)
    assert not lines[98:103, 105:185].any()  # the bars stay ink
    assert lines[250, 320:380].all() and lines[60, 500:510].all()
    monkeypatch.setattr(preprocess, "_drop_aligned_strokes", lambda level, *args: level)
    assert preprocess.find_lines(page, 72, 6)[98:103, 150:180].any()


def test_resize_to_working() -> None:
    image = np.zeros((3000, 4000, 3), np.uint8)
    small, scale = preprocess.resize_to_working(image, 1600)
    assert small.shape == (1200, 1600, 3) and scale == pytest.approx(2.5)
    same, one = preprocess.resize_to_working(image[:100, :100], 1600)
    assert same.shape == (100, 100, 3) and one == 1.0


def test_to_gray_keeps_blue_ink_dark_and_yellow_paper_light() -> None:
    image = np.array([[[150, 60, 20], [120, 235, 250]]], np.uint8)
    gray = preprocess.to_gray(image)
    assert gray[0, 0] < 60 and gray[0, 1] > 150


def test_a_felt_pen_stroke_wider_than_the_threshold_window_is_filled() -> None:
    # A big felt-pen 0 and 1 on a note: strokes 45 px wide, wider than the adaptive
    # threshold's window. The insides of the strokes are ink; the 0's loop stays paper.
    rng = np.random.default_rng(0)
    page = np.full((1200, 1600), 225, np.float32) + rng.normal(0, 2, (1200, 1600))
    cv2.ellipse(page, (600, 600), (150, 230), 0, 0, 360, 45, 45)
    cv2.line(page, (1000, 380), (1020, 830), 45, 45)
    gray = np.clip(page, 0, 255).astype(np.uint8)
    config = ScanConfig(deskew=False)  # probed at the drawn pixels: the page not turned
    block = max(3, round(config.threshold_block_frac * 1600) | 1)
    assert block < 45  # the premise: the window is narrower than the strokes
    ink = preprocess.prepare(gray, config)[0]["binary"]
    assert ink[600, 600 - 150] == 255 and ink[605, 1010] == 255  # inside the strokes
    assert ink[600, 600] == 0  # the 0's loop
    flat = preprocess.flatten_illumination(gray, preprocess.estimate_background(gray, 161, 0.5)[0])
    hollow = cv2.adaptiveThreshold(
        flat, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, 12
    )
    assert hollow[605, 1010] == 0  # without the filling, the stroke would be an outline


def test_a_felt_pen_digit_drawn_as_one_blob_is_filled(monkeypatch) -> None:
    # A felt-pen 8 so wide its loops shut to two small eyes: one round blob, several
    # threshold windows across, whose inside the threshold leaves hollow. The eyes stay paper.
    rng = np.random.default_rng(2)
    page = np.full((1200, 1600), 235, np.float32) + rng.normal(0, 2, (1200, 1600))
    cv2.ellipse(page, (600, 600), (90, 110), 0, 0, 360, 50, -1)
    cv2.ellipse(page, (600, 550), (10, 6), 0, 0, 360, 235, -1)
    cv2.ellipse(page, (590, 650), (12, 7), 0, 0, 360, 235, -1)
    gray = np.clip(page, 0, 255).astype(np.uint8)
    config = ScanConfig(deskew=False)

    def binary():
        return preprocess.prepare(gray, config)[0]["binary"]

    ink = binary()
    assert ink[600, 560] == 255 and ink[680, 640] == 255  # inside the blob, off the eyes
    assert ink[550, 600] == 0 and ink[650, 590] == 0  # the eyes
    monkeypatch.setattr(preprocess, "_HOLE_BLOB_BLOCKS", 1e9)
    assert binary()[600, 560] == 0  # round: without the size rule, left hollow


def test_pinholes_in_a_wide_stroke_are_filled_and_loops_are_not(monkeypatch) -> None:
    rng = np.random.default_rng(1)
    flat = np.clip(np.full((300, 400), 235.0) + rng.normal(0, 2, (300, 400)), 0, 255)
    flat = flat.astype(np.uint8)
    ink = np.zeros_like(flat)
    # A felt-pen 1, 24 px wide, that the threshold left with specks of "paper" down its
    # middle (as dark as the stroke), ...
    cv2.line(ink, (60, 50), (90, 250), 255, 24)
    cv2.line(flat, (60, 50), (90, 250), 60, 24)
    specks = [(70, 110), (73, 130), (76, 150), (72, 122)]
    for x, y in specks:
        ink[y : y + 2, x : x + 2] = 0
    # ... a felt-pen 0 whose loop a wide pen squeezed to 8 px (paper inside), ...
    cv2.circle(ink, (200, 150), 14, 255, 20)
    cv2.circle(flat, (200, 150), 14, 60, 20)
    # ... and a thin-pen loop blurred as dark as the ink.
    cv2.circle(ink, (320, 150), 4, 255, 2)
    cv2.circle(flat, (320, 150), 5, 60, -1)
    filled = preprocess.fill_pinholes(ink, flat, 32)
    assert all(filled[y : y + 2, x : x + 2].all() for x, y in specks)
    assert filled[150, 200] == 0 and filled[150, 320] == 0
    assert (filled != ink).sum() == 4 * len(specks)  # nothing else changed
    # The loops are told apart by their tone and their depth in the stroke.
    monkeypatch.setattr(preprocess, "_PINHOLE_TONE_MARGIN", 1.0)
    assert preprocess.fill_pinholes(ink, flat, 32)[150, 200] == 255
    monkeypatch.setattr(preprocess, "_PINHOLE_DEPTH", 0.0)
    monkeypatch.setattr(preprocess, "_PINHOLE_MIN_DEPTH_PX", 0.0)
    assert preprocess.fill_pinholes(ink, flat, 32)[150, 320] == 255


def test_a_shadow_joins_the_paper_and_a_desk_touching_it_in_one_place_does_not() -> None:
    # Brightness at 1/4 resolution: paper at 200 in the middle. Right of it a shadow fades
    # from the paper's level smoothly. Left of it a desk, as smooth in itself, meets the paper
    # in a sharp step, except where a brighter streak rises from it to the paper's level.
    closed = np.full((60, 90), 200, np.uint8)
    closed[:, 60:] = np.linspace(199, 150, 30).round().astype(np.uint8)  # the shadow
    closed[:, :30] = 150  # the desk
    closed[25:31, :30] = np.linspace(150, 199, 30).round().astype(np.uint8)  # the streak
    bright = 200.0
    paper = np.where(closed >= 0.9 * bright, np.uint8(255), np.uint8(0))
    assert not paper[:, 80:].any() and not paper[:, :10].any()  # the premise
    grown = preprocess._grow_into_shadows(closed, paper, bright)
    assert grown[:, 30:].all()  # the paper and its shadow
    assert not grown[:25, :30].any() and not grown[31:, :30].any()  # not the desk


def test_levelling_keeps_the_corners_and_boxes_map_back() -> None:
    # A page levelled by 20 degrees grows to hold its corners; a box found on the levelled
    # page maps back onto the same ink in the original.
    from digitscan.pipeline import box_mapper
    from digitscan.types import BBox, Page

    image = np.zeros((300, 400), np.uint8)
    cv2.rectangle(image, (370, 270), (390, 290), 255, -1)  # ink in the bottom-right corner
    levelled = preprocess.rotate(image, 20.0)
    assert levelled.shape[0] > 300 and levelled.shape[1] > 400
    assert np.count_nonzero(levelled) == pytest.approx(np.count_nonzero(image), rel=0.1)
    x, y, w, h = cv2.boundingRect(levelled)
    page = Page(
        source=None, image=np.zeros((300, 400, 3), np.uint8), scale=1.0, original_size=(400, 300)
    )
    back = box_mapper(page, 20.0)(BBox(x, y, w, h))
    assert back.x <= 370 and back.y <= 270 and back.x2 >= 390 and back.y2 >= 290
    assert back.w < 40 and back.h < 40


def faint_comb_page() -> np.ndarray:
    """A flattened grey page (paper 255) with a pale comb row of six boxes and a dark 1."""
    page = np.full((300, 640), 255, np.uint8)
    for x in range(100, 461, 60):
        cv2.line(page, (x, 80), (x, 180), 220, 2)
    for y in (80, 180):
        cv2.line(page, (100, y), (460, y), 220, 2)
    cv2.line(page, (190, 100), (192, 165), 40, 5)  # the 1
    return page


def test_faint_lines_follow_straight_runs_only() -> None:
    page, paper = faint_comb_page(), np.full((300, 640), 255, np.uint8)
    runs = preprocess.faint_lines(page, paper, 96, 40.0)
    assert runs[80, 300] == 255 and runs[130, 280] == 255  # a top line and a side, unbroken
    assert runs[130, 250] == 0  # the paper inside a box
    # The 1 is a vertical run too, but shorter than half the line length it is not.
    assert preprocess.faint_lines(page, paper, 200, 40.0)[130, 191] == 0
    # Lines paler than 0.6 of the contrast, or off the paper, are not there.
    assert not preprocess.faint_lines(page, paper, 96, 60.0)[80, 300]
    assert not preprocess.faint_lines(page, np.zeros_like(paper), 96, 40.0).any()


def test_the_dashes_of_a_pale_comb_row_are_lines() -> None:
    # A rendered form photo whose pale comb boxes the threshold kept only in dashes.
    gray = preprocess.to_gray(cv2.imread(str(RESOURCES / "faint-comb-form.jpg")))
    gray = cv2.resize(gray, None, fx=1.875, fy=1.875, interpolation=cv2.INTER_LINEAR)

    def pieces(config: ScanConfig) -> int:
        """Blobs left in the rows' band that are too small for a digit: the boxes' pieces."""
        ink = preprocess.prepare(gray, config)[0]["ink"]
        _, _, stats, _ = cv2.connectedComponentsWithStats(ink[150:780, 300:960])
        return sum(1 for s in stats[1:] if s[4] >= 15 and s[3] < 40)

    assert pieces(ScanConfig(faint_lines=False)) > 10
    assert pieces(ScanConfig()) <= 2
