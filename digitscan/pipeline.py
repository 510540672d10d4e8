"""The reading pipeline: a loaded page in, a :class:`Reading` out.

Stages, each recorded as a :class:`Step`:
working resolution (from the text's height for a small image) -> grey -> flat illumination,
paper mask -> adaptive threshold -> deskew -> ruled lines and boxes removed -> blobs (specks,
frames, hairlines, page-edge slivers rejected) -> broken strokes merged -> strings -> split at
box borders -> punctuation out -> units and groups of each string (:mod:`digitscan.grouping`)
-> MNIST normalisation -> classification (one batch; unsure digits read again with the faint
strokes round them, :mod:`digitscan.faint`; a narrow blob read as several digits cut, and a
blob read as no digit or several with a line under it read without the line, and read
again) -> the best grouping of each string (not-digits
skipped) -> signs, marks and stray strings rejected.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from digitscan import faint, grouping, preprocess, segment, stringscore
from digitscan.classifiers.base import (
    NOT_DIGIT,
    SEVERAL_DIGITS,
    Classifier,
    digit_proba,
    not_digit_proba,
)
from digitscan.config import ScanConfig
from digitscan.normalize import to_mnist
from digitscan.types import LOW_CONFIDENCE, BBox, Candidate, Digit, Line, Page, Reading, Step

log = logging.getLogger(__name__)

#: Why a piece is dropped when the classifier reads it as "not a digit".
READ_AS_NOT_DIGIT = "read as not a digit"
#: Why the digits of a string read mostly as "not a digit" are dropped with it.
IN_PRINTED_WORDS = "in a string read mostly as not digits (printed words)"


def make_page(image: NDArray[np.uint8], config: ScanConfig, source: Path | None = None) -> Page:
    """Wrap a BGR uint8 ``(H, W, 3)`` image as a :class:`Page` at working resolution."""
    scale, reference = preprocess.working_scale(image, config)
    working = preprocess.resize_by(image, scale)
    return Page(
        source=source,
        image=working,
        scale=scale,
        original_size=(image.shape[1], image.shape[0]),
        reference_px=reference,
    )


def read_page(
    page: Page,
    config: ScanConfig,
    model: Classifier,
    stages: dict[str, NDArray[np.uint8]] | None = None,
) -> Reading:
    """Read the digit strings of a page.

    Args:
        page: The page at working resolution.
        config: Pipeline settings.
        model: A fitted classifier (MNIST convention).
        stages: If given, filled with the intermediate images (for ``--debug-dir``).

    Returns:
        The :class:`Reading`: strings top to bottom, boxes in original pixels, rejected
        candidates and the steps that ran.
    """
    start = time.perf_counter()
    images, skew, to_original, strings, rejected = segment_page(page, config)
    if stages is not None:
        stages.update(images)
    chosen, more_rejected = read_strings(strings, config, model, to_original, images)
    lines, more_rejected = keep_belonging(chosen, page.original_size, more_rejected)
    rejected += more_rejected
    steps = (
        Step("load", {"scale": round(page.scale, 4), "original_size": list(page.original_size)}),
        Step("preprocess", {"skew_deg": round(skew, 2), "settings": config.key()}),
        Step("segment", {"strings": len(strings), "rejected": len(rejected)}),
        Step(
            "classify", {"model": _model_name(model), "digits": sum(len(ln.digits) for ln in lines)}
        ),
    )
    reading = Reading(
        source=page.source,
        lines=tuple(lines),
        rejected=tuple(replace(c, bbox=to_original(c.bbox)) for c in rejected),
        steps=steps,
        seconds=time.perf_counter() - start,
        model=_model_name(model),
    )
    log.debug("%s: %d strings, %d rejected blobs", page.source, len(lines), len(rejected))
    return reading


def segment_page(
    page: Page, config: ScanConfig
) -> tuple[
    dict[str, NDArray[np.uint8]],
    float,
    Callable[[BBox], BBox],
    list[list[Candidate]],
    list[Candidate],
]:
    """Every stage before classification, as :func:`read_page` runs them.

    Returns:
        ``(images, skew_deg, to_original, strings, rejected)``: the page stages
        (:func:`digitscan.preprocess.prepare`), the measured skew, the map from levelled
        working pixels to original pixels, and :func:`find_strings`' strings and rejects.
    """
    images, skew = preprocess.prepare(preprocess.to_gray(page.image), config, page.reference_px)
    strings, rejected = find_strings(images, config, page.reference_px)
    return images, skew, box_mapper(page, skew), strings, rejected


def find_strings(
    images: dict[str, NDArray[np.uint8]], config: ScanConfig, reference_px: int = 0
) -> tuple[list[list[Candidate]], list[Candidate]]:
    """The segmentation stages: from the cleaned ink to strings of digit candidates.

    Args:
        images: From :func:`digitscan.preprocess.prepare` (``ink``, ``paper``, ``borders``).
        config: Pipeline settings.
        reference_px: The page size the page is measured by (:attr:`Page.reference_px`):
            no digit is taller than ``max_height_frac`` of it.

    Returns:
        ``(strings, rejected)``: candidates left to right per string, strings top to bottom
        (levelled working pixels), and every blob judged not a digit, with its reason.
    """
    page_h = max(images["ink"].shape[0], reference_px)
    candidates = segment.find_candidates(images["ink"], config)
    candidates = segment.reject_by_shape(candidates, page_h, config, merged=False)
    candidates = segment.reject_on_edges(candidates, images["paper"], config)
    candidates = segment.reject_edge_strokes(candidates, images["gray"], images["binary"], config)
    candidates = segment.reject_line_pieces(candidates, images["borders"])
    candidates = segment.merge_strokes(candidates, config)
    candidates = segment.reject_by_shape(candidates, page_h, config, merged=True)
    candidates = segment.reject_broken_lines(candidates)
    candidates = segment.reconsider_hairlines(candidates)
    suspects = [c for c in candidates if c.suspect is not None and c.rejected is None]
    if suspects:  # rejected as hairlines first, they skipped the checks against edges
        checked = segment.reject_on_edges(suspects, images["paper"], config)
        checked = segment.reject_edge_strokes(checked, images["gray"], images["binary"], config)
        checked = segment.reject_line_pieces(checked, images["borders"])
        candidates = [c for c in candidates if c.suspect is None or c.rejected] + checked
    rejected = [c for c in candidates if c.rejected is not None]
    kept = [c for c in candidates if c.rejected is None]
    strings = []
    marks = [c for c in rejected if c.rejected == segment.TOO_SHORT]
    borders = images["borders"]
    leaning = segment.with_upright_rejects(borders, candidates)
    for grouped in segment.group_lines(kept, config, marks):
        pieces, signs = segment.split_at_borders(
            grouped, borders, config, leaning, images["binary"]
        )
        rejected += signs
        whole_h = float(np.median([c.bbox.h for c in grouped]))
        for line in pieces:
            boxed, sides = segment.drop_box_sides(line, leaning, config)
            digits, dropped = segment.drop_punctuation(boxed, config, whole_h)
            rejected += sides + dropped
            if digits:
                strings.append(digits)
    return strings, rejected


def digit_image(cand: Candidate, config: ScanConfig) -> NDArray[np.uint8]:
    """A candidate's mask as MNIST would show it: stroke width evened out, then normalised.

    Thin pens on large digits would almost vanish when shrunk to 20 px, and felt pens would
    fill the loops; the stroke is dilated or eroded towards ``stroke_width_frac`` of the
    digit's longest side first.
    """
    mask = cand.mask
    longest = max(mask.shape)
    width = preprocess.stroke_width(mask)
    target = config.stroke_width_frac * longest
    # A k x k kernel widens (dilate) or narrows (erode) a stroke by k - 1 pixels.
    if width < 0.7 * target:
        k = max(1, round(target - width) + 1) | 1
        mask = cv2.dilate(np.pad(mask, k), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    elif width > 1.8 * target:
        k = max(1, round(width - target) + 1) | 1
        eroded = cv2.erode(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
        if eroded.sum() > 0.2 * mask.sum():
            mask = eroded
    digit = to_mnist(mask)
    peak = int(digit.max())
    if 0 < peak < 255:  # a thin stroke shrunk by area averaging: restore full-strength ink
        digit = cv2.convertScaleAbs(digit, alpha=255 / peak)
    return digit


def read_strings(
    lines: list[list[Candidate]],
    config: ScanConfig,
    model: Classifier,
    to_original: Callable[[BBox], BBox],
    images: dict[str, NDArray[np.uint8]],
) -> tuple[list[list[tuple[Digit, Candidate]]], list[Candidate]]:
    """Every string read as digits, signs and marks dropped: what the string scorer judges.

    ``images`` are the page stages (:func:`digitscan.preprocess.prepare`).
    """
    scores = score_strings(lines, config, model, images)
    if scores is None:
        return [], []
    chosen, rejected = _choose_by_search(scores, config, to_original)
    if config.reject_currency_signs:
        chosen = _drop_currency_signs(chosen, rejected)
    trimmed = []
    for digits in chosen:
        digits, marks = _trim_marks(digits, config)
        rejected += marks
        if digits:
            trimmed.append(digits)
    return trimmed, rejected


def image_strings(
    image: NDArray[np.uint8], config: ScanConfig, model: Classifier
) -> tuple[list[list[Digit]], tuple[int, int]]:
    """A BGR image's strings as :func:`read_strings` gives them to the string scorer.

    Returns:
        ``(strings, frame)``: each string's digits (boxes in the image's pixels) and the
        image's ``(width, height)``; for fitting the scorer (``tools/fit_string_scorer.py``).
    """
    page = make_page(image, config)
    images, _skew, to_original, strings, _rejected = segment_page(page, config)
    chosen, _ = read_strings(strings, config, model, to_original, images)
    return [[digit for digit, _ in line] for line in chosen], page.original_size


def keep_belonging(
    lines: list[list[tuple[Digit, Candidate]]],
    frame: tuple[int, int],
    rejected: list[Candidate],
) -> tuple[list[Line], list[Candidate]]:
    """The strings the trained scorer (:mod:`digitscan.stringscore`) gives to the reading.

    A string is dropped, its pieces rejected, when its probability of belonging is under
    :data:`digitscan.stringscore.KEEP_ABOVE`: another row's number cut by a crop's edge, a
    heading, printed words, a page edge read as a lone 1.
    """
    if not lines:
        return [], rejected
    belong = stringscore.load_scorer().belong_proba([[d for d, _ in line] for line in lines], frame)
    out = []
    for line, p in zip(lines, belong, strict=True):
        if p >= stringscore.KEEP_ABOVE:
            out.append(Line(tuple(d for d, _ in line)))
        else:
            reason = f"in a string scored {p:.2f} to belong to the reading"
            rejected += [replace(piece, rejected=reason) for _, piece in line]
    return out, rejected


@dataclass(frozen=True, slots=True)
class ScoredString:
    """One string cut into units, every group of them worth reading, and where each is scored.

    ``rows[g]`` is the row of :attr:`Scores.proba` (and :attr:`Scores.images`) that scores
    ``groups[g]``.
    """

    units: grouping.Units
    groups: list[grouping.Group]
    rows: list[int]


@dataclass(frozen=True, slots=True)
class Scores:
    """Every string's groups classified in one batch (:func:`score_strings`).

    Attributes:
        strings: One :class:`ScoredString` per string, top to bottom.
        images: uint8 ``(N, 28, 28)``: each scored piece as the classifier saw it.
        proba: float32 ``(N, C)``: its class probabilities.
        classes: The classifier's ``classes_`` (the columns of ``proba``).
    """

    strings: list[ScoredString]
    images: NDArray[np.uint8]
    proba: NDArray[np.float32]
    classes: NDArray[np.int64]


def score_strings(
    lines: list[list[Candidate]],
    config: ScanConfig,
    model: Classifier,
    images: dict[str, NDArray[np.uint8]],
) -> Scores | None:
    """Cut each string into units and groups (:mod:`digitscan.grouping`) and classify them all.

    A blob too narrow to be tried cut that the classifier reads whole as several digits
    (most likely of all its classes) is cut after all, and its string classified again.

    Returns None when there is nothing to classify.
    """
    pitches = [
        segment.box_pitch(line, images["borders"], config, images["binary"]) for line in lines
    ]
    batch: list[NDArray[np.uint8]] = []
    shown: list[Candidate | None] = []
    strings = [
        _group_string(line, pitch, config, batch, shown)
        for line, pitch in zip(lines, pitches, strict=True)
    ]
    if not batch:
        return None
    proba = _classify_with_faint(batch, shown, images, model, config)
    classes = np.asarray(model.classes_)
    again_batch: list[NDArray[np.uint8]] = []
    again_shown: list[Candidate | None] = []
    for k, string in enumerate(strings):
        redo = _regroup(lines[k], string, proba, classes, config)
        if redo is not None:
            line, several = redo
            again = _group_string(line, pitches[k], config, again_batch, again_shown, several)
            strings[k] = replace(again, rows=[len(batch) + row for row in again.rows])
    if again_batch:
        again_proba = _classify_with_faint(again_batch, again_shown, images, model, config)
        batch += again_batch
        proba = np.concatenate([proba, again_proba])
    return Scores(strings, np.stack(batch), proba, classes)


def _group_string(
    line: list[Candidate],
    pitch: float | None,
    config: ScanConfig,
    batch: list[NDArray[np.uint8]],
    shown: list[Candidate | None],
    several: frozenset[int] = frozenset(),
) -> ScoredString:
    """One string's units and groups, each group's image added to ``batch`` to classify."""
    units = grouping.units_of(line, config, pitch, several)
    groups = grouping.groups_of(line, units, config)
    rows: list[int] = []
    for g, group in enumerate(groups):
        if group.skip and g and groups[g - 1].piece is group.piece:  # read as the one before
            rows.append(rows[-1])
            continue
        rows.append(len(batch))
        batch.append(digit_image(group.piece, config))
        shown.append(group.piece if group.whole else None)
    return ScoredString(units, groups, rows)


def _regroup(
    line: list[Candidate],
    string: ScoredString,
    proba: NDArray[np.float32],
    classes: NDArray[np.int64],
    config: ScanConfig,
) -> tuple[list[Candidate], frozenset[int]] | None:
    """The string's blobs to group again, and which of them to cut however narrow.

    A blob read whole as several digits or as not a digit (most likely of all classes) that
    has a line drawn under it (:func:`digitscan.segment.strip_underline`) is read again
    without the line, its parts as blobs of their own. An uncut blob read whole as several
    digits is cut. None if no blob is either.
    """
    if SEVERAL_DIGITS not in classes:  # a classifier of digits only
        return None
    owner = string.units.owner
    whole = {  # blob -> its likeliest class read whole
        owner[group.first]: int(classes[np.argmax(proba[row])])
        for group, row in zip(string.groups, string.rows, strict=True)
        if group.piece is line[owner[group.first]] and not group.skip
    }
    out: list[Candidate] = []
    several: set[int] = set()
    changed = False
    for k, cand in enumerate(line):
        read = whole.get(k)
        parts = (
            segment.strip_underline(cand, config) if read in (NOT_DIGIT, SEVERAL_DIGITS) else None
        )
        if parts is not None:
            out += parts
            changed = True
            continue
        if read == SEVERAL_DIGITS and owner.count(k) == 1:
            several.add(len(out))
            changed = True
        out.append(cand)
    return (out, frozenset(several)) if changed else None


def score_image(image: NDArray[np.uint8], config: ScanConfig, model: Classifier) -> Scores | None:
    """:func:`score_strings` of a BGR image, segmented as :func:`read_page` would."""
    images, _skew, _to_original, strings, _rejected = segment_page(make_page(image, config), config)
    return score_strings(strings, config, model, images)


def _choose_by_search(
    scores: Scores, config: ScanConfig, to_original: Callable[[BBox], BBox]
) -> tuple[list[list[tuple[Digit, Candidate]]], list[Candidate]]:
    """Read each string as the best grouping of its pieces (:mod:`digitscan.grouping`)."""
    proba = scores.proba
    chosen: list[list[tuple[Digit, Candidate]]] = []
    rejected: list[Candidate] = []
    for string in scores.strings:
        rows, groups = string.rows, string.groups
        path = grouping.best_grouping(groups, proba[rows], len(string.units.pieces))
        digits: list[tuple[Digit, Candidate]] = []
        not_digits = 0
        for group, g in path:
            row, piece = proba[rows[g]], group.piece
            if group.skip:
                p_not = float(not_digit_proba(row[None])[0])
                digit, why = None, f"{READ_AS_NOT_DIGIT} ({p_not:.2f})"
            else:
                image = scores.images[rows[g]]
                digit, why = _as_digit(piece, row, image, scores.classes, config, to_original)
            if digit is not None:
                digits.append((digit, piece))
            elif why is not None:
                rejected.append(replace(piece, rejected=why))
                not_digits += group.whole and why.startswith(READ_AS_NOT_DIGIT)
        _keep_string(digits, not_digits, chosen, rejected)
    return chosen, rejected


def _as_digit(
    piece: Candidate,
    row: NDArray[np.float32],
    image: NDArray[np.uint8],
    labels: NDArray[np.int64],
    config: ScanConfig,
    to_original: Callable[[BBox], BBox],
) -> tuple[Digit | None, str | None]:
    """A chosen piece as a digit, or why it is not one (None: kept out of the text quietly).

    With a "not a digit" class, a piece is not a digit when that is more probable than all
    the digits together; otherwise it is its likeliest digit. A classifier without that
    class must read a piece with at least ``config.reject_confidence`` to make it a digit.
    """
    if piece.bbox.w > config.digit_max_aspect * piece.bbox.h:
        return None, "too wide for one digit"
    p_not = float(not_digit_proba(row[None])[0])
    if p_not > 0.5:
        return None, f"{READ_AS_NOT_DIGIT} ({p_not:.2f})"
    label_index = int(digit_proba(row[None])[0].argmax())
    sure = float(row[label_index])
    if len(labels) <= NOT_DIGIT and sure < config.reject_confidence:
        return None, f"not a digit (best guess {labels[label_index]} at {sure:.2f})"
    if sure < config.min_confidence:
        return None, None
    digit = Digit(
        bbox=to_original(piece.bbox), label=int(labels[label_index]), proba=row, image28=image
    )
    return digit, None


def _keep_string(
    digits: list[tuple[Digit, Candidate]],
    not_digits: int,
    chosen: list[list[tuple[Digit, Candidate]]],
    rejected: list[Candidate],
) -> None:
    """Add a string's digits to ``chosen``, unless it is printed words."""
    if digits and not_digits >= max(len(digits), _WORDS_MIN_NOT_DIGITS):
        # Mostly not digits: printed words (an "o" reads as a 0, an "l" as a 1 among them).
        # A number with its underline and a full stop beside it is not dropped.
        rejected += [replace(c, rejected=IN_PRINTED_WORDS) for _, c in digits]
    elif digits:
        chosen.append(digits)


