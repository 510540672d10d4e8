from __future__ import annotations

import cv2
import numpy as np
import pytest

from digitscan import segment
from digitscan.config import ScanConfig
from digitscan.types import BBox, Candidate

CONFIG = ScanConfig()


def blob(x: int, y: int, w: int, h: int) -> Candidate:
    return Candidate(BBox(x, y, w, h), np.full((h, w), 255, np.uint8))


def test_tiny_exact_candidate() -> None:
    ink = np.zeros((60, 60), np.uint8)
    ink[10:40, 20:24] = 255  # a '1': 4 x 30
    ink[50, 50] = 255  # dust
    ink[45:48, 5:8] = 255  # a speck: too little ink
    cand, speck = sorted(segment.find_candidates(ink, CONFIG), key=lambda c: c.bbox.y)
    assert speck.rejected == "speck"
    assert cand.bbox == BBox(20, 10, 4, 30) and cand.rejected is None
    assert cand.mask.shape == (30, 4) and cand.mask.all()


@pytest.mark.parametrize(
    ("box", "reason"),
    [
        ((5, 5, 6, 6), "too short"),
        ((5, 20, 150, 20), "too wide"),
        ((5, 5, 30, 190), "too tall"),
    ],
)
def test_rejections(box, reason: str) -> None:
    ink = np.zeros((200, 200), np.uint8)
    x, y, w, h = box
    ink[y : y + h, x : x + w] = 255
    (cand,) = segment.find_candidates(ink, CONFIG)
    for merged in (False, True):
        (cand,) = segment.reject_by_shape([cand], 200, CONFIG, merged=merged)
    assert cand.rejected is not None and reason in cand.rejected


def test_frame_is_rejected() -> None:
    ink = np.zeros((200, 200), np.uint8)
    ink[20:120, 20:22] = ink[20:120, 118:120] = ink[20:22, 20:120] = ink[118:120, 20:120] = 255
    (cand,) = segment.reject_by_shape(
        segment.find_candidates(ink, CONFIG), 200, CONFIG, merged=False
    )
    assert "frame" in cand.rejected


def test_a_page_border_never_swallows_digits() -> None:
    border = Candidate(BBox(0, 0, 400, 300), np.zeros((300, 400), np.uint8))
    border.mask[:3], border.mask[-3:], border.mask[:, :3], border.mask[:, -3:] = 255, 255, 255, 255
    digit = blob(100, 100, 20, 40)
    checked = segment.reject_by_shape([border, digit], 300, CONFIG, merged=False)
    merged = segment.merge_strokes(checked, CONFIG)
    assert digit in merged and any(c.rejected for c in merged)


def test_detached_bar_of_a_five_merges() -> None:
    body = blob(100, 40, 30, 40)
    bar = blob(104, 30, 28, 6)  # above the body, gap of 4 px
    neighbour = blob(150, 40, 30, 40)
    merged = segment.merge_strokes([body, bar, neighbour], CONFIG)
    boxes = sorted(c.bbox for c in merged)
    assert boxes == [BBox(100, 30, 32, 50), BBox(150, 40, 30, 40)]


def test_a_box_left_round_the_digits_does_not_swallow_them() -> None:
    # The sides and bottom of a blurred cheque box the line removal missed: one wide blob
    # round the amount, each digit overlapping it.
    box = Candidate(BBox(100, 40, 300, 90), np.zeros((90, 300), np.uint8))
    box.mask[-4:], box.mask[:, :4], box.mask[:, -4:] = 255, 255, 255
    digits = [blob(130, 50, 30, 60), blob(200, 50, 30, 60)]
    merged = segment.merge_strokes([box, *digits], CONFIG)
    assert all(d in merged for d in digits) and len(merged) == 3


def test_a_sevens_bar_cut_off_by_a_grid_line_stays_with_its_stem() -> None:
    # The bar reaches the side of the 3 before it as a 5's detached bar would, but it sits
    # on the 7's stem.
    three, bar, stem = blob(432, 187, 70, 101), blob(516, 192, 75, 18), blob(530, 210, 60, 88)
    merged = segment.merge_strokes([three, bar, stem], CONFIG)
    assert sorted(c.bbox for c in merged) == [three.bbox, BBox(516, 192, 75, 106)]


