"""Segmentation by recognition (digitscan.grouping): units, groups and the best path."""

from __future__ import annotations

import cv2
import numpy as np

from digitscan import grouping, segment
from digitscan.config import ScanConfig
from digitscan.types import BBox, Candidate


def blob(x: int, w: int, h: int = 40, y: int = 0) -> Candidate:
    mask = np.zeros((h, w), np.uint8)
    mask[:, : max(1, w // 4)] = 255  # a stroke on the left
    mask[:, -max(1, w // 4) :] = 255  # and one on the right, thin ink between
    mask[h // 2 - 1 : h // 2 + 1] = 255
    return Candidate(BBox(x, y, w, h), mask)


def proba_rows(rows: list[tuple[int, float]], classes: int = 11) -> np.ndarray:
    """One probability row per (class, p): p on that class, the rest spread evenly."""
    out = np.full((len(rows), classes), 0.0, np.float32)
    for i, (k, p) in enumerate(rows):
        out[i] = (1 - p) / (classes - 1)
        out[i, k] = p
    return out


def test_only_a_blob_wider_than_a_digit_is_cut() -> None:
    config = ScanConfig()
    narrow, wide = blob(0, 30), blob(40, 100)
    assert not grouping.cuttable(narrow, config) and grouping.cuttable(wide, config)
    cuts = grouping.cut_columns(wide)
    assert cuts and all(0 < c < 100 for c in cuts)
    units = grouping.units_of([narrow, wide], config)
    assert units.owner[0] == 0 and units.owner.count(1) == len(units.pieces) - 1 >= 2
    assert [u.bbox.x for u in units.pieces] == sorted(u.bbox.x for u in units.pieces)


def test_groups_cover_whole_blobs_their_parts_skips_and_small_neighbours() -> None:
    config = ScanConfig()
    line = [blob(0, 30), blob(34, 10, h=20), blob(80, 100)]
    units = grouping.units_of(line, config)
    groups = grouping.groups_of(line, units, config)
    spans = {(g.first, g.stop, g.whole, g.skip) for g in groups}
    assert (0, 1, True, False) in spans and (0, 1, True, True) in spans  # whole, or skipped
    assert (0, 2, True, False) in spans  # a blob and the small piece beside it: a broken digit
    last_first = units.owner.index(2)
    assert any(g.first >= last_first and not g.whole for g in groups)  # parts of the wide blob
    assert not any(g.first < last_first < g.stop for g in groups)  # no join with a wide blob
    assert all(g.skip is False or g.whole for g in groups)  # only whole blobs are skipped


def two_halves() -> list[grouping.Group]:
    """A blob as wide as two digits: whole, skipped, and its left and right halves."""
    whole = grouping.Group(0, 2, blob(0, 60), whole=True)
    skip = grouping.Group(0, 2, whole.piece, whole=True, skip=True)
    left = grouping.Group(0, 1, blob(0, 28), whole=False)
    right = grouping.Group(1, 2, blob(30, 28), whole=False)
    return [whole, skip, left, right]


def test_the_best_path_reads_touching_digits_apart_when_the_whole_is_not_a_digit() -> None:
    groups = whole, skip, left, right = two_halves()
    # The whole blob reads as "not a digit" (two digits together), each half surely.
    proba = proba_rows([(10, 0.6), (10, 0.6), (8, 0.95), (9, 0.9)])
    path = grouping.best_grouping(groups, proba, 2)
    assert [g for g, _ in path] == [left, right]
    # Read surely whole (a wide 0), the whole wins over two unsure halves.
    proba = proba_rows([(0, 0.97), (0, 0.97), (1, 0.6), (7, 0.5)])
    assert [g for g, _ in grouping.best_grouping(groups, proba, 2)] == [whole]
    # Read as not a digit whole and in halves alike (a printed word): skipped.
    proba = proba_rows([(10, 0.99), (10, 0.99), (10, 0.9), (10, 0.9)])
    assert [g for g, _ in grouping.best_grouping(groups, proba, 2)] == [skip]


def test_a_blob_read_as_several_digits_is_cut_not_skipped() -> None:
    # An underlined number joined into one blob, its halves read unsurely (the underline's
    # pieces on them). Read as "not a digit" whole, skipping it is cheaper than reading the
    # halves; read as "several digits" (a classifier with that class), it is no junk.
    groups = whole, skip, left, right = two_halves()
    junk = np.zeros((4, 12), np.float32)
    junk[:2, 10], junk[:2, 1] = 0.8, 0.2  # the whole: junk ...
    junk[2, [1, 10]] = 0.6, 0.4  # ... its halves: a 1 and a 0, each 40% junk
    junk[3, [0, 10]] = 0.6, 0.4
    assert [g for g, _ in grouping.best_grouping(groups, junk[:, :11], 2)] == [skip]
    several = junk.copy()
    several[:2, [10, 11]] = 0.0, 0.8  # the whole: several digits
    assert [g for g, _ in grouping.best_grouping(groups, several, 2)] == [left, right]


def test_without_a_not_a_digit_class_nothing_is_skipped() -> None:
    whole = grouping.Group(0, 1, blob(0, 30), whole=True)
    skip = grouping.Group(0, 1, whole.piece, whole=True, skip=True)
    proba = proba_rows([(3, 0.2), (3, 0.2)], classes=10)
    assert [g for g, _ in grouping.best_grouping([whole, skip], proba, 1)] == [whole]


def test_aligned_grouping_reads_the_label_where_the_free_reading_does_not() -> None:
    whole = grouping.Group(0, 2, blob(0, 60), whole=True)
    skip = grouping.Group(0, 2, whole.piece, whole=True, skip=True)
    left = grouping.Group(0, 1, blob(0, 28), whole=False)
    right = grouping.Group(1, 2, blob(30, 28), whole=False)
    speck = grouping.Group(2, 3, blob(70, 8, h=8), whole=True)
    speck_skip = grouping.Group(2, 3, speck.piece, whole=True, skip=True)
    groups = [whole, skip, left, right, speck, speck_skip]
    classes = np.arange(11)
    # Read freely as one wide 0 beside a speck; the label "17" must be the two halves,
    # each labelled though one half reads as a 4, and the speck skipped.
    proba = proba_rows([(0, 0.9), (0, 0.9), (1, 0.8), (4, 0.6), (10, 0.9), (10, 0.9)])
    free = [g for g, _ in grouping.best_grouping(groups, proba, 3)]
    assert free == [whole, speck_skip]
    path = grouping.aligned_grouping(groups, proba, 3, classes, "17")
    assert path is not None
    assert [(g, k) for g, _, k in path] == [(left, 0), (right, 1), (speck_skip, None)]
    # One digit: the whole blob; three digits: the speck must be the third.
    assert [g for g, _, _ in grouping.aligned_grouping(groups, proba, 3, classes, "0")] == [
        whole,
        speck_skip,
    ]
    three = grouping.aligned_grouping(groups, proba, 3, classes, "175")
    assert [k for _, _, k in three] == [0, 1, 2] and three[2][0] is speck
    # More digits than any grouping has, or a label that is no digit string: no alignment.
    assert grouping.aligned_grouping(groups, proba, 3, classes, "1750") is None
    assert grouping.aligned_grouping(groups, proba, 3, classes, "1a") is None


def test_touching_slanted_digits_are_cut_along_their_slant() -> None:
    # Two strokes leaning half a column per row, joined at their feet: an upright cut gives
    # the top of one to the other; cut along the slant, each stroke is a part whole.
    h = 60
    mask = np.zeros((h, 80), np.uint8)
    for x0 in (10, 32):  # the second starts left of where the first ends
        cv2.line(mask, (x0, h - 1), (x0 + h // 2, 0), 255, 5)
    cv2.line(mask, (10, h - 3), (35, h - 3), 255, 5)
    cand = Candidate(BBox(0, 0, 80, h), mask)
    lean = segment.cut_slant(mask, [2])
    assert 0.4 <= lean <= 0.6
    units = grouping.units_of([cand], ScanConfig())
    tall = [p for p in units.pieces if p.bbox.h >= h - 4]
    assert len(tall) == 2  # (the cuts into three part the bridge between them)
    assert units.slants == [lean]
