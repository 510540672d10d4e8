"""Real handwriting for training and measuring: scanned register numbers and pen digits.

The data folder (``../shared/data`` in development, see its README) holds:

- ``registers/{train,validation}.tar``: column crops of scanned parish registers, each with the
  row's running number as written (``labels.csv``: ``filename,label``). A label gives the
  string, not where its digits are, so :func:`harvest_registers` reads each crop with the
  current reader and keeps the crops that line up with the label: the digits of a string read
  with as many digits as the label (labelled from the label, so misread digits are kept with
  their true label), and, as "not a digit" examples, what was read beside a label found
  whole in the reading (printed footers, ruling, specks read as digits) and the blobs the
  reader set aside on crops it read right.
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from digitscan.classifiers.base import NOT_DIGIT
from digitscan.errors import DataError
from digitscan.normalize import to_mnist

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Harvest:
    """Crops cut from real images by the reader and labelled by alignment with the truth.

    Attributes:
        images: uint8 ``(N, 28, 28)``, bright ink, as the reader normalises its crops.
        labels: uint8 ``(N,)``: 0-9, or :data:`NOT_DIGIT`.
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


def align(read: str, label: str) -> list[int | None] | None:
    """Which read digit is which label digit: one entry per read digit, or None if unsure.

    The entry is the index of the label digit the read digit stands for, or None for a read
    digit that is not part of the label. Returns None where the two do not line up surely:

    - as many digits read as written: position by position, if at least half agree (so a
      single digit misread is never harvested: it might be something else read instead);
    - more digits read: where the label occurs exactly once in the reading, the rest are not
      digits (a footer or a ruling read as digits).
    """
    if len(read) == len(label):
        agree = sum(a == b for a, b in zip(read, label, strict=True))
        return list(range(len(read))) if 2 * agree >= len(read) and agree else None
    starts = [i for i in range(len(read) - len(label) + 1) if read.startswith(label, i)]
    if len(read) > len(label) and len(starts) == 1:
        at = starts[0]
        return [i - at if at <= i < at + len(label) else None for i in range(len(read))]
    return None


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


#: A normalised crop no wider across than this share of its length is a bar (a 1's shape).
BAR_MAX_WIDTH_FRAC = 0.4


def harvest_registers(
    tar_path: Path | str,
    read: Callable[[NDArray[np.uint8]], Any],
    *,
    limit: int | None = None,
    offset: int = 0,
    digit_image: Callable[[Any], NDArray[np.uint8]] | None = None,
) -> Harvest:
    """Cut labelled crops out of a register split with a reader (see the module docstring).

    Args:
        tar_path: The split's tar.
        read: Reads one BGR image into a :class:`~digitscan.types.Reading`.
        limit: As :func:`register_crops`.
        offset: As :func:`register_crops`.
        digit_image: Normalises a rejected candidate (e.g.
            :func:`digitscan.pipeline.digit_image` with the config); without it, rejected
            blobs are not harvested.

    Returns:
        The :class:`Harvest`.
    """
    images: list[NDArray[np.uint8]] = []
    labels: list[int] = []
    seen = aligned = 0
    for _name, image, label in register_crops(tar_path, limit=limit, offset=offset):
        seen += 1
        reading = read(image)
        digits = [d for line in reading.lines for d in line.digits]
        roles = align("".join(str(d.label) for d in digits), label)
        if roles is None:
            continue
        aligned += 1
        for digit, role in zip(digits, roles, strict=True):
            if role is not None:
                images.append(digit.image28)
                labels.append(int(label[role]))
            elif not is_bar(digit.image28):
                images.append(digit.image28)
                labels.append(NOT_DIGIT)
        if digit_image is not None and all(r is not None for r in roles):
            for cand in reading.rejected:
                crop = digit_image(cand)
                if crop.any() and not is_bar(crop):
                    images.append(crop)
                    labels.append(NOT_DIGIT)
    if not images:
        return Harvest(np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.uint8), seen, aligned)
    return Harvest(np.stack(images), np.asarray(labels, np.uint8), seen, aligned)