def test_digits_of_two_lines_do_not_merge() -> None:
    top, bottom = blob(100, 10, 30, 40), blob(102, 60, 30, 40)
    assert len(segment.merge_strokes([top, bottom], CONFIG)) == 2


def test_group_lines_orders_strings() -> None:
    cands = [
        blob(300, 200, 20, 40),
        blob(100, 20, 20, 40),
        blob(130, 22, 20, 40),
        blob(100, 200, 20, 40),
        blob(600, 25, 20, 40),
    ]
    lines = segment.group_lines(cands, CONFIG)
    assert [[c.bbox.x for c in line] for line in lines] == [[100, 130], [600], [100], [300]]


@pytest.mark.parametrize("seed", range(10))
def test_grouping_keeps_every_candidate_once(seed: int) -> None:
    rng = np.random.default_rng(seed)
    cands = [
        blob(int(x), int(y), 20, int(h))
        for x, y, h in zip(
            rng.integers(0, 1000, 30),
            rng.integers(0, 800, 30),
            rng.integers(20, 60, 30),
            strict=True,
        )
    ]
    lines = segment.group_lines(cands, CONFIG)
    flat = [c for line in lines for c in line]
    assert sorted(id(c) for c in flat) == sorted(id(c) for c in cands)
    for line in lines:
        assert [c.bbox.x for c in line] == sorted(c.bbox.x for c in line)


def test_a_rotated_string_stays_one_line() -> None:
    # Five digits climbing 12 px each (about 8 degrees): chained, not split.
    cands = [blob(100 + 40 * i, 200 - 12 * i, 25, 40) for i in range(5)]
    (line,) = segment.group_lines(cands, CONFIG)
    assert len(line) == 5


def test_punctuation_dropped() -> None:
    digits = [blob(100, 100, 20, 40), blob(125, 100, 20, 40), blob(160, 100, 20, 40)]
    point = blob(148, 134, 5, 6)
    kept, dropped = segment.drop_punctuation([*digits[:2], point, digits[2]], CONFIG)
    assert kept == digits and dropped[0].bbox == point.bbox and "punctuation" in dropped[0].rejected


def test_split_points_find_the_gap() -> None:
    mask = np.zeros((40, 60), np.uint8)
    mask[:, 5:25] = 255
    mask[18:22, 25:33] = 255  # a thin bridge where two digits touch
    mask[:, 33:55] = 255
    (column,) = segment.split_points(mask, 2)
    assert 25 <= column <= 33
    pieces = segment.cut(Candidate(BBox(10, 10, 60, 40), mask), [column])
    assert len(pieces) == 2 and pieces[0].bbox.x == 15 and pieces[1].bbox.x2 == 65


def test_a_ring_is_a_digit_not_a_frame() -> None:
    import cv2

    ink = np.zeros((200, 200), np.uint8)
    cv2.ellipse(ink, (100, 100), (30, 45), 0, 0, 360, 255, 6)  # a 0
    (cand,) = segment.reject_by_shape(
        segment.find_candidates(ink, CONFIG), 200, CONFIG, merged=False
    )
    assert cand.rejected is None


def test_a_hairline_is_rejected_before_it_can_swallow_digits() -> None:
    margin = Candidate(BBox(100, 0, 3, 90), np.full((90, 3), 255, np.uint8))
    digit = blob(90, 30, 20, 40)  # overlaps the margin line horizontally
    checked = segment.reject_by_shape([margin, digit], 300, CONFIG, merged=False)
    assert "hairline" in checked[0].rejected
    assert digit in segment.merge_strokes(checked, CONFIG)