#: A string is printed words if at least half its pieces, and this many, are not digits.
_WORDS_MIN_NOT_DIGITS = 3


def _trim_marks(
    digits: list[tuple[Digit, Candidate]], config: ScanConfig
) -> tuple[list[tuple[Digit, Candidate]], list[Candidate]]:
    """Drop a string's characters whose size gives them away as marks, not digits.

    A printed "$" before an amount box whose border is too faint to separate it is first,
    reads as 5 or 8, is far shorter than the digits and stands apart from them (a small 5
    written first is spaced like the digits after it); a piece of a box's side reads as 1 at
    either end and is far shorter; a page edge or fold joined to a string reads as 1 and is
    far taller; a long comma ("1,250") reads as 1 inside the string and is far shorter.
    """
    rejected: list[Candidate] = []
    for end in (0, -1):
        if len(digits) < 3:
            break
        digit, piece = digits[end]
        rest = digits[1:] if end == 0 else digits[:-1]
        ratio = piece.bbox.h / float(np.median([p.bbox.h for _, p in rest]))
        sign = (
            end == 0
            and digit.label in _DOLLAR_LOOKALIKES
            and ratio < config.sign_max_frac
            and not _spaced_like_digits(digits)
        )
        stray = digit.label == 1 and not (
            config.fragment_max_frac <= ratio <= config.edge_min_factor
        )
        if sign or stray:
            digits = rest
            what = "a printed sign" if sign else "a piece of a frame or an edge"
            rejected.append(replace(piece, rejected=f"{what}, read as {digit.label}"))
    if len(digits) >= 3:
        # Inside a string, a 1 that short is a long comma or a sliver of a stroke: a written
        # 1 is as tall as its neighbours.
        median = float(np.median([p.bbox.h for _, p in digits]))
        kept = []
        for i, (digit, piece) in enumerate(digits):
            inside = 0 < i < len(digits) - 1
            if inside and digit.label == 1 and piece.bbox.h < config.fragment_max_frac * median:
                rejected.append(
                    replace(piece, rejected="a comma or a sliver of a stroke, read as 1")
                )
            else:
                kept.append((digit, piece))
        digits = kept
    return digits, rejected


