"""The reading pipeline end to end, through the Python API."""

from __future__ import annotations

import itertools
from pathlib import Path

import cv2
import numpy as np
import pytest

import digitscan
from digitscan import grouping
from digitscan.config import ScanConfig
from digitscan.errors import ConfigError, InputError
from digitscan.types import BBox, Candidate

RESOURCES = Path(__file__).parent / "resources"


def _labelled_crops(folder: str) -> list[tuple[Path, str]]:
    """(path, label) of each real crop in ``resources/FOLDER``, as its labels.csv lists them."""
    rows = (RESOURCES / folder / "labels.csv").read_text().split()[1:]
    return [(RESOURCES / folder / row.split(",")[0], row.split(",")[1]) for row in rows]


def test_reads_two_strings_top_to_bottom(render_page) -> None:
    image, _ = render_page(["4096", "1735"])
    before = image.copy()
    reading = digitscan.read(image)
    np.testing.assert_array_equal(image, before)  # the input is never written
    assert reading.text == "4096\n1735"
    assert [line.text for line in reading.lines] == ["4096", "1735"]
    assert min(line.confidence for line in reading.lines) > 0.5


def test_boxes_are_in_original_pixels(render_page) -> None:
    # 4000 px wide: read at 1600 px, boxes reported back in the 4000 px image.
    image, boxes = render_page(["582"], height_px=260, size=(4000, 3000), gap=0.5)
    reading = digitscan.read(image)
    assert reading.text == "582"
    for digit, (x, y, w, h) in zip(reading.lines[0].digits, boxes, strict=True):
        dx, dy, dw, dh = digit.bbox
        assert abs(dx - x) < 15 and abs(dy - y) < 15 and abs(dw - w) < 25 and abs(dh - h) < 25


def test_rotated_page_still_groups(render_page) -> None:
    image, _ = render_page(["3141", "2718"], angle=5)
    assert digitscan.read(image).text == "3141\n2718"


def test_blank_page_is_an_empty_reading() -> None:
    reading = digitscan.read(RESOURCES / "blank.png")
    assert reading.text == "" and reading.lines == ()


@pytest.mark.parametrize("name", ["corrupt.jpg", "zero_bytes.jpg", "not_an_image.jpg"])
def test_unreadable_files(name: str) -> None:
    with pytest.raises(InputError) as info:
        digitscan.read(RESOURCES / name)
    assert name in str(info.value)


def test_bad_arrays() -> None:
    with pytest.raises(ConfigError, match="source"):
        digitscan.read(np.zeros((4, 4, 4, 4), np.uint8))


def test_json_form(render_page) -> None:
    image, _ = render_page(["907"])
    reading = digitscan.read(image)
    data = reading.to_dict()
    assert data["text"] == "907" and data["path"] is None
    (line,) = data["lines"]
    assert line["text"] == "907" and len(line["box"]) == 4
    assert [d["label"] for d in line["digits"]] == ["9", "0", "7"]
    assert all(0 < d["confidence"] <= 1 for d in line["digits"])
    assert reading.to_dict(min_confidence=1.01)["text"] == ""


def test_debug_dir(render_page, tmp_path: Path) -> None:
    image, _ = render_page(["64"])
    path = tmp_path / "page.png"
    cv2.imwrite(str(path), image)
    digitscan.read(path, debug_dir=tmp_path / "debug")
    names = sorted(p.name for p in (tmp_path / "debug").iterdir())
    assert names == [
        f"page-{n}.png"
        for n in sorted(["overlay", "gray", "flat", "binary", "lines", "ink", "paper", "borders"])
    ]
    overlay = cv2.imread(str(tmp_path / "debug" / "page-overlay.png"))
    assert overlay.shape == image.shape and (overlay != image).any()


def test_punctuation_is_not_a_digit(render_page) -> None:
    image, boxes = render_page(["1250"], gap=0.6)
    x, y, w, h = boxes[1]
    # A decimal point between 2 and 5, at the baseline.
    cv2.circle(image, (x + w + 12, y + h - 5), 5, (30, 30, 30), -1)
    assert digitscan.read(image).text == "1250"


def test_a_long_comma_is_not_a_one(render_page) -> None:
    # "1,250": a comma drawn as a stroke from the baseline down, half the digits' height,
    # reads as a 1; a 1 is as tall as its neighbours.
    image, boxes = render_page(["1250"], gap=0.6)
    x, y, w, h = boxes[0]
    cv2.line(image, (x + w + 18, y + h - 12), (x + w + 12, y + h + 18), (30, 30, 30), 6)
    reading = digitscan.read(image)
    assert reading.text == "1250"
    assert any("comma" in (c.rejected or "") for c in reading.rejected)


def test_mlp_model_reads_too(render_page) -> None:
    image, _ = render_page(["3870"])
    assert digitscan.read(image, model="mlp").text == "3870"


def test_config_is_validated() -> None:
    with pytest.raises(ConfigError, match="max_side_px"):
        ScanConfig(max_side_px=10)
    with pytest.raises(ConfigError, match="min_confidence"):
        ScanConfig(min_confidence=2)
    assert ScanConfig().key() == ScanConfig().key() != ScanConfig(min_height_px=13).key()


def test_a_written_dollar_sign_is_not_a_digit(render_page) -> None:
    image, boxes = render_page(["1250"], gap=0.5)
    x, y, w, h = boxes[0]
    # A hand-drawn $ before the amount: an S of two arcs with a bar through it.
    sx, cy = x - 60, y + h // 2
    cv2.ellipse(image, (sx, cy - 14), (16, 13), 0, 20, 270, (30, 30, 30), 5)
    cv2.ellipse(image, (sx, cy + 12), (16, 13), 0, 200, 450, (30, 30, 30), 5)
    cv2.line(image, (sx, y - 6), (sx, y + h + 6), (30, 30, 30), 5)
    reading = digitscan.read(image)
    assert reading.text == "1250"
    sign = ("currency sign", "read as not a digit")  # by the sign rules or by the classifier
    assert any(reason in (c.rejected or "") for c in reading.rejected for reason in sign)


