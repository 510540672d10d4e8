"""Real handwriting for training and measuring: scanned register numbers and pen digits.

The data folder (``../shared/data`` in development, see its README) holds:

- ``registers/{train,validation}.tar``: column crops of scanned parish registers, each with the
  row's running number as written (``labels.csv``: ``filename,label``). A label gives the
  string, not where its digits are, so :func:`harvest_registers` lines each label up with
  the crop's ink by the reader's own scores (forced alignment: the grouping of the pieces
  that reads exactly the label) and keeps the digits it finds, labelled from the label (so
  misread, joined and dropped digits are kept with their true label), and, as "not a digit"
  examples, what that grouping skips and pieces of two digits together.
- ``pen-digits-16px/digits.npz``: 16x16 colour scans of pen digits from forms (European 1s and
  7s); :func:`load_pen_digits` brings them to MNIST's form.

Everything here is for training and benches; the reading path never imports it.
"""

from __future__ import annotations

import csv
import io
import logging
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from digitscan.classifiers.base import NOT_DIGIT, SEVERAL_DIGITS, digit_proba, digitness
from digitscan.errors import DataError
from digitscan.grouping import Group, aligned_grouping, best_grouping
from digitscan.normalize import to_mnist
from digitscan.pipeline import Scores

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Harvest:
    """Crops cut from real images by the reader and labelled by alignment with the truth.

    Attributes:
        images: uint8 ``(N, 28, 28)``, bright ink, as the reader normalises its crops.
        labels: uint8 ``(N,)``: 0-9, :data:`NOT_DIGIT` or :data:`SEVERAL_DIGITS`.
        images_read: Crops read; ``aligned``: those whose reading lined up with the label.
    """

    images: NDArray[np.uint8]
    labels: NDArray[np.uint8]
    images_read: int
    aligned: int


def register_crops(
    tar_path: Path | str, *, limit: int | None = None, offset: int = 0
) -> Iterator[tuple[str, NDArray[np.uint8], str]]:
    """``(file name, BGR image, label)`` of a register split, digit-string labels only.

    Args:
        tar_path: ``registers/train.tar`` or ``validation.tar``.
        limit: Take every k-th crop so that ``limit`` are given (all if None).
        offset: Start the every-k-th selection this many crops in.

    Raises:
        DataError: The file is missing or is not such a tar.
    """
    tar_path = Path(tar_path)
    try:
        tar = tarfile.open(tar_path)  # noqa: SIM115 (closed by the with block below)
    except (OSError, tarfile.TarError) as exc:
        raise DataError(f"cannot open the register split ({exc})", path=tar_path) from None
    with tar:
        members = {Path(m.name).name: m for m in tar.getmembers() if m.isfile()}
        if "labels.csv" not in members:
            raise DataError("no labels.csv in the register split", path=tar_path)
        text = io.TextIOWrapper(tar.extractfile(members["labels.csv"]), "utf-8")  # type: ignore[arg-type]
        rows = [r for r in csv.DictReader(text) if r["label"].isdigit()]
        if limit is not None and limit < len(rows):
            step = len(rows) / limit
            rows = [rows[(offset + int(i * step)) % len(rows)] for i in range(limit)]
        for row in rows:
            member = members.get(row["filename"])
            if member is None:
                continue
            data = tar.extractfile(member).read()  # type: ignore[union-attr]
            image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
            if image is not None:
                yield row["filename"], image, row["label"]