#: A "$" (read as a 5 or an 8) is narrow at both ends, where its bar sticks out of the S:
#: the ink in the top and bottom 12% of its rows spans under 35% of its width if read as a
#: 5, 30% as an 8 (an 8 open at the top, whose bottom is a small loop, comes close), and is
#: centred within 25% of the width. Measured: every drawn $ (the cheque font at any size,
#: hand-drawn); 0.4% of MNIST's training 5s, 0.03% of its 8s; none of 742 5s and 8s cut
#: from 400 photos (photocrops, seed 4242).
_DOLLAR_BAND, _DOLLAR_CENTRE = 0.12, 0.25
_DOLLAR_WIDTH = {5: 0.35, 8: 0.3}
_DOLLAR_LOOKALIKES = tuple(_DOLLAR_WIDTH)
#: A 5 shorter than the digits after it passes for a "$" with ends under half its width,
#: centred within 15%: the printed "$" before an amount box is rarely as tall as the amount.
#: Measured on 1,426 rendered photos: 69 of 76 signs read as 5 (under the stricter test 58),
#: none of 693 5s and 8s that begin a string; 0.6% of MNIST's training 5s.
_SMALL_DOLLAR_WIDTH = {5: 0.5}
_SMALL_DOLLAR_CENTRE, _SMALL_DOLLAR_HEIGHT = 0.15, 0.95
#: ... or, read as a 3 or a 5, when its topmost and bottommost rows of ink (the tips of its
#: bar) each span under 30% of its width, centred within 15% of it: a printed "$" photographed
#: small and blurred, whose S grows wide right under the tips. Measured on 2,626 rendered
#: photos: 4 cheques more read right, none lost (with 8s too, two 8s starting a string were
#: lost); of MNIST's training digits 0.7% of 3s and 1.3% of 5s pass the tests for a smaller
#: first digit (0.6% of 5s before).
_TIP_LABELS = (3, 5)
_TIP_WIDTH, _TIP_CENTRE = 0.3, 0.15
#: A "$" standing alone just before the amount (its own string, a box's side between) may
#: have tips under 35% of its width, centred within 20%: photographed at 640x480 the tips
#: blur into the S's curves. A lone digit that small beside a number is rare; 3.0% of MNIST's
#: training 3s and 3.4% of 5s pass (hence not for a string's first digit). Measured: 2
#: cheques more of 240 (seeds 353 and 359, looked into after their scoring), none changed
#: on 2,257 other rendered photos.
_LONE_TIP_WIDTH, _LONE_TIP_CENTRE = 0.35, 0.2