@pytest.mark.parametrize("gap_frac", [0.4, 1.2])
def test_printed_marks_beside_an_amount_are_not_digits(render_page, gap_frac) -> None:
    # A printed "S" (a "$" whose bar is lost in the photo) 60% of the digits' height before
    # the amount, and a short piece of a box's side after it: near enough to join the
    # string (0.4) or far enough to stand alone (1.2). Neither is a number.
    image, boxes = render_page(["4096"], gap=0.5)
    x, y, w, h = boxes[0]
    sx = x - round(gap_frac * h) - 25
    cv2.putText(image, "S", (sx, y + h - 10), cv2.FONT_HERSHEY_SIMPLEX, 1.3, (40, 40, 40), 3)
    right = boxes[-1][0] + boxes[-1][2] + round(gap_frac * h)
    cv2.line(image, (right, y + h // 3), (right, y + h - 8), (40, 40, 40), 3)
    reading = digitscan.read(image)
    assert reading.text == "4096"
    reasons = " ".join(c.rejected or "" for c in reading.rejected)
    # Dropped by the sign and frame rules inside the string, or as strings of their own by
    # the string scorer.
    assert ("printed sign" in reasons and "frame" in reasons) or "to belong" in reasons


@pytest.mark.parametrize(
    ("past", "clearance", "expected"),
    [(1, 0.1, "4096"), (1, 0.8, "409\n6"), (2, 0.1, "4096"), (2, 0.8, "40\n96")],
)
def test_digits_just_past_a_box_side_belong_to_the_amount(
    render_page, past, clearance, expected
) -> None:
    # An amount box around the first digits; the last ones, written past the box's right
    # side, are part of the amount when they hug that side and a field of their own when not.
    image, boxes = render_page(["4096"], gap=1.0)
    x, y, _, h = boxes[0]
    right = boxes[4 - past][0] - round(clearance * h)
    cv2.rectangle(image, (x - 20, y - 20), (right, y + h + 20), (90, 90, 90), 2)
    assert digitscan.read(image).text == expected


@pytest.mark.parametrize("seed", [0, 1])
def test_a_digit_a_box_side_runs_through_stays_one_digit(render_page, seed, monkeypatch) -> None:
    # The amount box's right side runs through the last 0: removing the printed line must
    # not cut the 0 in two (read as "12" or "67").

    image, boxes = render_page(["4090"], gap=0.35, seed=seed)
    x, y, _, h = boxes[0]
    right = boxes[3][0] + round(0.3 * boxes[3][2])
    cv2.rectangle(image, (x - 20, y - 20), (right, y + h + 20), (90, 90, 90), 3)
    assert digitscan.read(image).text == "4090"
    # Where the 0's stroke crosses the removed side it is put back (it has ink on both
    # sides of the line): the grouping search need not join the halves.
    monkeypatch.setattr(grouping, "MAX_JOINED", 1)
    assert digitscan.read(image).text == "4090"


@pytest.mark.parametrize("seed", [0, 4])
def test_an_amount_box_drawn_thick_is_a_box_the_last_digit_touches(
    render_page, seed, monkeypatch
) -> None:
    # An amount box a quarter of the photo wide, its lines 8 px thick (blurred, close up):
    # thicker than a printed line's limit, but level and as long as a box's. The last digit
    # touches its right side; taken for ink, the box swallowed that digit as one frame.
    from digitscan import preprocess

    image, boxes = render_page(["4090"], seed=seed)
    x, y, _, h = boxes[0]
    right = boxes[-1][0] + boxes[-1][2] + 3
    cv2.rectangle(image, (x - 20, y - 20), (right, y + h + 20), (90, 90, 90), 8)
    assert digitscan.read(image).text == "4090"
    monkeypatch.setattr(preprocess, "_THICK_LINE_SPAN_ACROSS", 0.3)
    assert digitscan.read(image).text != "4090"


def test_the_edge_of_a_note_against_a_darker_desk_is_not_a_one(render_page) -> None:
    # Left of the second string the desk shows (darker than the paper, lighter than ink),
    # its edge a thick dark seam: shaped like a 1, but with paper on one side only.
    image, boxes = render_page(["4096", "38"])
    x, y, _, h = boxes[4]
    edge = x - 60
    image[y - 5 : y + h + 5, :edge] = 150
    image[y : y + h, edge - 8 : edge] = 60
    reading = digitscan.read(image)
    assert reading.text == "4096\n38"
    # The seam is ink (the desk beside it too, darker than the paper by more than ink must
    # be), and it is left out: read with the desk as not a digit.
    assert any(c.bbox.x <= edge - 8 and c.bbox.x2 >= edge for c in reading.rejected)


def test_an_edge_joined_to_a_string_is_not_a_digit(render_page) -> None:
    # A long straight stroke, 1.7 times the digits' height, just before a string (a fold, or
    # a page's edge) reads as a 1; it is not part of the number.
    image, boxes = render_page(["4096"], gap=0.5)
    x, y, _, h = boxes[0]
    cv2.line(image, (x - 45, y - h // 3), (x - 30, y + h + h // 3), (40, 40, 40), 9)
    reading = digitscan.read(image)
    assert reading.text == "4096"
    assert any("edge" in (c.rejected or "") for c in reading.rejected)


@pytest.mark.parametrize(("text", "seed"), [("47", 2), ("74", 0), ("1474", 2)])
def test_a_four_or_seven_written_with_a_fine_pen_is_a_digit(
    render_page, text, seed, monkeypatch
) -> None:
    # Strokes thinned to a fine pen's: a 4 or a 7 is then mostly one long straight hairline,
    # rejected as a piece of ruling until the classifier has read it (surely, as no 1).
    from digitscan import segment

    image, _ = render_page(["5096", text], seed=seed, height_px=90)
    image = cv2.dilate(image, np.ones((3, 3), np.uint8), iterations=2)  # the ink thins
    assert digitscan.read(image).text == f"5096\n{text}"
    monkeypatch.setattr(segment, "reconsider_hairlines", lambda candidates: candidates)
    assert digitscan.read(image).text != f"5096\n{text}"


def test_a_number_written_all_with_a_fine_pen_is_read(monkeypatch) -> None:
    # Real register numbers (resources/fine-pen) whose only digit is a hairline: with no other
    # digit on the crop to measure it by, it was never reconsidered and the crop read nothing.
    from digitscan import segment

    paths = _labelled_crops("fine-pen")
    assert [digitscan.read(path).text for path, _ in paths] == [label for _, label in paths]
    # Without reconsidering hairlines, the crops whose hairline no line check takes for a digit
    # read nothing (two of four: the others' strokes pass as digits since lines are measured
    # by the page holding the crop's text).
    monkeypatch.setattr(segment, "reconsider_hairlines", lambda candidates: candidates)
    assert any(digitscan.read(path).text == "" for path, _ in paths)


def test_a_faint_ruling_broken_into_dashes_is_a_line() -> None:
    # Real register numbers (resources/ruling) beside a pale printed upright line that the
    # threshold keeps only in dashes. The crop is enlarged ~5x, and the line's darkness with
    # its blur was wider than a line may be: no line was found and each dash read as a 1
    # ("107" read "1", "107"). Traced by its ridge, the line is found and its dashes go with it.
    paths = _labelled_crops("ruling")
    assert [digitscan.read(path).text for path, _ in paths] == [label for _, label in paths]


def test_a_lone_short_one_is_a_piece_of_a_box(render_page) -> None:
    # A box's side the threshold broke leaves a short upright piece on its own, read as 1
    # well under the height of the page's digits: the string scorer drops it.
    image, _ = render_page(["4096", "38"])
    cv2.line(image, (700, 430), (701, 460), (40, 40, 40), 6)  # half the digits' height
    reading = digitscan.read(image)
    assert reading.text == "4096\n38"
    assert any("to belong to the reading" in (c.rejected or "") for c in reading.rejected)


def test_a_page_corner_against_the_desk_is_not_a_digit(render_page) -> None:
    # The page's bottom-left corner, the desk (darker than paper, lighter than ink) beyond
    # it: its edges binarise as an L that reads as a digit, with paper on one side only.
    page, _ = render_page(["4096", "38"])
    image = np.full((900, 1400, 3), 235, np.uint8)
    image[:, 200:] = page
    cx, cy = 150, 780
    image[cy:, :] = 150
    image[:, :cx] = 150
    image[cy - 70 : cy + 6, cx - 6 : cx] = 60
    image[cy : cy + 6, cx - 6 : cx + 60] = 60
    assert digitscan.read(image).text == "4096\n38"


def test_a_mark_the_frame_cuts_is_not_a_number(render_page) -> None:
    # A ring cut by the photo's left border is a page's or desk's corner, or at best half a
    # digit: the classifier or the string scorer drops it.
    cut, _ = render_page(["4096", "38"])
    cv2.circle(cut, (10, 800), 35, (40, 40, 40), 7)
    reading = digitscan.read(cut)
    assert reading.text == "4096\n38"
    cut_off = ("to belong to the reading", "read as not a digit")
    assert any(reason in (c.rejected or "") for c in reading.rejected for reason in cut_off)


def test_a_lone_number_written_larger_is_read(render_page) -> None:
    # A lone 1 written 1.4 times the size of the other string is a number, not an edge.
    large, _ = render_page(["1", "0"], height_px=85)
    image, _ = render_page(["1", "774"])
    image[:450] = large[:450]
    assert digitscan.read(image).text == "1\n774"


@pytest.mark.parametrize("seed", [0, 1, 5])
def test_a_fives_bar_written_apart_joins_its_body(render_page, seed, monkeypatch) -> None:
    # The top of the 5 is lifted off and moved up and right, as a bar drawn in a second
    # stroke often is: apart from the body, past its right end. Alone, the body reads 0 or 1.
    from digitscan import segment

    image, boxes = render_page(["4096", "35"], seed=seed, gap=0.5)
    x, y, w, h = boxes[5]
    cut = round(0.22 * h)
    top = image[y : y + cut, x : x + w].copy()
    image[y - h // 4 : y + cut + 3, x : x + w + h // 3] = 235
    dx, dy = round(0.15 * h), -round(0.08 * h)
    region = image[y + dy : y + dy + cut, x + dx : x + dx + w]
    np.minimum(region, top, out=region)
    assert digitscan.read(image).text == "4096\n35"
    monkeypatch.setattr(segment, "_is_top_bar", lambda bar, body, digit_h=0.0: False)
    assert digitscan.read(image, config=ScanConfig(piece_merge_overlap=0.6)).text != "4096\n35"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_five_whose_bar_runs_far_past_it_is_read(render_page, seed, monkeypatch) -> None:
    # The top bar of the 5 drawn on, far to the right (f173 ruled-74, f311 form-13): the
    # blob is too wide for one digit until the bar beyond its body is cut off.
    from digitscan import segment

    image, boxes = render_page(["4096", "35"], seed=seed, gap=0.5)
    x, y, w, h = boxes[5]
    ys, xs = np.nonzero(image[y : y + h // 5, x : x + w, 0] < 100)
    start = (x + int(xs.max()) - 3, y + int(np.median(ys)))
    cv2.line(image, start, (x + w + round(1.4 * h), start[1] - 2), (30, 30, 30), 6)
    assert digitscan.read(image).text == "4096\n35"
    monkeypatch.setattr(segment, "trim_bars", lambda cand: None)
    assert digitscan.read(image).text != "4096\n35"


@pytest.mark.parametrize("seed", [0, 2, 4])
def test_a_digit_broken_in_two_inside_its_comb_box_is_one_digit(
    render_page, seed, monkeypatch
) -> None:
    # Each digit in a box of its own; the 0 loses a band down its middle (a pen skip on both
    # sides), leaving two arcs in one box: read alone they are 1s, 7s or a 5.

    image, boxes = render_page(["40961", "7350"], seed=seed, gap=0.8)
    _draw_comb_boxes(image, [boxes[:5], boxes[5:]])
    x, y, w, h = boxes[1]
    image[y - 2 : y + h + 2, x + w // 2 - 2 : x + w // 2 + 2] = 235
    assert digitscan.read(image).text == "40961\n7350"
    monkeypatch.setattr(grouping, "MAX_JOINED", 1)  # blobs are never read together
    assert digitscan.read(image).text.splitlines()[0] != "40961"


def test_a_blob_in_a_comb_box_of_its_own_is_not_cut_in_two(render_page) -> None:
    # Cuts tried for any blob wider than 0.4 x its height: in a box of its own, a blob is
    # never cut (no cut is even tried), and the row reads right.
    eager = ScanConfig(split_min_aspect=0.4)
    image, boxes = render_page(["40961", "7350"], seed=1, gap=0.8)
    _draw_comb_boxes(image, [boxes[:5], boxes[5:]])
    assert digitscan.read(image, config=eager).text == "40961\n7350"
    three = Candidate(BBox(0, 0, 30, 40), np.full((40, 30), 255, np.uint8))
    assert grouping.cuttable(three, eager, pitch=None)
    assert not grouping.cuttable(three, eager, pitch=40.0)


def _draw_comb_boxes(image: np.ndarray, rows: list[list[tuple[int, int, int, int]]]) -> None:
    """Draw a row of boxes round each row of digit boxes, a side midway between digits."""
    for row in rows:
        top = min(y for _, y, _, _ in row) - 12
        bottom = max(y + h for _, y, _, h in row) + 12
        sides = [row[0][0] - 20, row[-1][0] + row[-1][2] + 20]
        sides += [(a[0] + a[2] + b[0]) // 2 for a, b in itertools.pairwise(row)]
        for x in sides:
            cv2.line(image, (x, top), (x, bottom), (40, 40, 40), 3)
        for y in (top, bottom):
            cv2.line(image, (min(sides), y), (max(sides), y), (40, 40, 40), 3)


@pytest.mark.parametrize("seed", [4, 5])
def test_a_string_across_a_squared_pages_dark_grid_stays_one_string(
    render_page, seed, monkeypatch
) -> None:
    # A grid as dark as the ink (pencil on a grey grid, pen301 squared-111): its upright
    # lines, found as borders, pass through some of the string's gaps and not others. A
    # box's side would cut the string there; the grid's lines run on above and below it.
    from digitscan import segment

    image, _ = render_page(["824560917"], seed=seed, gap=0.45)
    grid = image.copy()
    for x in range(45, grid.shape[1], 80):
        cv2.line(grid, (x, 0), (x, grid.shape[0] - 1), (90, 90, 90), 2)
    for y in range(10, grid.shape[0], 80):
        cv2.line(grid, (0, y), (grid.shape[1] - 1, y), (90, 90, 90), 2)
    page = np.minimum(grid, image)
    reading = digitscan.read(page)
    # One string (on seed 5 this release's convnet calls the last 7 "not a digit").
    assert len(reading.lines) == 1 and "824560917".startswith(reading.text)
    assert len(reading.text) >= 8
    if seed == 4:  # without the rule, seed 4's string is cut at a grid line (seed 5's is not)
        monkeypatch.setattr(segment, "_without_grid_lines", lambda line, gaps, borders: gaps)
        assert len(digitscan.read(page).lines) > 1


def test_a_bar_beside_a_body_is_told_from_what_is_left_of_a_printed_line() -> None:
    from digitscan.segment import _is_top_bar
    from digitscan.types import BBox

    # Boxes from photos: a 5's bar starting where its body ends (overlapping it by a pixel),
    # and slivers of ruling and box lines level with the top of a 7 and a 6.
    assert _is_top_bar(BBox(321, 156, 19, 7), BBox(293, 158, 29, 27))
    assert not _is_top_bar(BBox(903, 571, 24, 3), BBox(831, 572, 57, 77))
    assert not _is_top_bar(BBox(975, 571, 16, 2), BBox(917, 586, 57, 64))
    # Not beside the body's left end, nor far past its right end, nor below its top.
    assert not _is_top_bar(BBox(270, 156, 19, 7), BBox(293, 158, 29, 27))
    assert not _is_top_bar(BBox(335, 156, 19, 7), BBox(293, 158, 29, 27))
    assert not _is_top_bar(BBox(321, 172, 19, 7), BBox(293, 158, 29, 27))


def test_a_long_slanting_bar_high_over_a_short_body_is_a_fives_bar() -> None:
    from digitscan.segment import _is_top_bar
    from digitscan.types import BBox

    # f197 squared-09: the bar slants up (its box half the body's height) and stands well
    # above a body under half as tall as the page's digits (91 px): a 5 together.
    bar, body = BBox(394, 376, 71, 21), BBox(378, 414, 24, 40)
    assert _is_top_bar(bar, body, digit_h=91.5)
    assert not _is_top_bar(bar, body)  # measured against the body alone, too high
    assert not _is_top_bar(BBox(394, 376, 40, 21), body, digit_h=91.5)  # short: not flat
    # Red-sticky-16: a fleck of the note's edge beside a 6, too thin to be a pen's bar.
    assert not _is_top_bar(BBox(81, 80, 16, 5), BBox(17, 77, 62, 51), digit_h=90.0)
    # On a page of smaller digits the same bar is too high above the body.
    assert not _is_top_bar(bar, body, digit_h=50.0)


@pytest.mark.parametrize("seed", [8, 10, 13, 15])
def test_a_loop_broken_off_to_one_side_joins_its_digit(render_page, seed, monkeypatch) -> None:
    # The right part of the 6's loop is cut off and hangs to the right (a pen gap, or a box
    # side removed through it): it overlaps the rest in width far less than a 5's bar would.

    image, boxes = render_page(["4096", "36"], seed=seed, gap=0.6)
    x, y, w, h = boxes[5]
    cut, left = round(0.6 * h), round(0.45 * w)
    loop = image[y + cut : y + h, x + left : x + w].copy()
    image[y + cut : y + h, x + left - 3 : x + w] = 235
    shift = round(0.15 * w)
    region = image[y + cut : y + h, x + left + shift : x + w + shift]
    np.minimum(region, loop, out=region)
    assert digitscan.read(image).text == "4096\n36"
    # Merging the strokes does it (the grouping search's join of blobs would too).
    monkeypatch.setattr(grouping, "MAX_JOINED", 1)
    assert digitscan.read(image, config=ScanConfig(piece_merge_overlap=0.6)).text != "4096\n36"


@pytest.mark.parametrize("seed", [1, 4])
def test_a_piece_broken_off_beside_a_digit_is_read_with_it(render_page, seed, monkeypatch) -> None:
    # The top of a 9's right half breaks off and drifts right, beside the rest: too little
    # of it over the body for the strokes to merge, and read alone it is a 7 or a 1. Read
    # joined, the two are a 9 far more surely than they are two digits.

    image, boxes = render_page(["4096", "94"], seed=seed)
    x, y, w, h = boxes[4]
    cut_y, cut_x, shift = round(0.45 * h), round(0.5 * w), round(0.2 * w)
    piece = image[y : y + cut_y, x + cut_x : x + w].copy()
    image[y : y + cut_y, x + cut_x - 2 : x + w] = 235
    region = image[y : y + cut_y, x + cut_x + shift : x + w + shift]
    np.minimum(region, piece, out=region)
    assert digitscan.read(image).text == "4096\n94"
    monkeypatch.setattr(grouping, "MAX_JOINED", 1)  # blobs are never read together
    assert digitscan.read(image).text != "4096\n94"


@pytest.mark.parametrize(("text", "seed"), [("53", 1), ("53", 3), ("38", 1), ("82", 2)])
def test_a_digit_broken_across_its_middle_is_one_digit(
    render_page, text, seed, monkeypatch
) -> None:
    # The first digit of a string loses a band across its middle (a pen that skipped, a
    # faint stroke the threshold dropped): two halves of a like height, each too short to be
    # a digit of the string, must not start strings of their own.
    from digitscan import segment

    image, boxes = render_page(["4096", text], seed=seed)
    x, y, w, h = boxes[4]
    image[y + round(0.45 * h) : y + round(0.53 * h), x - 2 : x + w + 2] = 235
    assert digitscan.read(image).text == f"4096\n{text}"
    monkeypatch.setattr(segment, "_halves", lambda a, b, config, digit_h: False)
    assert digitscan.read(image).text != f"4096\n{text}"


@pytest.mark.parametrize(
    ("text", "seed", "left", "right"),
    [("53", 1, 0.3, 0.62), ("23", 5, 0.3, 0.62), ("38", 1, 0.62, 0.3), ("30", 0, 0.62, 0.3)],
)
def test_a_digit_cut_on_a_slant_is_one_digit(
    render_page, text, seed, left, right, monkeypatch
) -> None:
    # The first digit loses a slanted band (where it crossed a squared page's line, removed
    # with the line): its halves' boxes overlap in height, and together they are a digit.
    from digitscan import segment

    image, boxes = render_page(["4096", text], seed=seed)
    x, y, w, h = boxes[4]
    band = [(x - 2, left), (x + w + 2, right), (x + w + 2, right + 0.07), (x - 2, left + 0.07)]
    cv2.fillPoly(image, [np.array([(u, y + round(v * h)) for u, v in band])], (235, 235, 235))
    assert digitscan.read(image).text == f"4096\n{text}"
    # Neither as halves of a digit nor as a piece with the digit's height left over.
    monkeypatch.setattr(segment, "_HALF_MAX_OVERLAP", 0.0)
    monkeypatch.setattr(segment, "_MERGE_MAX_DIGITS", 0.0)
    assert digitscan.read(image).text != f"4096\n{text}"


@pytest.mark.parametrize("seed", [0, 4])
def test_a_decimal_point_holds_a_widely_spaced_amount_together(
    render_page, seed, monkeypatch
) -> None:
    # "95 . 24": the gap round the point is wider than digits of one string stand apart.
    from digitscan import segment

    image, boxes = render_page(["4096", "9524"], seed=seed)
    x, y, w, h = boxes[6]
    right = boxes[7][0] + boxes[7][2]
    shift = round(1.5 * h)
    image[y : y + h, x + shift : right + shift] = image[y : y + h, x:right].copy()
    image[y : y + h, x : x + shift] = 235
    point = (boxes[5][0] + boxes[5][2] + x + shift) // 2
    cv2.circle(image, (point, y + h - 5), 5, (30, 30, 30), -1)
    assert digitscan.read(image).text == "4096\n9524"
    monkeypatch.setattr(segment, "_on_baseline", lambda mark, digit: False)
    assert digitscan.read(image).text == "4096\n95\n24"


def test_digits_in_a_deep_shadow_on_the_page_are_read(render_page, monkeypatch) -> None:
    # A shadow darkens the left of the page to 40% (below the paper limit, half the brightest
    # paper) smoothly; the desk round the page is darker still, beyond a sharp edge.
    from digitscan import preprocess

    page, _ = render_page(["4096", "38"])
    shade = np.interp(np.arange(page.shape[1]), [350, 650], [0.4, 1.0]).astype(np.float32)
    page = (page * shade[None, :, None]).astype(np.uint8)
    image = np.full((page.shape[0] + 200, page.shape[1] + 200, 3), 45, np.uint8)
    image[100:-100, 100:-100] = page
    assert digitscan.read(image).text == "4096\n38"
    monkeypatch.setattr(preprocess, "_grow_into_shadows", lambda closed, paper, bright: paper)
    assert digitscan.read(image).text == ""  # the shadowed paper taken for the desk


def test_a_glint_on_the_bright_paper_does_not_stop_the_shadow_fill(render_page) -> None:
    # The same shadow, and a small glint where the paper is brightest (a lit page edge, a
    # reflection): a speck a step above the paper round it, where a fill seeded at the
    # brightest point would stay.
    from digitscan import preprocess

    page, _ = render_page(["4096", "38"])
    shade = np.interp(np.arange(page.shape[1]), [350, 650], [0.4, 1.0]).astype(np.float32)
    page = (page * shade[None, :, None]).astype(np.uint8)
    page[20:36, -60:-44] = 255
    image = np.full((page.shape[0] + 200, page.shape[1] + 200, 3), 45, np.uint8)
    image[100:-100, 100:-100] = page
    gray = preprocess.to_gray(image)
    _, paper = preprocess.estimate_background(gray, 140, 0.5)
    assert paper[120:-120, 120:-120].all()  # the whole page, shadowed or not
    assert not paper[:90].any() and not paper[:, :90].any()  # and not the desk
    assert digitscan.read(image).text == "4096\n38"


def test_a_piece_of_a_broken_printed_line_is_not_a_one(render_page) -> None:
    # A faint printed frame line the threshold broke into pieces: the long ones are removed
    # as a line, the short one between them (alone, between the strings) looks like a 1.
    image, _ = render_page(["4096", "38"])
    for top, bottom in ((100, 400), (412, 460), (472, 800)):
        cv2.line(image, (1000, top), (1000, bottom), (90, 90, 90), 3)
    reading = digitscan.read(image)
    assert reading.text == "4096\n38"
    assert any(c.rejected == "a piece of a printed line" for c in reading.rejected)


def test_real_fives_and_eights_are_not_dollar_signs(tiny_test) -> None:
    from digitscan.pipeline import looks_like_dollar
    from digitscan.types import BBox, Digit

    images, labels = tiny_test
    for image, label in zip(images, labels, strict=True):
        if label in (5, 8):
            digit = Digit(BBox(0, 0, 28, 28), int(label), np.ones(10, np.float32) / 10, image)
            assert not looks_like_dollar(digit)


@pytest.mark.parametrize("photo", [134, 189])
def test_photographed_fives_with_narrow_ends_are_not_dollar_signs(photo, shared_mnist) -> None:
    # Photos 134 and 189 of seed 4242 hold a 5 whose bar slants up to the right and whose
    # tail curls away left: narrow at the top and bottom like a "$", but not through the
    # middle, where a "$" has its bar.
    from digitscan import load_mnist
    from digitscan.photocrops import _crops_of
    from digitscan.pipeline import looks_like_dollar
    from digitscan.types import BBox, Digit

    crops, _ = _crops_of(*load_mnist(shared_mnist, "test"), 4242, photo, photo + 1, ScanConfig())
    fives = [image for image, label in crops if label == 5]
    assert fives
    for image in fives:
        assert not looks_like_dollar(Digit(BBox(0, 0, 28, 28), 5, np.ones(10, np.float32), image))


def test_classify_averages_pen_width_variants(tiny_test) -> None:
    from digitscan.pipeline import classify

    images, labels = tiny_test
    model = digitscan.load_model("convnet")
    plain = classify(images[:50], model, stroke_variants=False)
    np.testing.assert_allclose(plain, model.predict_proba(images[:50]))
    averaged = classify(images[:50], model)
    shape = (50, len(model.classes_))
    assert averaged.shape == shape and np.allclose(averaged.sum(axis=1), 1, atol=1e-5)
    assert not np.allclose(averaged, plain)  # the variants do change the probabilities
    assert (averaged.argmax(axis=1) == labels[:50]).mean() >= 0.96


@pytest.mark.xfail(
    strict=True,
    reason="the leaning sides at the row's ends are hairlines read as 1 inside the string "
    "(14610291): the rule that dropped a hairline read as 1 went, since on the register "
    "validation split it cost more numbers written with a fine pen (13) than it saved",
)
def test_a_row_of_boxes_whose_sides_lean_is_one_string(render_page) -> None:
    # A form photographed at an angle: the box sides near the middle stand upright (found
    # as lines), those further out lean (rejected as hairlines). The row is still one
    # string, not cut at the upright sides.
    image, boxes = render_page(["461029"], gap=0.8)
    top = min(y for _, y, _, _ in boxes) - 14
    bottom = max(y + h for _, y, _, h in boxes) + 14
    sides = [boxes[0][0] - 14] + [
        (a[0] + a[2] + b[0]) // 2 for a, b in zip(boxes, boxes[1:], strict=False)
    ]
    sides.append(boxes[-1][0] + boxes[-1][2] + 14)
    middle = (sides[0] + sides[-1]) / 2
    for x in sides:
        lean = round((x - middle) / 20)
        cv2.line(image, (x + lean, top), (x - lean, bottom), (60, 60, 60), 2)
    cv2.line(image, (sides[0], top), (sides[-1], top), (60, 60, 60), 2)
    cv2.line(image, (sides[0], bottom), (sides[-1], bottom), (60, 60, 60), 2)
    assert digitscan.read(image).text == "461029"


@pytest.mark.parametrize("seed", [19, 21])
def test_a_printed_dollar_nearly_as_tall_as_the_amount_is_not_a_digit(seed, tiny_train) -> None:
    # Rendered cheques whose "$" (read as a 5) is 75-90% as tall as the amount: with seed
    # 19 it stands alone before the box, with seed 21 it joins the amount's string.
    from digitscan import synth

    rng = np.random.default_rng(seed)
    photo = synth.render("cheque", rng, synth.DigitSource(*tiny_train, rng), (1280, 960))
    reading = digitscan.read(photo.as_saved())
    assert reading.text == "\n".join(photo.expected)
    assert any("currency sign" in (c.rejected or "") for c in reading.rejected)


#: A printed "$" photographed small (f131 cheque-00), as the classifier saw it: read as a 5.
SMALL_DOLLAR = """
............###.............
...........#####............
..........#######...........
.........#########..........
........#####.#####.........
.......######...##..........
.......####.................
.......#####................
........########............
........##########..........
.........##########.........
..........#########.........
...............#####........
................####........
.........#......####........
........####.#.#####........
........###########.........
.........#########..........
..........######............
............###.............
"""


#: Printed "$" signs photographed small and blurred, as the classifier saw them: the S
#: grows wide right under the bar's tips (f137 cheque-108, read as 5; f109 cheque-72, as 3).
BLURRED_DOLLARS = {
    5: """
.............##.............
............####............
..........########..........
.........##########.........
........###########.........
........####....###.........
........####................
........#####...............
.........######.............
..........#######...........
...........#######..........
.............######.........
...............####.........
.......###.....####.........
.......####....####.........
.......######.#####.........
........##########..........
.........########...........
..........######............
...........###..............
""",
    3: """
............####............
...........######...........
..........########..........
........##########..........
.......###########..........
.......###########..........
........########............
.........#######............
..........######............
...........######...........
..............####..........
...............####.........
................####........
................#####.......
...............######.......
.........############.......
.........###########........
..........########..........
...........######...........
.............###............
""",
}


def _as_read(label: int, box: tuple[int, int, int, int], image=None):
    """A digit as :func:`digitscan.pipeline.read_strings` hands it on, with its blob."""
    from digitscan.types import BBox, Candidate, Digit

    bbox = BBox(*box)
    image = np.zeros((28, 28), np.uint8) if image is None else image
    digit = Digit(bbox, label, np.eye(10, dtype=np.float32)[label], image)
    return digit, Candidate(bbox, np.full((bbox.h, bbox.w), 255, np.uint8))


def _ascii28(art: str) -> np.ndarray:
    image = np.zeros((28, 28), np.uint8)
    image[4:24] = [[255 if c == "#" else 0 for c in row] for row in art.split()]
    return image


@pytest.mark.parametrize("label", [5, 3])
def test_a_blurred_dollar_read_as_a_digit_starting_the_amount_is_dropped(
    label, monkeypatch
) -> None:
    from digitscan import pipeline

    amount = [_as_read(d, (800 + 45 * i, 400, 38, 38 + i % 3)) for i, d in enumerate([1, 9, 0])]
    sign = _as_read(label, (760, 410, 18, 29), _ascii28(BLURRED_DOLLARS[label]))
    rejected: list = []
    assert pipeline._drop_currency_signs([[sign, *amount]], rejected) == [amount]
    assert rejected[0].rejected == f"a currency sign, read as {label}"
    # As tall as the amount, the same shape is a digit (a 5 or a 3 whose ends are narrow).
    tall = _as_read(label, (760, 400, 24, 39), sign[0].image28)
    assert pipeline._drop_currency_signs([[tall, *amount]], []) == [[tall, *amount]]
    monkeypatch.setattr(pipeline, "_TIP_LABELS", ())
    assert pipeline._drop_currency_signs([[sign, *amount]], []) == [[sign, *amount]]


@pytest.mark.parametrize(("gap", "dropped"), [(5, False), (8, False), (12, True), (22, True)])
def test_a_dollar_stands_apart_from_the_amount(gap, dropped) -> None:
    # The amount's digits stand 7 px apart; a "$"-shaped first character as close as they
    # are (a 3 or a 5 of a number on a plain page, f311 plain-71) is a digit.
    from digitscan import pipeline

    amount = [_as_read(d, (800 + 45 * i, 400, 38, 38 + i % 3)) for i, d in enumerate([1, 9, 0])]
    sign = _as_read(3, (800 - gap - 18, 410, 18, 29), _ascii28(BLURRED_DOLLARS[3]))
    kept = pipeline._drop_currency_signs([[sign, *amount]], [])
    assert kept == ([amount] if dropped else [[sign, *amount]])


@pytest.mark.parametrize(("gap", "dropped"), [(4, False), (7, False), (12, True), (30, True)])
def test_a_short_first_five_spaced_like_the_digits_is_a_digit(gap, dropped) -> None:
    # A 5 two thirds the digits' height starting a string: a printed "$" (no box border
    # between) when it stands apart from the amount, a small 5 of the number (f359 plain-35,
    # "534788") when it is as close as the digits are to each other (7 px).
    from digitscan import pipeline

    amount = [_as_read(d, (800 + 45 * i, 400, 38, 60)) for i, d in enumerate([3, 4, 7, 8])]
    five = _as_read(5, (800 - gap - 30, 420, 30, 38))
    kept, marks = pipeline._trim_marks([five, *amount], ScanConfig())
    assert kept == (amount if dropped else [five, *amount])
    assert [m.rejected for m in marks] == (["a printed sign, read as 5"] if dropped else [])


@pytest.mark.parametrize("drop", [0, 16])
def test_a_dollar_beside_an_amount_written_higher_is_not_a_digit(drop) -> None:
    # The "$" stands alone before the amount's box, lower than the amount written in it.
    from digitscan.pipeline import _drop_currency_signs

    amount = [
        _as_read(5, (839, 330, 61, 62)),
        _as_read(9, (910, 339, 40, 55)),
        _as_read(7, (960, 331, 43, 60)),
    ]
    sign = [_as_read(5, (779, 365 + drop, 20, 30), _ascii28(SMALL_DOLLAR))]
    rejected: list = []
    assert _drop_currency_signs([amount, sign], rejected) == [amount]
    assert rejected[0].rejected == "a currency sign, read as 5"


#: A "$" photographed at 640x480 (f353 cheque-60), its tips blurred into the S's curves.
LOW_RES_DOLLAR = """
...........####.............
..........#######...........
.........#########..........
........###########.........
........############........
........############........
........######..###.........
........######..............
.........#########..........
.........##########.........
..........##########........
.............########.......
..........#....######.......
.........####..######.......
........#############.......
........#############.......
..........##########........
...........########.........
.............####...........
..............##............
"""


def test_a_blurred_dollar_alone_before_the_amount_is_not_a_digit() -> None:
    from digitscan.pipeline import _drop_currency_signs

    amount = [_as_read(d, (800 + 45 * i, 400, 38, 40)) for i, d in enumerate([7, 3, 2])]
    sign = _as_read(5, (730, 410, 20, 30), _ascii28(LOW_RES_DOLLAR))
    rejected: list = []
    assert _drop_currency_signs([[sign], amount], rejected) == [amount]
    assert rejected[0].rejected == "a currency sign, read as 5"
    # The same shape starting a string, apart from the rest, passes only the stricter test.
    assert _drop_currency_signs([[sign, *amount]], []) == [[sign, *amount]]


@pytest.mark.parametrize(("kind", "seed"), [("ruled", 8), ("form", 3)])
def test_pencil_beside_a_darker_desk_is_read(kind: str, seed: int, tiny_train) -> None:
    # Rendered in pencil, about as light as printed ruling; the desk round the page is darker.
    # Taking the desk for the ink and the pencil for ruling left nothing to read.
    from digitscan import synth

    rng = np.random.default_rng(seed)
    pencil = synth.OTHER_INKS["pencil"]
    photo = synth.render(kind, rng, synth.DigitSource(*tiny_train, rng), (1280, 960), ink=pencil)
    assert digitscan.read(photo.as_saved()).text == "\n".join(photo.expected)


def test_the_short_side_of_an_amount_box_is_not_a_one() -> None:
    # A small amount box: its sides are too short to be found as lines, and the right one
    # stays in the ink, thin and upright at the amount's end, and reads as 1. The box's
    # bottom line, found and removed, runs from it towards the digits only: a corner.
    # The rule that dropped it as a box's corner is gone: it goes as a piece of a frame.
    reading = digitscan.read(RESOURCES / "cheque-box-side.jpg")
    assert reading.text == "5883"


def test_a_pale_comb_form_is_read_without_its_box_pieces() -> None:
    # A rendered form photo whose pale comb boxes the threshold kept only in dashes: the
    # left-over pieces were read as digits and split the rows into many strings.
    path = RESOURCES / "faint-comb-form.jpg"
    assert digitscan.read(path).text == "46508506\n9976506\n1584"
    unfound = digitscan.read(path, config=ScanConfig(faint_lines=False)).text
    assert unfound.count("\n") > 2


def test_a_fours_crossbar_is_no_printed_line() -> None:
    # Real register numbers (resources/crossbar) holding a 4 whose crossbar is a level stroke
    # about as long as the digit is wide. A crop enlarged to the working size measured its
    # shortest line by its own size (32 px, less than a digit is wide): the crossbar was
    # removed as a line, and the 4's three pieces read "111". Measured by the page holding
    # the crop's text, a line is at least a digit long.
    paths = _labelled_crops("crossbar")
    assert [digitscan.read(path).text for path, _ in paths] == [label for _, label in paths]


def test_touching_slanted_digits_are_cut_along_their_slant(monkeypatch) -> None:
    # Real register numbers "10" (resources/slanted) written leaning far right, the 1's foot
    # touching the 0: cut upright, the 1's top went with the 0, and "10." read "16".
    from digitscan import segment

    paths = _labelled_crops("slanted")
    assert [digitscan.read(path).text for path, _ in paths] == [label for _, label in paths]
    monkeypatch.setattr(segment, "cut_slant", lambda mask, parts: 0.0)
    assert all(digitscan.read(path).text != label for path, label in paths)


def _underlined_crops(tail: bool) -> list[tuple[Path, str]]:
    paths = _labelled_crops("underlined")
    return [(path, label) for path, label in paths if ("0236a" in path.name) == tail]


def test_a_number_joined_to_its_underline_is_read_without_it(monkeypatch) -> None:
    # Real register numbers (resources/underlined) underlined in one stroke joined to the
    # digits: read whole, the blob is no digit (or misread as one, the line taken for a
    # stroke). Read again without the line, its digits are read.
    from digitscan import segment

    paths = _underlined_crops(tail=False)
    assert [digitscan.read(path).text for path, _ in paths] == [label for _, label in paths]
    monkeypatch.setattr(segment, "strip_underline", lambda cand, config: None)
    assert all(digitscan.read(path).text != label for path, label in paths)


def test_an_underline_tail_at_the_end_of_a_cut_blob_is_skipped(monkeypatch) -> None:
    # A real register "10" (resources/underlined) whose 0 runs on into its underline: the
    # cut blob's last unit is the line's tail, which no group could skip, so the 0 went.
    from digitscan import grouping

    paths = _underlined_crops(tail=True)
    assert [digitscan.read(path).text for path, _ in paths] == [label for _, label in paths]
    monkeypatch.setattr(grouping, "TAIL_MAX_HEIGHT", 0.0)
    assert all(digitscan.read(path).text != label for path, label in paths)


def test_an_underline_drawn_with_a_tilt_is_taken_out_too(monkeypatch) -> None:
    # Real register numbers (resources/underlined-tilted) joined to a thin underline drawn
    # with a slight tilt or sweep: no level run is half the blob's width long, but a tilted
    # one is. Found only level, the line stayed: "40" read "1", "98" read "18".
    from digitscan import segment

    paths = _labelled_crops("underlined-tilted")
    assert [digitscan.read(path).text for path, _ in paths] == [label for _, label in paths]
    monkeypatch.setattr(segment, "_UNDERLINE_TILT", 0.0)
    assert all(digitscan.read(path).text != label for path, label in paths)


def test_a_narrow_blob_read_as_several_digits_is_cut(monkeypatch) -> None:
    # Real register numbers (resources/joined) written close and joined into one blob no
    # wider than a digit, so never tried cut: the classifier read it whole as several digits,
    # and the crop read nothing. Read so, it is cut and read again.
    from digitscan import pipeline

    paths = _labelled_crops("joined")
    assert [digitscan.read(path).text for path, _ in paths] == [label for _, label in paths]
    monkeypatch.setattr(pipeline, "_regroup", lambda *args: None)
    assert all(digitscan.read(path).text == "" for path, _ in paths)
