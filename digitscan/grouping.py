"""Segmentation by recognition: the best grouping of a string's pieces into digits.

A string's blobs are not always one digit each: touching digits make one blob, a broken
stroke makes two, a printed letter or a speck is no digit at all. Rather than rules for each
case, the string is cut into *units* (each blob, and each blob wider than a digit cut further
at its likeliest cut columns, :func:`digitscan.segment.split_points`, sheared along the
writing's slant), every plausible
*group* of consecutive units is classified, and the grouping whose digits the classifier reads
most surely wins (dynamic programming over the units, left to right). A group may be:

- a run of units of one blob (a blob whole, or one digit of several touching ones);
- two or three whole neighbouring blobs together no larger than a digit (a broken digit);
- a whole blob *skipped* as not a digit, when the classifier has a "not a digit" class, or
  a flat run of units low at either end of a cut blob (the tail of an underline drawn on
  from the last digit, or from before the first).

A path scores the sum of its groups' log-probabilities: ``log p(one digit)`` for a digit
(``1 - p(not a digit) - p(several digits)``; for a classifier without those classes, the
likeliest digit's probability) and ``log p(not a digit)`` for a skip: a piece read as
several digits together (a classifier trained with that class) is no junk, and skipping it
costs what reading it as junk would. Which digit a group is comes after; the
grouping asks only whether each group is one digit at all. Nothing here is tuned to a
renderer: which grouping wins is the classifier's call; only the sizes a digit can have
bound the groups tried.

Pixels are the page's working pixels; images are uint8 masks, ink 255.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from digitscan import segment
from digitscan.classifiers.base import digitness, junk_proba
from digitscan.config import ScanConfig
from digitscan.types import Candidate

#: A blob is cut into at most this many digits.
MAX_PARTS = 4
#: No digit is narrower than this share of its height when several touch (a 1 is a cut of
#: its own only if it stands apart): the most parts a blob is cut into follows from it.
MIN_PART_ASPECT = 0.35
#: Whole blobs joined into one broken digit: at most this many ...
MAX_JOINED = 3
#: ... together at most these times the string's digit height wide and tall.
JOINED_MAX_SIZE = (1.2, 1.35)
#: Probabilities are floored here before their log (a group read as impossible still ranks).
_FLOOR = 1e-6
#: The units at either end of a cut blob may be skipped as a tail (see the module
#: docstring) only if flatter than a digit, in the blob's lower half and at most this share
#: of the blob's height: a stroke, not a digit's body cut off.
TAIL_MAX_HEIGHT = 0.3


@dataclass(frozen=True, slots=True)
class Group:
    """One way to read units ``first`` to ``stop - 1`` of a string.

    Attributes:
        first, stop: The units it covers.
        piece: The ink read (one blob, a cut part, or a union of blobs).
        whole: The piece is one blob as segmented, or a union of whole blobs (not a cut part).
        skip: Read as not a digit and dropped (a whole blob, or units at either end of one).
    """

    first: int
    stop: int
    piece: Candidate
    whole: bool
    skip: bool = False


@dataclass(frozen=True, slots=True)
class Units:
    """A string cut into units: ``owner[i]`` is the blob (index in the string) unit ``i`` is of."""

    pieces: list[Candidate]
    owner: list[int]
    columns: list[tuple[int, int]]  # each unit's columns within its blob's mask
    slants: list[float]  # each blob's: its columns are those sheared upright by it
    sheared: list[NDArray[np.int64] | None]  # each blob's column map for it (None: upright)


def cuttable(cand: Candidate, config: ScanConfig, pitch: float | None = None) -> bool:
    """Whether a blob may be several touching digits, and is tried cut.

    It is wider than ``config.split_min_aspect`` times its height, and does not fit one box
    of a comb row (``pitch``).
    """
    aspect = cand.bbox.w / max(1, cand.bbox.h)
    return aspect > config.split_min_aspect and not segment.fits_one_box(cand, pitch)


def cut_columns(cand: Candidate, columns: NDArray[np.int64] | None = None) -> list[int]:
    """Every column a blob may be cut at: the best cuts into 2, 3, ... touching digits.

    With ``columns`` (:func:`digitscan.segment.sheared_columns`), the columns are those of the
    blob sheared upright.
    """
    mask = cand.mask if columns is None else segment.sheared_mask(cand.mask, columns)
    cuts: set[int] = set()
    for parts in _parts(cand):
        cuts.update(segment.split_points(mask, parts))
    return sorted(cuts)


def _parts(cand: Candidate) -> list[int]:
    """How many touching digits a blob may be cut into."""
    aspect = cand.bbox.w / max(1, cand.bbox.h)
    return list(range(2, max(2, min(MAX_PARTS, int(aspect / MIN_PART_ASPECT))) + 1))


def units_of(
    line: list[Candidate],
    config: ScanConfig,
    pitch: float | None = None,
    several: frozenset[int] = frozenset(),
) -> Units:
    """Cut a string's blobs into units (see :func:`cut_columns`), left to right.

    The blobs ``several`` (indices in ``line``) are cut however narrow: the classifier read
    them whole as several digits (a number joined to its underline is no wider than a
    digit). They are cut into two at least.

    A blob that may be cut is cut along its writing's slant
    (:func:`digitscan.segment.cut_slant`): an upright cut between slanted digits gives the
    top of one to the next (a leaning 1 beside a 0 read as 1 and 6).
    """
    pieces: list[Candidate] = []
    owner: list[int] = []
    columns: list[tuple[int, int]] = []
    slants: list[float] = []
    maps: list[NDArray[np.int64] | None] = []
    for k, cand in enumerate(line):
        lean, sheared, cuts = 0, None, []
        if k in several or cuttable(cand, config, pitch):
            lean = segment.cut_slant(cand.mask, _parts(cand))
            sheared = segment.sheared_columns(cand.mask, lean) if lean else None
            cuts = cut_columns(cand, sheared)
        slants.append(lean)
        maps.append(sheared)
        edges = [0, *cuts, cand.bbox.w if sheared is None else int(sheared.max()) + 1]
        for left, right in zip(edges, edges[1:], strict=False):
            piece = segment.column_piece(cand, left, right, sheared)
            if piece is not None:
                pieces.append(piece)
                owner.append(k)
                columns.append((left, right))
    return Units(pieces, owner, columns, slants, maps)


def groups_of(line: list[Candidate], units: Units, config: ScanConfig) -> list[Group]:
    """Every group of units worth classifying (see the module docstring)."""
    groups: list[Group] = []
    starts = [units.owner.index(k) for k in range(len(line))]
    stops = [*starts[1:], len(units.pieces)]
    for k, cand in enumerate(line):
        first, stop = starts[k], stops[k]
        groups.append(Group(first, stop, cand, whole=True))
        groups.append(Group(first, stop, cand, whole=True, skip=True))
        if cand.bbox.w > config.digit_max_aspect * cand.bbox.h:
            trimmed = segment.trim_bars(cand)
            if trimmed is not None and trimmed.bbox.w <= config.digit_max_aspect * trimmed.bbox.h:
                groups.append(Group(first, stop, trimmed, whole=True))
        sheared = units.sheared[k]
        for i in range(first, stop):
            for j in range(i + 1, stop + 1):
                if (i, j) == (first, stop):
                    continue
                left, right = units.columns[i][0], units.columns[j - 1][1]
                part = segment.column_piece(cand, left, right, sheared)
                if part is None:
                    continue
                if part.bbox.w <= config.digit_max_aspect * part.bbox.h:
                    groups.append(Group(i, j, part, whole=False))
                elif (i == first or j == stop) and _is_tail(part, cand):
                    groups.append(Group(i, j, part, whole=False, skip=True))
    if len(line) > 1:
        digit_h = segment.full_size_height(line, 0.6)
        for k in range(len(line) - 1):
            union = line[k]
            for m in range(k + 1, min(len(line), k + MAX_JOINED)):
                union = segment.union_of(union, line[m])
                if union.bbox.w > JOINED_MAX_SIZE[0] * digit_h:
                    break
                if union.bbox.h <= JOINED_MAX_SIZE[1] * digit_h:
                    groups.append(Group(starts[k], stops[m], union, whole=True))
    return groups


def _is_tail(part: Candidate, blob: Candidate) -> bool:
    """Whether a part at a blob's end may be an underline's tail: low in it and flat.

    See :data:`TAIL_MAX_HEIGHT`: not a 7's bar or a digit's body cut off.
    """
    low = part.bbox.y >= blob.bbox.y + blob.bbox.h / 2
    return low and part.bbox.h <= TAIL_MAX_HEIGHT * blob.bbox.h


def best_grouping(
    groups: list[Group], proba: NDArray[np.float32], n_units: int
) -> list[tuple[Group, int]]:
    """The groups (with their row in ``proba``) of the best-scoring path through all units.

    Args:
        groups: From :func:`groups_of`.
        proba: Class probabilities ``(len(groups), C)`` of each group's piece (a skip's row
            is its blob's).
        n_units: How many units the string has.

    Returns:
        The chosen groups left to right, skips included, each with its row index.
    """
    digit = np.log(np.maximum(digitness(proba), _FLOOR))
    skip = np.log(np.maximum(junk_proba(proba), _FLOOR))
    best = np.full(n_units + 1, -np.inf)
    best[0] = 0.0
    back: list[int | None] = [None] * (n_units + 1)
    for g in _by_stop(groups):
        group = groups[g]
        score = best[group.first] + (skip[g] if group.skip else digit[g])
        if score > best[group.stop]:
            best[group.stop], back[group.stop] = score, g
    path: list[tuple[Group, int]] = []
    at = n_units
    while at > 0:
        g = back[at]
        if g is None:  # no group reaches here (cannot happen: every blob has its whole)
            break
        path.append((groups[g], g))
        at = groups[g].first
    return path[::-1]


def aligned_grouping(
    groups: list[Group],
    proba: NDArray[np.float32],
    n_units: int,
    classes: NDArray[np.int64],
    label: str,
) -> list[tuple[Group, int, int | None]] | None:
    """The likeliest grouping that reads exactly ``label``: forced alignment, for training.

    As :func:`best_grouping`, but a digit group on the path must be the label's next digit
    and scores ``log p(that digit)``; a skip scores ``log p(not a digit)``. This lines up a
    string's known reading with its ink without per-digit boxes, also where the free reading
    misreads, joins or drops a digit.

    Returns:
        The path's groups left to right, each with its row index and the index of the label
        digit it is (None for a skip); None if no grouping has as many digits as the label.
    """
    column = {int(c): i for i, c in enumerate(classes)}
    if any(not ch.isdigit() or int(ch) not in column for ch in label):
        return None
    wanted = [column[int(ch)] for ch in label]
    skip = np.log(np.maximum(junk_proba(proba), _FLOOR))
    logp = np.log(np.maximum(proba, _FLOOR))
    n = len(wanted)
    best = np.full((n_units + 1, n + 1), -np.inf)
    best[0, 0] = 0.0
    back: dict[tuple[int, int], tuple[int, int]] = {}
    for g in _by_stop(groups):
        group = groups[g]
        for k in range(n + 1):
            before = best[group.first, k]
            if before == -np.inf:
                continue
            if group.skip:
                to, score = k, before + skip[g]
            elif k < n:
                to, score = k + 1, before + logp[g, wanted[k]]
            else:
                continue
            if score > best[group.stop, to]:
                best[group.stop, to] = score
                back[(group.stop, to)] = (g, k)
    if best[n_units, n] == -np.inf:
        return None
    path: list[tuple[Group, int, int | None]] = []
    at, k = n_units, n
    while at > 0:
        g, k_before = back[(at, k)]
        path.append((groups[g], g, None if groups[g].skip else k_before))
        at, k = groups[g].first, k_before
    return path[::-1]


def _by_stop(groups: list[Group]) -> list[int]:
    """The groups' indices in the order a left-to-right search takes them: by their end."""
    return sorted(range(len(groups)), key=lambda g: groups[g].stop)