def _drop_currency_signs(
    lines: list[list[tuple[Digit, Candidate]]], rejected: list[Candidate]
) -> list[list[tuple[Digit, Candidate]]]:
    """Drop a "$" read as a digit: a string's first character, or alone just left of a string.

    A lone "$" is its own string when the gap to the amount (a box's side between) is wide.
    """
    boxes = [BBox.around(piece.bbox for _, piece in line) for line in lines]
    kept = []
    for i, line in enumerate(lines):
        digit, piece = line[0]
        after = line[1:] or next(
            (
                other
                for other, box in zip(lines, boxes, strict=True)
                if len(other) > 1 and _just_before(boxes[i], box)
            ),
            [],
        )
        reference = float(np.median([p.bbox.h for _, p in after])) if after else 0.0
        small = piece.bbox.h < _SMALL_DOLLAR_HEIGHT * reference
        alone = len(line) == 1
        shaped = looks_like_dollar(digit) or (
            small and looks_like_dollar(digit, smaller=True, alone=alone)
        )
        if shaped and not _spaced_like_digits(line):
            rejected.append(replace(piece, rejected=f"a currency sign, read as {digit.label}"))
            line = line[1:]
        if line:
            kept.append(line)
    return kept


def _spaced_like_digits(line: list[tuple[Digit, Candidate]]) -> bool:
    """Whether a string's first character stands no further from the next than its digits do.

    A printed "$" stands apart from the amount written after it (a box's side and margin
    between): on 80 rendered cheques its gap was at least 1.7 times the amount's median gap.
    A 3 or a 5 shaped like one but written as the first digit of a number is spaced like
    the digits after it.
    """
    boxes = [piece.bbox for _, piece in line]
    if len(boxes) < 3:
        return False
    gaps = [b.x - a.x2 for a, b in zip(boxes[1:-1], boxes[2:], strict=True)]
    return boxes[1].x - boxes[0].x2 < _DOLLAR_GAP * max(1.0, float(np.median(gaps)))