def test_a_digit_written_with_a_fine_pen_is_not_a_hairline(monkeypatch) -> None:
    # At 12 MP a fine pen is 3 px wide on a 120 px digit: as thin as a page's edge.
    ink = np.zeros((800, 900), np.uint8)
    cv2.circle(ink, (130, 140), 35, 255, 3)  # a 9: a loop and a stem
    cv2.line(ink, (165, 140), (150, 260), 255, 3)
    cv2.line(ink, (300, 100), (330, 260), 255, 3)  # a page's edge, a little tilted
    cv2.polylines(ink, [np.array([(450, 100), (450, 260), (560, 260)])], False, 255, 3)  # a corner
    bracket = np.array([(720, 100), (620, 100), (620, 220), (720, 220)])  # a piece of a box
    cv2.polylines(ink, [bracket], False, 255, 3)
    # A comb box drawn in perspective: it winds, but no digit is that wide.
    box = np.array([(100, 490), (500, 400), (505, 490), (105, 590)])
    cv2.polylines(ink, [box], True, 255, 3)
    for x in (200, 300, 400):
        top = 490 - (x - 100) * 90 // 400
        cv2.line(ink, (x, top), (x + 2, top + 100), 255, 3)

    def reasons() -> dict[tuple[int, int], str | None]:
        found = segment.reject_by_shape(
            segment.find_candidates(ink, CONFIG), 800, CONFIG, merged=False
        )
        return {(c.bbox.x // 100, c.bbox.y // 100): c.rejected for c in found}

    checked = reasons()
    assert checked[0, 1] is None  # the 9
    assert checked[2, 0] == checked[4, 0] == segment.HAIRLINE  # the edge, the corner
    assert checked[0, 3] == checked[6, 0] == segment.HAIRLINE  # the box, the bracket
    monkeypatch.setattr(segment, "_HAIRLINE_DIGIT_ASPECT", 100.0)
    assert reasons()[0, 3] is None
    monkeypatch.setattr(segment, "_sides_covered", lambda mask: 0)
    assert reasons()[6, 0] is None
    monkeypatch.setattr(segment, "_HAIRLINE_MAX_WINDING", 100.0)
    assert reasons()[0, 1] == segment.HAIRLINE


def test_a_printed_sign_beside_a_box_is_not_a_digit() -> None:
    borders = np.zeros((300, 600), np.uint8)
    borders[90:160, 148:150] = 255  # the amount box's left border
    sign = blob(120, 105, 18, 30)
    digits = [blob(160 + 35 * i, 100, 25, 45) for i in range(3)]
    strings, rejected = segment.split_at_borders([sign, *digits], borders, CONFIG)
    assert strings == [digits] and rejected[0].bbox == sign.bbox


def test_comb_boxes_keep_their_string() -> None:
    borders = np.zeros((300, 600), np.uint8)
    digits = [blob(100 + 50 * i, 100, 25, 45) for i in range(4)]
    for i in range(3):
        borders[95:150, 137 + 50 * i] = 255  # a separator in every gap
    strings, rejected = segment.split_at_borders(digits, borders, CONFIG)
    assert strings == [digits] and rejected == []


def test_a_comb_row_whose_sides_are_dashes_on_one_side_keeps_its_string() -> None:
    # Faint drop-out print: the line finder found the separators of the right half of the
    # row only; on the left they binarised as dashes. The row is still one string.
    borders = np.zeros((300, 700), np.uint8)
    binary = np.zeros_like(borders)
    digits = [blob(100 + 50 * i, 100, 25, 45) for i in range(6)]
    for i in range(5):
        x = 137 + 50 * i
        if i >= 3:
            borders[95:150, x] = 255
        for y in range(95, 150, 6):  # dashes 4 px long every 6 px, leaning a little
            binary[y : y + 4, x + (y - 95) // 30 : x + 2 + (y - 95) // 30] = 255
    strings, _ = segment.split_at_borders(digits, borders, CONFIG, binary=binary)
    assert strings == [digits]
    assert len(segment.split_at_borders(digits, borders, CONFIG)[0]) > 1  # without the dashes
    # As many specks scattered over the gaps (texture, noise) are no side.
    scattered = np.zeros_like(binary)
    rng = np.random.default_rng(0)
    for i in range(5):
        ys = rng.integers(95, 150, 36)
        xs = 127 + 50 * i + rng.integers(0, 20, 36)
        scattered[ys, xs] = 255
    assert len(segment.split_at_borders(digits, borders, CONFIG, binary=scattered)[0]) > 1


def test_a_box_side_left_in_a_comb_row_is_not_a_one() -> None:
    borders = np.zeros((300, 700), np.uint8)
    digits = [blob(100 + 50 * i, 100, 25, 45) for i in range(5)]
    for i in (0, 1, 3):
        borders[95:150, 137 + 50 * i] = 255  # the separators the line removal found
    side = blob(237, 92, 4, 60)  # one it missed: reaches above and below the digits
    # What is left of a side as tall as the digits, midway between two of them: each digit
    # has a box of its own, so nothing is written there.
    crowded = blob(239, 101, 5, 44)
    for extra in (side, crowded):
        line = sorted([*digits, extra], key=lambda c: c.bbox.x)
        digits_out, rejected = segment.drop_box_sides(line, borders, CONFIG)
        assert digits_out == digits and [c.rejected for c in rejected] == ["a side of a box"]
    # A written 1 in a box of its own (instead of the fourth digit) stays, and so do 1s in
    # every other box (left out of the pitch, they would double it).
    ones = [*digits[:3], blob(260, 101, 5, 44), digits[4]]
    assert segment.drop_box_sides(ones, borders, CONFIG) == (ones, [])
    ones = [blob(110 + 50 * i, 101, 5, 44) if i % 2 else digits[i] for i in range(5)]
    assert segment.drop_box_sides(ones, borders, CONFIG) == (ones, [])
    # Not a row of boxes (no separators): a tall thin blob is left to the classifier.
    out, rejected = segment.drop_box_sides([*digits[:2], side], np.zeros_like(borders), CONFIG)
    assert len(out) == 3 and rejected == []


def test_a_big_digit_under_uneven_light_is_not_an_edge(monkeypatch) -> None:
    # A felt-pen 6 filling a sticky note, the light falling off across it (40% of the paper
    # round it under 0.8 of its lightest tenth), and the same 6 on the note's edge.
    gray = np.tile(np.linspace(40, 180, 600).astype(np.uint8), (400, 1))
    gray[:, 430:] = 30  # the desk
    binary = np.zeros_like(gray)
    for x in (150, 420):
        cv2.ellipse(binary, (x, 250), (45, 50), 0, 0, 360, 255, 18)
        cv2.line(binary, (x - 40, 230), (x + 10, 100), 255, 18)
    gray[binary > 0] = 20
    six, on_edge = (
        Candidate(BBox(x - 60, 90, 120, 220), binary[90:310, x - 60 : x + 60].copy())
        for x in (150, 420)
    )
    out = segment.reject_edge_strokes([six, on_edge], gray, binary, CONFIG)
    assert out[0].rejected is None
    assert out[1].rejected == "an edge between light and dark, not a stroke"
    monkeypatch.setattr(segment, "_RING_DARK_SHARE_RATIO", 1.0)
    out = segment.reject_edge_strokes([six, on_edge], gray, binary, CONFIG)
    assert out[0].rejected is not None


def test_slivers_on_the_paper_edge_are_rejected() -> None:
    paper = np.zeros((300, 400), np.uint8)
    paper[:, 100:] = 255
    sliver = Candidate(BBox(101, 50, 4, 60), np.full((60, 4), 255, np.uint8))
    digit = blob(200, 50, 25, 45)
    out = segment.reject_on_edges([sliver, digit], paper, CONFIG)
    assert out[0].rejected == "on the edge of the paper" and out[1].rejected is None


def test_a_box_side_broken_in_two_is_not_two_ones() -> None:
    digits = [blob(200 + 40 * i, 60, 25, 30) for i in range(4)]
    upper, lower = blob(180, 50, 4, 24), blob(180, 76, 4, 18)  # a side, broken, 44 px
    out = segment.reject_broken_lines([*digits, upper, lower])
    assert [c.rejected for c in out] == [None] * 4 + [segment.LINE_PIECE] * 2
    # Two 1s on two lines of writing, and a 1 broken by a pen skip, stay.
    ones = [blob(180, 60, 4, 30), blob(181, 110, 4, 30), blob(380, 60, 4, 14), blob(380, 76, 4, 14)]
    assert all(c.rejected is None for c in segment.reject_broken_lines([*digits, *ones]))


def test_a_sliver_split_off_a_felt_pen_stroke_joins_it() -> None:
    def ring(x: int, y: int, pen: int) -> Candidate:
        mask = np.zeros((60, 36), np.uint8)
        cv2.ellipse(mask, (18, 30), (15, 27), 0, 0, 360, 255, pen)
        return Candidate(BBox(x, y, 36, 60), mask)

    zero = ring(100, 50, 10)  # a felt-pen 0 ...
    sliver = blob(139, 60, 2, 31)  # ... with a pale streak splitting a sliver off its side
    merged = segment.merge_strokes([zero, sliver], CONFIG)
    assert len(merged) == 1 and merged[0].bbox == BBox(100, 50, 41, 60)
    # A 1 written as close with a pen as wide as the 0's stays a digit of its own.
    thin_zero, one = ring(100, 50, 3), blob(139, 60, 3, 40)
    assert len(segment.merge_strokes([thin_zero, one], CONFIG)) == 2


def test_only_hairlines_shaped_like_a_digit_are_reconsidered() -> None:
    digits = [blob(100 + 50 * i, 100, 30, 50) for i in range(3)]

    def hairline(w: int, h: int, draw) -> Candidate:
        mask = np.zeros((h, w), np.uint8)
        draw(mask)
        return Candidate(BBox(400, 100, w, h), mask, segment.HAIRLINE)

    four = hairline(
        24,
        50,
        lambda m: (
            cv2.line(m, (3, 0), (1, 25), 255, 1),
            cv2.line(m, (1, 25), (22, 25), 255, 1),
            cv2.line(m, (18, 5), (16, 49), 255, 1),
        ),
    )
    upright = hairline(6, 50, lambda m: cv2.line(m, (3, 0), (2, 49), 255, 1))
    corner = hairline(
        30,
        50,
        lambda m: (cv2.line(m, (0, 0), (0, 49), 255, 1), cv2.line(m, (0, 49), (29, 49), 255, 1)),
    )
    # A fine-pen 7 written half again as tall as the printed digits round it (a Sudoku's
    # givens set the page's digit height; the handwritten digits are larger).
    big_seven = hairline(
        40,
        78,
        lambda m: (cv2.line(m, (0, 1), (38, 1), 255, 1), cv2.line(m, (38, 1), (12, 77), 255, 1)),
    )
    # A number written with a fine pen and joined to its underline is wider than a digit.
    wide = hairline(70, 50, lambda m: cv2.line(m, (0, 0), (69, 49), 255, 1))
    tall = hairline(30, 120, lambda m: cv2.line(m, (0, 0), (29, 119), 255, 1))
    # A corner of ruling and a fine-pen 5 or 7 both run along two sides of their box: the
    # classifier tells them apart.
    out = segment.reconsider_hairlines([*digits, four, big_seven, corner, wide, upright, tall])
    assert out[:3] == digits
    assert all(c.rejected is None and c.suspect == segment.HAIRLINE for c in out[3:7])
    assert all(c.rejected == segment.HAIRLINE and c.suspect is None for c in out[7:])
    # A number written all with a fine pen: its hairlines are the page's digits.
    alone = segment.reconsider_hairlines([four, upright, tall])
    assert alone[0].suspect == segment.HAIRLINE and alone[0].rejected is None
    assert all(c.rejected == segment.HAIRLINE for c in alone[1:])


def test_trim_bars_cuts_a_long_bar_off_the_body() -> None:
    mask = np.zeros((60, 150), np.uint8)
    cv2.ellipse(mask, (25, 38), (18, 18), 0, 0, 360, 255, 6)  # the body: a ring
    cv2.line(mask, (30, 4), (148, 4), 255, 6)  # a bar far past its right side
    trimmed = segment.trim_bars(Candidate(BBox(100, 200, 150, 60), mask))
    assert trimmed is not None
    # The ring's columns (4-46) and 15% of the height (9 px) of the bar past them.
    assert (trimmed.bbox.x, trimmed.bbox.w) == (104, 52)
    assert (trimmed.bbox.y, trimmed.bbox.h) == (201, 59)
    # A bar alone, or a blob without a bar, has nothing to cut off.
    bar = np.full((6, 120), 255, np.uint8)
    assert segment.trim_bars(Candidate(BBox(0, 0, 120, 6), bar)) is None
    ring = np.ascontiguousarray(mask[:, :50])
    assert segment.trim_bars(Candidate(BBox(0, 0, 50, 60), ring)) is None


def test_a_comb_rows_pitch_is_found_and_a_blob_that_fits_a_box_is_one() -> None:
    # Boxes 50 px apart, one side not found; the third box holds two pieces (a 4 whose
    # strokes do not meet: read joined by the grouping search, see test_grouping).
    borders = np.zeros((300, 600), np.uint8)
    for i in (0, 1, 2, 3, 5, 6):
        borders[90:155, 88 + 50 * i] = 255
    line = [blob(100, 100, 25, 45), blob(150, 100, 25, 45), blob(198, 105, 12, 40)]
    line += [blob(214, 100, 10, 45)] + [blob(250 + 50 * i, 100, 25, 45) for i in range(3)]
    pitch = segment.box_pitch(line, borders, CONFIG)
    assert pitch == pytest.approx(50, rel=0.1)  # sides, or blob centres if closer
    assert segment.fits_one_box(line[0], pitch) and not segment.fits_one_box(
        blob(0, 0, 46, 45), pitch
    )
    # Without the sides the string is no row of boxes: nothing is known about its digits.
    assert segment.box_pitch(line, np.zeros_like(borders), CONFIG) is None
    assert not segment.fits_one_box(line[0], None)


def test_a_sixs_stem_broken_off_its_loop_merges_on_a_page_of_taller_digits() -> None:
    # f191 sticky-34: a 6's stem (29x28) came off its loop (55x49); together they are 79 px
    # tall, more than 1.6 times the loop, but no taller than the page's other digits (~85).
    loop, stem = blob(398, 455, 55, 49), blob(436, 425, 29, 28)
    digits = [blob(492 + 100 * i, 428, 70, 85 + i) for i in range(4)]
    merged = segment.merge_strokes([loop, stem, *digits], CONFIG)
    assert BBox(398, 425, 67, 79) in [c.bbox for c in merged] and len(merged) == 5
    # Alone on the page (nothing says how tall its digits are), the two stay apart.
    assert len(segment.merge_strokes([loop, stem], CONFIG)) == 2


def _underlined(line_y: int, rise: int = 4, pen: int = 5) -> Candidate:
    """A "10" drawn 60 px tall, two blobs apart, and a line under both from row ``line_y``.

    The line drops ``rise`` px from left to right, ``pen`` px thick.
    """
    mask = np.zeros((80, 110), np.uint8)
    cv2.line(mask, (20, 5), (20, 62), 255, 6)  # the 1
    cv2.ellipse(mask, (62, 34), (18, 29), 0, 0, 360, 255, 6)  # the 0
    cv2.line(mask, (4, line_y), (104, line_y + rise), 255, pen)
    return Candidate(BBox(200, 300, 110, 80), mask)


@pytest.mark.parametrize(
    ("line_y", "rise", "pen"),
    [(66, 4, 5), (62, 12, 3), (74, -12, 3)],
    ids=["level", "falling-thin", "rising-thin"],
)
def test_an_underline_joining_a_number_is_taken_out_and_its_digits_stand_apart(
    line_y: int, rise: int, pen: int
) -> None:
    # A thin line drawn with a tilt holds no level run half the number's width long.
    parts = segment.strip_underline(_underlined(line_y, rise, pen), ScanConfig())
    assert parts is not None and len(parts) == 2
    one, zero = parts
    assert one.bbox.x < 230 < zero.bbox.x  # left to right, in the page's pixels
    assert one.bbox.w <= 12  # a 1 with no foot of the line left on it
    assert one.bbox.h >= 55 and zero.bbox.h >= 55  # the digits keep their height
    assert all(part.bbox.y + part.bbox.h <= 300 + 70 for part in parts)  # the line is gone


def test_a_blob_with_no_line_under_it_is_left_alone() -> None:
    mask = np.zeros((80, 110), np.uint8)
    cv2.ellipse(mask, (55, 40), (30, 34), 0, 0, 360, 255, 6)
    assert segment.strip_underline(Candidate(BBox(0, 0, 110, 80), mask), ScanConfig()) is None
    # A bar across the top (a 5's or a 7's) is no underline either.
    top = _underlined(66).mask[::-1].copy()
    assert segment.strip_underline(Candidate(BBox(0, 0, 110, 80), top), ScanConfig()) is None
