"""The windows of ``digitscan webcam`` and ``digitscan draw``: drawing, keys, the event loop.

Everything that decides what is read lives in :mod:`digitscan.webcam` and
:mod:`digitscan.draw`; this module only shows it and turns keys into actions. It needs a
display: without one, :func:`check_display` raises a one-line error (OpenCV's Qt backend would
otherwise abort the whole process).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from digitscan.config import ScanConfig
from digitscan.draw import DrawingPad
from digitscan.errors import ConfigError, InputError
from digitscan.pipeline import draw_overlay
from digitscan.types import Reading
from digitscan.webcam import LIVE_CONFIG, FrameResult, Source, watch

log = logging.getLogger(__name__)

#: Key codes from ``cv2.waitKey``.
KEY_QUIT, KEY_FREEZE, KEY_SAVE, KEY_CLEAR, KEY_ESC = ord("q"), ord(" "), ord("s"), ord("c"), 27
#: Qt looks for fonts here when OpenCV's wheel ships none (it warns on every window otherwise).
_FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype", "/usr/share/fonts")


def check_display() -> None:
    """Make sure a window can be opened.

    Raises:
        ConfigError: No display (no ``DISPLAY``/``WAYLAND_DISPLAY`` on Linux).
    """
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        raise ConfigError("no display to open a window on (DISPLAY is not set); use --no-window")
    if "QT_QPA_FONTDIR" not in os.environ:
        found = next((d for d in _FONT_DIRS if Path(d).is_dir()), None)
        if found:
            os.environ["QT_QPA_FONTDIR"] = found


def banner(image: NDArray[np.uint8], text: str, corner: str = "top-left") -> None:
    """Write ``text`` in a dark box in a corner of ``image`` (in place)."""
    scale = max(0.5, image.shape[1] / 1000)
    thickness = max(1, round(scale * 2))
    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    x = 8 if corner.endswith("left") else image.shape[1] - w - 8
    y = 8 + h if corner.startswith("top") else image.shape[0] - base - 8
    cv2.rectangle(image, (x - 4, y - h - 4), (x + w + 4, y + base + 4), (30, 30, 30), -1)
    cv2.putText(
        image,
        text,
        (x, y),
        cv2.FONT_HERSHEY_SIMPLEX,
        scale,
        (255, 255, 255),
        thickness,
        cv2.LINE_AA,
    )


def draw_live(result: FrameResult, frozen: bool = False) -> NDArray[np.uint8]:
    """A frame with its digit boxes, the stable reading and the frame rate."""
    out = draw_overlay(result.frame, Reading(None, result.reading.lines))
    stable = (result.stable or "").replace("\n", "  ") or "-"
    banner(out, f"{'FROZEN ' if frozen else ''}{stable}", "top-left")
    banner(out, f"{result.fps:.0f} fps", "top-right")
    banner(out, "q quit  space freeze  s save", "bottom-left")
    return out


def save_frame(result: FrameResult, folder: Path) -> Path:
    """Write the frame as PNG and its reading as JSON beside it; returns the PNG's path.

    Raises:
        InputError: The folder cannot be written.
    """
    stem = folder / f"digitscan-{time.strftime('%Y%m%d-%H%M%S')}-{result.index:06d}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not cv2.imwrite(str(stem.with_suffix(".png")), result.frame):
            raise OSError("OpenCV could not write the PNG")
        record = {
            "frame": result.index,
            "time": round(result.time_s, 3),
            "text": result.stable or "",
            "reading": result.reading.to_dict(),
        }
        stem.with_suffix(".json").write_text(json.dumps(record) + "\n")
    except OSError as exc:
        raise InputError(f"cannot save the frame ({exc.strerror or exc})", path=folder) from None
    return stem.with_suffix(".png")


class LiveView:
    """What the webcam window shows and what its keys do (kept apart from the window to test).

    Args:
        save_dir: Where ``s`` saves the shown frame and its reading.
    """

    def __init__(self, save_dir: Path = Path()) -> None:
        self.save_dir = save_dir
        self.frozen: FrameResult | None = None
        self.saved: list[Path] = []

    def picture(self, result: FrameResult) -> NDArray[np.uint8]:
        """The image to show: the frozen frame while frozen, else this one, with overlays."""
        return draw_live(self.frozen or result, frozen=self.frozen is not None)

    def key(self, key: int, result: FrameResult) -> bool:
        """Act on a key (-1 or 255: none); False means quit.

        q or Esc quits; space freezes the shown frame (and unfreezes); s saves the shown frame.

        Raises:
            InputError: The frame could not be saved.
        """
        if key in (KEY_QUIT, KEY_ESC):
            return False
        if key == KEY_FREEZE:
            frozen = replace(result, frame=result.frame.copy())  # the reader reuses its buffer
            self.frozen = None if self.frozen is not None else frozen
        elif key == KEY_SAVE:
            path = save_frame(self.frozen or result, self.save_dir)
            self.saved.append(path)
            log.info("saved %s", path)
        return True


def run_webcam(
    source: Source,
    *,
    config: ScanConfig = LIVE_CONFIG,
    model: str | Path = "convnet",
    stable_frames: int = 3,
    save_dir: Path = Path(),
    title: str = "digitscan webcam",
) -> list[Path]:
    """Show the live reading in a window until q (or the end of a video file).

    A video file is shown at its own frame rate. Returns the files saved with ``s``.

    Raises:
        ConfigError: No display.
        InputError: A live source stopped sending frames; a frame could not be saved.
    """
    check_display()
    view = LiveView(save_dir)
    interval = 1 / source.fps if (not source.live and source.fps > 0) else 0.0
    due = time.perf_counter()
    cv2.namedWindow(title, cv2.WINDOW_AUTOSIZE | cv2.WINDOW_GUI_NORMAL)

    def on_frame(result: FrameResult) -> bool:
        nonlocal due
        cv2.imshow(title, view.picture(result))
        due += interval  # a file plays at its own pace; a camera as fast as it comes
        key = cv2.waitKey(max(1, round(1000 * (due - time.perf_counter()))))
        if cv2.getWindowProperty(title, cv2.WND_PROP_VISIBLE) < 1:
            return False  # closed with the window's own button
        return view.key(key & 0xFF, result)

    try:
        watch(source, on_frame, config=config, model=model, stable_frames=stable_frames)
    finally:
        cv2.destroyWindow(title)
        cv2.waitKey(1)
    return view.saved


def run_pad(pad: DrawingPad, *, title: str = "digitscan draw", every_s: float = 0.15) -> Reading:
    """Let the user draw on ``pad`` in a window; c clears, q quits. Returns the last reading.

    The canvas is read again when a stroke ends, and every ``every_s`` seconds while drawing.

    Raises:
        ConfigError: No display.
    """
    check_display()
    cv2.namedWindow(title, cv2.WINDOW_AUTOSIZE | cv2.WINDOW_GUI_NORMAL)
    cv2.setMouseCallback(title, pad.on_mouse)
    last_read = 0.0
    try:
        while True:
            now = time.monotonic()
            if pad.dirty and (not pad.drawing or now - last_read > every_s):
                pad.recognise()
                last_read = now
            cv2.imshow(title, pad.render())
            key = cv2.waitKey(15) & 0xFF
            if key in (KEY_QUIT, KEY_ESC):
                break
            if key == KEY_CLEAR:
                pad.clear()
            if cv2.getWindowProperty(title, cv2.WND_PROP_VISIBLE) < 1:
                break  # closed with the window's own button
    finally:
        cv2.destroyWindow(title)
        cv2.waitKey(1)
    if pad.dirty:
        pad.recognise()
    return pad.reading