#: See :func:`_spaced_like_digits`.
_DOLLAR_GAP = 1.2


def _just_before(box: BBox, line: BBox) -> bool:
    """Whether ``box`` sits beside ``line`` (level with much of it) a short way before its start.

    The amount is often written higher than the printed "$" beside its box.
    """
    overlap = min(box.y2, line.y2) - max(box.y, line.y)
    return overlap >= 0.4 * box.h and -0.1 * line.h <= line.x - box.x2 <= 1.5 * line.h


def looks_like_dollar(digit: Digit, smaller: bool = False, alone: bool = False) -> bool:
    """Whether a digit read as 3, 5 or 8 is really a "$" sign (checked on its 28x28 image).

    ``smaller``: the digit is shorter than the amount after it, and looser tests apply (to
    5s; and, by the tips of the bar alone, to 3s and 5s). Otherwise only 5s and 8s are tested.
    ``alone``: it is a string of its own just before the amount; the tips may be wider.
    """
    widths = _SMALL_DOLLAR_WIDTH if smaller else _DOLLAR_WIDTH
    tips = smaller and digit.label in _TIP_LABELS
    if digit.label not in widths and not tips:
        return False
    ink = digit.image28 > 60
    rows = np.nonzero(ink.any(axis=1))[0]
    cols = np.nonzero(ink.any(axis=0))[0]
    if rows.size < 5:
        return False
    width = cols[-1] - cols[0] + 1

    def span(part: NDArray[np.bool_]) -> tuple[int, float]:
        """Width of the ink in some rows, and its centre as a fraction of the ink's width."""
        used = np.nonzero(part.any(axis=0))[0]
        if not used.size:
            return 0, 0.5
        return int(used[-1] - used[0] + 1), ((used[0] + used[-1]) / 2 - cols[0]) / width

    def narrow_ends(band: int, narrow: float, centre: float) -> bool:
        """Whether the top and bottom ``band`` rows of ink are narrow and centred."""
        ends = span(ink[rows[0] : rows[0] + band]), span(ink[rows[-1] - band + 1 : rows[-1] + 1])
        return all(w < narrow and abs(at - 0.5) < centre for w, at in ends)

    tip = (_LONE_TIP_WIDTH, _LONE_TIP_CENTRE) if alone else (_TIP_WIDTH, _TIP_CENTRE)
    if tips and narrow_ends(1, tip[0] * width, tip[1]):
        return True
    if digit.label not in widths:
        return False
    # The ends of a "$" are its bar, through the middle; a 5's narrow ends (a bar slanting
    # up to the right, a tail curling left) are at its sides.
    band = max(1, round(_DOLLAR_BAND * (rows[-1] - rows[0] + 1)))
    centre = _SMALL_DOLLAR_CENTRE if smaller else _DOLLAR_CENTRE
    return narrow_ends(band, widths[digit.label] * width, centre)


