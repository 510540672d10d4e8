"""The records passed between pipeline stages, and the result of reading an image.

Conventions, decided once for every stage:

- Boxes are :class:`BBox` ``(x, y, w, h)`` in pixels of the **original** image (before any
  resize to the working resolution), as OpenCV writes them.
- Colour images are BGR uint8 ``(H, W, 3)`` as OpenCV loads them; grey images uint8 ``(H, W)``.
- Binary images are uint8 ``(H, W)`` with ink = 255 and background = 0.
- Digit images for the classifier are uint8 ``(28, 28)``, ink bright, MNIST-normalised.

All records are frozen dataclasses; array fields are not deeply immutable, so no stage writes
into an array it was given.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray


class BBox(NamedTuple):
    """An axis-aligned box: left ``x``, top ``y``, width ``w``, height ``h`` (pixels)."""

    x: int
    y: int
    w: int
    h: int

    @property
    def x2(self) -> int:
        """One past the right edge."""
        return self.x + self.w

    @property
    def y2(self) -> int:
        """One past the bottom edge."""
        return self.y + self.h

    @property
    def area(self) -> int:
        """Width times height."""
        return self.w * self.h

    def union(self, other: BBox) -> BBox:
        """The smallest box holding both."""
        x, y = min(self.x, other.x), min(self.y, other.y)
        return BBox(x, y, max(self.x2, other.x2) - x, max(self.y2, other.y2) - y)

    def overlap(self, other: BBox) -> int:
        """The area the two boxes share (0 if they do not meet)."""
        w = min(self.x2, other.x2) - max(self.x, other.x)
        h = min(self.y2, other.y2) - max(self.y, other.y)
        return max(0, w) * max(0, h)

    @staticmethod
    def around(boxes: Iterable[BBox]) -> BBox:
        """The smallest box containing all of ``boxes`` (at least one)."""
        return functools.reduce(BBox.union, boxes)

    def scaled(self, factor: float) -> BBox:
        """The box multiplied by ``factor`` (to map working pixels to original pixels)."""
        if factor == 1:
            return self
        x, y = round(self.x * factor), round(self.y * factor)
        return BBox(x, y, max(1, round(self.x2 * factor) - x), max(1, round(self.y2 * factor) - y))


@dataclass(frozen=True, slots=True)
class Step:
    """One pipeline stage as it ran: its name and the settings it used (provenance)."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Page:
    """A loaded image at working resolution.

    Attributes:
        source: The file it came from, if any.
        image: BGR uint8 ``(H, W, 3)`` at working resolution.
        scale: Original pixels per working pixel (> 1 shrunk, < 1 enlarged, 1 unchanged).
        original_size: ``(width, height)`` of the original image, EXIF orientation applied.
        reference_px: The page size (longest side, working pixels) that the page stages'
            sizes are fractions of: the image's own, or for a tight crop of a field, that of
            a page holding text of the field's height (0: the image's own).
    """

    source: Path | None
    image: NDArray[np.uint8]
    scale: float
    original_size: tuple[int, int]
    reference_px: int = 0


@dataclass(frozen=True, slots=True)
class Candidate:
    """A blob of ink that may be a digit.

    Attributes:
        bbox: Box in working-resolution pixels.
        mask: uint8 ``(h, w)`` binary crop of the blob (ink 255) inside ``bbox``.
        rejected: Why it is not a digit, or None if it is kept.
        suspect: Why it may not be a digit though it is kept (see
            :func:`digitscan.segment.reconsider_hairlines`).
    """

    bbox: BBox
    mask: NDArray[np.uint8]
    rejected: str | None = None
    suspect: str | None = None


@dataclass(frozen=True, slots=True)
class Digit:
    """A classified digit.

    Attributes:
        bbox: Box in original-image pixels.
        label: The digit 0-9.
        proba: float32 ``(10,)`` class probabilities.
        image28: The MNIST-normalised uint8 ``(28, 28)`` the classifier saw.
    """

    bbox: BBox
    label: int
    proba: NDArray[np.float32]
    image28: NDArray[np.uint8]

    @property
    def confidence(self) -> float:
        """Probability of the chosen label."""
        return float(self.proba[self.label])


@dataclass(frozen=True, slots=True)
class Line:
    """A string of digits read left to right."""

    digits: tuple[Digit, ...]

    @property
    def text(self) -> str:
        """The digits as a string, e.g. ``"1250"``."""
        return "".join(str(d.label) for d in self.digits)

    @property
    def bbox(self) -> BBox:
        """The box around all its digits (original pixels)."""
        return BBox.around(d.bbox for d in self.digits)

    @property
    def confidence(self) -> float:
        """The lowest digit confidence: a string is as sure as its least sure digit."""
        return min(d.confidence for d in self.digits)


@dataclass(frozen=True, slots=True)
class Reading:
    """What digitscan read in one image.

    Attributes:
        source: The file read, if any.
        lines: Digit strings, top to bottom.
        rejected: Candidates that were judged not to be digits (for ``--debug-dir``).
        steps: The stages that ran and their settings.
        seconds: Wall time of the reading.
        model: Name and weights file of the classifier used.
    """

    source: Path | None
    lines: tuple[Line, ...]
    rejected: tuple[Candidate, ...] = ()
    steps: tuple[Step, ...] = ()
    seconds: float = 0.0
    model: str = ""

    @property
    def text(self) -> str:
        """All strings, joined by newlines, top to bottom."""
        return "\n".join(line.text for line in self.lines)

    def to_dict(self, *, min_confidence: float = 0.0) -> dict[str, Any]:
        """The JSON form of ``digitscan read --json`` (boxes in original pixels)."""
        lines = []
        for line in self.lines:
            digits = [d for d in line.digits if d.confidence >= min_confidence]
            if not digits:
                continue
            kept = Line(tuple(digits))
            lines.append(
                {
                    "text": kept.text,
                    "confidence": round(kept.confidence, 4),
                    "box": list(kept.bbox),
                    "digits": [
                        {
                            "label": str(d.label),
                            "confidence": round(d.confidence, 4),
                            "box": list(d.bbox),
                            "low_confidence": d.confidence < LOW_CONFIDENCE,
                        }
                        for d in digits
                    ],
                }
            )
        return {
            "path": None if self.source is None else str(self.source),
            "text": "\n".join(line["text"] for line in lines),
            "lines": lines,
            "seconds": round(self.seconds, 4),
        }


@dataclass(frozen=True, slots=True)
class FileResult:
    """The outcome of reading one file in a batch: a reading or the reason there is none.

    Attributes:
        path: The file.
        reading: What was read, or None if the file could not be read.
        error: Why not (a :class:`~digitscan.errors.DigitscanError` naming the file), or None.
        seconds: Wall time spent on the file, loading included.
        size: The file's size in bytes when it was read (-1 if it could not be examined).
        mtime_ns: Its modification time in nanoseconds (-1 likewise); with ``size``, how a
            resumed batch tells an unchanged file from a changed one.
    """

    path: Path
    reading: Reading | None
    error: Exception | None
    seconds: float
    size: int = -1
    mtime_ns: int = -1

    @property
    def ok(self) -> bool:
        """Whether the file was read (a page with no digits is read, with an empty text)."""
        return self.error is None


#: Digits below this confidence are flagged ``low_confidence`` in the JSON output.
LOW_CONFIDENCE = 0.6