def load_pen_digits(path: Path | str) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
    """The 16x16 pen digits in MNIST's form: uint8 ``(N, 28, 28)`` bright ink, and labels.

    Each scan is made grey and inverted, its paper tone (the brightest tenth) taken as zero,
    enlarged four times and normalised like every crop the reader classifies.

    Raises:
        DataError: The file is missing or lacks ``images``/``labels``.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            images, labels = data["images"], data["labels"]
    except (OSError, KeyError, ValueError) as exc:
        raise DataError(f"cannot read the pen digits ({exc})", path=path) from None
    out = np.zeros((len(images), 28, 28), np.uint8)
    for i, rgb in enumerate(images):
        ink = 255 - cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.int16)
        ink = np.clip(ink - np.percentile(ink, 10), 0, 255)
        peak = max(float(ink.max()), 1.0)
        big = cv2.resize(
            (ink * (255 / peak)).astype(np.uint8), (64, 64), interpolation=cv2.INTER_CUBIC
        )
        big[big < 40] = 0  # paper grain left by the scan would widen the ink's box
        out[i] = to_mnist(big)
    return out, labels.astype(np.uint8)


def is_bar(digit: NDArray[np.uint8]) -> bool:
    """Whether a normalised crop is a plain bar, upright or slanting: a 1's shape.

    A piece of ruling or of a scanner's border is not a digit, but normalised it cannot be told
    from a 1 (only its size and place can), so such crops are not "not a digit" examples. The
    bar's thinness is measured across its own direction (the ink's least-area rectangle).
    """
    points = cv2.findNonZero((digit > 127).astype(np.uint8))
    if points is None:
        return False
    (_, _), (w, h), _ = cv2.minAreaRect(points)
    return bool(min(w, h) + 1 <= BAR_MAX_WIDTH_FRAC * (max(w, h) + 1))


#: A piece left out of the label's reading is no "not a digit" example if it reads as one
#: digit at least this surely: a crop also shows other rows' numbers.
SKIPPED_MAX_SURE = 0.5
#: A normalised crop no wider across than this share of its length is a bar (a 1's shape).
BAR_MAX_WIDTH_FRAC = 0.4


def harvest_registers(
    tar_path: Path | str,
    score: Callable[[NDArray[np.uint8]], Scores | None],
    *,
    limit: int | None = None,
    offset: int = 0,
    negatives_per_crop: int = 2,
) -> Harvest:
    """Cut labelled crops out of a register split by forced alignment (module docstring).

    Each crop's strings are scored (every grouping of their pieces classified), and the
    grouping that reads exactly the label is found
    (:func:`digitscan.grouping.aligned_grouping`). The crop is used where that grouping is
    anchored by the free reading: at least half of the label's digits are read from the same
    pieces as the best grouping (:func:`digitscan.grouping.best_grouping`) reads, whatever
    digit it makes of them. Then:

    - each digit group of the aligned grouping is that label digit, also where the free
      reading misread, joined or dropped it;
    - each piece the aligned grouping skips is "not a digit", unless it is a plain bar (which
      normalised cannot be told from a 1: :func:`is_bar`) or reads as one digit surely (a
      crop also shows numbers of other rows: digits, but not the label's);
    - where every digit of the label is read from the free reading's pieces, up to
      ``negatives_per_crop`` groups holding two of its digits or more are "several digits"
      (:data:`SEVERAL_DIGITS`), the likeliest digits first (the mistakes the grouping must
      not make).

    Args:
        tar_path: The split's tar.
        score: Scores one BGR image (:func:`digitscan.pipeline.score_image` with a model).
        limit: As :func:`register_crops`.
        offset: As :func:`register_crops`.
        negatives_per_crop: See above.

    Returns:
        The :class:`Harvest`.
    """
    images: list[NDArray[np.uint8]] = []
    labels: list[int] = []
    seen = aligned = 0
    for _name, image, label in register_crops(tar_path, limit=limit, offset=offset):
        seen += 1
        scores = score(image)
        if scores is None:
            continue
        groups, rows, n_units = _one_string(scores)
        proba = scores.proba[rows]
        path = aligned_grouping(groups, proba, n_units, scores.classes, label)
        if path is None:
            continue
        free = {
            (group.first, group.stop)
            for group, _ in best_grouping(groups, proba, n_units)
            if not group.skip
        }
        digit_spans = [(group.first, group.stop) for group, _, k in path if k is not None]
        anchored = sum(span in free for span in digit_spans)
        if 2 * anchored < len(label):
            continue
        aligned += 1
        for _group, g, k in path:
            crop = scores.images[rows[g]]
            if k is not None:
                images.append(crop)
                labels.append(int(label[k]))
            elif not is_bar(crop) and digit_proba(proba[g : g + 1]).max() < SKIPPED_MAX_SURE:
                images.append(crop)
                labels.append(NOT_DIGIT)
        if anchored == len(label) and negatives_per_crop:
            wrong = [scores.images[rows[g]] for g in _wrong_groups(groups, digit_spans, proba)]
            wrong = [crop for crop in wrong if not is_bar(crop)][:negatives_per_crop]
            images += wrong
            labels += [SEVERAL_DIGITS] * len(wrong)
    if not images:
        return Harvest(np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.uint8), seen, aligned)
    return Harvest(np.stack(images), np.asarray(labels, np.uint8), seen, aligned)


def _one_string(scores: Scores) -> tuple[list[Group], list[int], int]:
    """All strings' groups as one string (units numbered on), with their rows in the batch."""
    groups: list[Group] = []
    rows: list[int] = []
    offset = 0
    for string in scores.strings:
        groups += [
            replace(group, first=group.first + offset, stop=group.stop + offset)
            for group in string.groups
        ]
        rows += string.rows
        offset += len(string.units.pieces)
    return groups, rows, offset


def _wrong_groups(
    groups: list[Group], digit_spans: list[tuple[int, int]], proba: NDArray[np.float32]
) -> list[int]:
    """Groups holding two label digits or more whole, the likeliest digits first.

    (A piece cut across two digits, or part of one, is no sure "not a digit": the right of a
    1 with the left of a 4 can look like a 4, a 5's body without its flag is still a 5.)
    """
    wrong = []
    for g, group in enumerate(groups):
        if group.skip:
            continue
        held = [(a, b) for a, b in digit_spans if group.first <= a and b <= group.stop]
        if len(held) >= 2:
            wrong.append(g)
    return sorted(wrong, key=lambda g: -float(digitness(proba[g : g + 1])[0]))