_CROSS_3X3 = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))


def classify(
    digits: NDArray[np.uint8], model: Classifier, *, stroke_variants: bool = True
) -> NDArray[np.float32]:
    """Class probabilities of MNIST-normalised digits, optionally averaged over pen widths.

    With ``stroke_variants`` each digit is also classified one pixel thicker and one thinner
    (all in one batch) and the three results averaged: a crop's stroke width is the least
    certain thing about it after normalising.

    Args:
        digits: uint8 ``(N, 28, 28)``, bright ink.
        model: A fitted classifier.
        stroke_variants: Average over the thicker and thinner variants.

    Returns:
        float32 ``(N, 10)``.
    """
    if not stroke_variants:
        return np.asarray(model.predict_proba(digits), np.float32)
    thicker = np.stack([cv2.dilate(d, _CROSS_3X3) for d in digits])
    thinner = np.stack([cv2.erode(d, _CROSS_3X3) for d in digits])
    proba = np.asarray(model.predict_proba(np.concatenate([digits, thicker, thinner])), np.float32)
    return proba.reshape(3, len(digits), -1).mean(axis=0)


def _classify_with_faint(
    batch: list[NDArray[np.uint8]],
    shown: list[Candidate | None],
    images: dict[str, NDArray[np.uint8]],
    model: Classifier,
    config: ScanConfig,
) -> NDArray[np.float32]:
    """Class probabilities of the batch, with the faint strokes round unsure blobs counted.

    ``shown[i]`` is the blob ``batch[i]`` shows (None for a piece of a blob cut into
    touching digits). Where a blob is read less surely than ``_FAINT_BELOW`` and
    :func:`digitscan.faint.with_faint_strokes` finds strokes round it, it is also classified
    with them and the two readings averaged.
    """
    proba = classify(np.stack(batch), model, stroke_variants=config.stroke_variants)
    if not config.faint_strokes:
        return proba
    grown_at: list[int] = []
    grown: list[NDArray[np.uint8]] = []
    for i in np.nonzero(digit_proba(proba).max(axis=1) < _FAINT_BELOW)[0]:
        blob = shown[i]
        if blob is None:
            continue
        more = faint.with_faint_strokes(blob, images["flat"], images["binary"], images["lines"])
        if more is not None:
            grown_at.append(int(i))
            grown.append(digit_image(more, config))
    if grown:
        more_proba = classify(np.stack(grown), model, stroke_variants=config.stroke_variants)
        proba[grown_at] = (proba[grown_at] + more_proba) / 2
    return proba


