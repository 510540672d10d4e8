"""The drawing pad: draw digits with the mouse and see them read as you draw.

:class:`DrawingPad` is the whole logic without a window: it takes OpenCV mouse events
(:meth:`DrawingPad.on_mouse`, the signature ``cv2.setMouseCallback`` calls), keeps the ink on a
white canvas, reads it through the same pipeline as photos (``digitscan.read`` on the canvas)
and renders the canvas with the reading and each digit's three likeliest labels. The window
around it is :func:`digitscan.window.run_pad`; tests drive the pad directly.

Example:
    >>> pad = DrawingPad()
    >>> for event, x, y in [(1, 100, 60), (0, 100, 300), (4, 100, 300)]:  # a stroke down
    ...     pad.on_mouse(event, x, y)
    >>> pad.recognise().text  # doctest: +SKIP
    '1'
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from digitscan.classifiers.base import digit_proba
from digitscan.config import ScanConfig
from digitscan.types import Digit, Reading

#: Pipeline settings for the pad: read the canvas at its own size (800 px), no enlarging, and
#: digits may fill its height; a pad has no page edges or ruling to mistake for thin strokes.
PAD_CONFIG = ScanConfig(max_side_px=800, min_side_px=800, max_height_frac=0.95, min_stroke_frac=0.0)
PAPER = (255, 255, 255)
INK = (40, 40, 40)
PANEL_H = 120  # pixels below the canvas for the reading and the top-3 labels


class DrawingPad:
    """A canvas drawn on with the mouse, read by the digitscan pipeline.

    Args:
        size: ``(width, height)`` of the canvas in pixels.
        pen_px: Pen width in pixels.
        model: Classifier name, path, or fitted classifier.
        config: Pipeline settings (default :data:`PAD_CONFIG`).
    """

    def __init__(
        self,
        size: tuple[int, int] = (800, 360),
        pen_px: int = 14,
        model: str | Path = "convnet",
        config: ScanConfig = PAD_CONFIG,
    ) -> None:
        self.size, self.pen_px, self.model, self.config = size, pen_px, model, config
        self.canvas = np.empty((size[1], size[0], 3), np.uint8)
        self.reading = Reading(source=None, lines=())
        self.dirty = False  # ink changed since the last reading
        self.drawing = False
        self._last: tuple[int, int] | None = None
        self.clear()

    def clear(self) -> None:
        """Wipe the canvas and the reading (key ``c``)."""
        self.canvas[:] = PAPER
        self.reading = Reading(source=None, lines=())
        self.drawing, self._last, self.dirty = False, None, False

    def on_mouse(self, event: int, x: int, y: int, flags: int = 0, param: object = None) -> None:
        """Handle one mouse event: press starts a stroke, moving draws it, release ends it."""
        point = (int(x), int(y))
        if event == cv2.EVENT_LBUTTONDOWN:
            self.drawing, self._last = True, point
            cv2.circle(self.canvas, point, self.pen_px // 2, INK, -1, cv2.LINE_AA)
            self.dirty = True
        elif event == cv2.EVENT_MOUSEMOVE and self.drawing and self._last is not None:
            cv2.line(self.canvas, self._last, point, INK, self.pen_px, cv2.LINE_AA)
            self._last, self.dirty = point, True
        elif event == cv2.EVENT_LBUTTONUP and self.drawing:
            if self._last is not None:
                cv2.line(self.canvas, self._last, point, INK, self.pen_px, cv2.LINE_AA)
            self.drawing, self._last, self.dirty = False, None, True

    def stroke(self, points: list[tuple[int, int]]) -> None:
        """Draw one stroke through ``points`` as a mouse would (press, moves, release)."""
        self.on_mouse(cv2.EVENT_LBUTTONDOWN, *points[0])
        for point in points[1:]:
            self.on_mouse(cv2.EVENT_MOUSEMOVE, *point)
        self.on_mouse(cv2.EVENT_LBUTTONUP, *points[-1])

    def recognise(self) -> Reading:
        """Read the canvas through the photo pipeline; the result is kept in ``reading``."""
        from digitscan import api

        reading = api.read(self.canvas, config=self.config, model=self.model)
        self.reading, self.dirty = replace(reading, rejected=()), False
        return self.reading

    def render(self) -> NDArray[np.uint8]:
        """The canvas with digit boxes, and below it the reading and each digit's top 3."""
        height, width = self.canvas.shape[:2]
        out = np.full((height + PANEL_H, width, 3), 235, np.uint8)
        out[:height] = self.canvas
        digits = [d for line in self.reading.lines for d in line.digits]
        for digit in digits:
            x, y, w, h = digit.bbox
            cv2.rectangle(out, (x - 3, y - 3), (x + w + 3, y + h + 3), (0, 160, 0), 1)
        text = self.reading.text.replace("\n", "  ") or "draw digits; c clears, q quits"
        cv2.putText(out, text, (10, height + 34), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (0, 0, 0), 2)
        for i, digit in enumerate(digits[:8]):
            label = "  ".join(f"{k}:{p:.2f}" for k, p in top3(digit))
            column, row = divmod(i, 4) if len(digits) > 4 else (0, i)
            org = (10 + column * (width // 2), height + 56 + (row % 4) * 16)
            cv2.putText(out, label, org, cv2.FONT_HERSHEY_SIMPLEX, 0.45, (60, 60, 60), 1)
        return out


def top3(digit: Digit) -> list[tuple[int, float]]:
    """A digit's three likeliest digits and their probabilities, likeliest first.

    A classifier's "not a digit" probability (its eleventh column) is not a label to offer.
    """
    order = np.argsort(digit_proba(digit.proba[None])[0])[::-1][:3]
    return [(int(k), float(digit.proba[k])) for k in order]