#: Only blobs read less surely than this get a second reading with their faint strokes:
#: on 2,257 rendered photos, every blob (cut pieces too) or those under 0.99 or 0.9 gave the
#: same readings; blobs and joins under 0.99 cost 1-2 ms a photo (every blob: 5 ms).
_FAINT_BELOW = 0.99


def box_mapper(page: Page, skew_deg: float) -> Callable[[BBox], BBox]:
    """Map boxes from the levelled working image back to original-image pixels."""
    if not skew_deg:
        return lambda box: box.scaled(page.scale)
    inverse = cv2.invertAffineTransform(preprocess.level_transform(page.image.shape, skew_deg)[0])

    def to_original(box: BBox) -> BBox:
        corners = np.array(
            [[box.x, box.y, 1], [box.x2, box.y, 1], [box.x, box.y2, 1], [box.x2, box.y2, 1]],
            np.float64,
        )
        xs, ys = (corners @ inverse.T).T
        x0, y0 = max(0, int(np.floor(xs.min()))), max(0, int(np.floor(ys.min())))
        mapped = BBox(
            x0, y0, max(1, int(np.ceil(xs.max())) - x0), max(1, int(np.ceil(ys.max())) - y0)
        )
        return mapped.scaled(page.scale)

    return to_original


def _model_name(model: Any) -> str:
    card = getattr(model, "card_", None)
    if isinstance(card, dict):
        return f"{card.get('name', '?')} ({card.get('weights', '?')})"
    return type(model).__name__


def draw_overlay(image: NDArray[np.uint8], reading: Reading) -> NDArray[np.uint8]:
    """The image with digit boxes, labels and confidences (green), rejected blobs (red).

    Args:
        image: The original BGR uint8 image (boxes are in its pixels).
        reading: Its reading.

    Returns:
        A new BGR uint8 image.
    """
    out = image.copy()
    thickness = max(1, round(max(image.shape[:2]) / 800))
    font_scale = max(0.4, max(image.shape[:2]) / 1600)
    for cand in reading.rejected:
        x, y, w, h = cand.bbox
        cv2.rectangle(out, (x, y), (x + w, y + h), (0, 0, 220), thickness)
    for line in reading.lines:
        lx, ly, lw, lh = line.bbox
        cv2.rectangle(out, (lx - 4, ly - 4), (lx + lw + 4, ly + lh + 4), (200, 120, 0), thickness)
        for digit in line.digits:
            x, y, w, h = digit.bbox
            colour = (0, 170, 0) if digit.confidence >= LOW_CONFIDENCE else (0, 165, 255)
            cv2.rectangle(out, (x, y), (x + w, y + h), colour, thickness)
            cv2.putText(
                out,
                f"{digit.label} {digit.confidence:.2f}",
                (x, max(12, y - 4)),
                cv2.FONT_HERSHEY_SIMPLEX,
                font_scale,
                colour,
                thickness,
                cv2.LINE_AA,
            )
    return out
