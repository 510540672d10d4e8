"""Live reading: frames from a camera, a video file or a stream, read and stabilised.

- :func:`open_source` opens a camera index, a video file or a URL; failure is an
  :class:`~digitscan.errors.InputError`, never a silent fallback to something else.
- :class:`Frames` yields frames: every frame of a file, as fast as it is read; the newest frame
  of a camera or stream (a grabber thread keeps only the latest one, so a slow reader skips
  frames instead of falling behind), and an error when a live source stops sending frames.
- :class:`Stabilizer` holds a reading back until it has been the same in several frames in a
  row, so a flickering digit does not flicker the text.
- :func:`watch` ties them to the pipeline and calls back once per frame with a
  :class:`FrameResult`; the ``digitscan webcam`` window and ``--no-window`` output are thin
  layers over it (:mod:`digitscan.window` draws and handles keys).

Live frames are read at a working resolution of 640 px (``LIVE_CONFIG``), not the 1200 px
photos are enlarged to: a 640x480 frame then takes ~20 ms on one core, against ~60 ms. For
the same reason a model of averaged convnets reads live frames with its first network only
(:func:`live_classifier`): the second would add about a quarter to a frame's time (32 frames/s
against 24-27 in ``bench/webcam.py``), and the reading shown must hold over several frames
anyway.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from digitscan.classifiers.base import Classifier
from digitscan.config import ScanConfig
from digitscan.errors import InputError
from digitscan.types import Reading

log = logging.getLogger(__name__)

#: Pipeline settings for live frames: read at 640 px, neither enlarged nor shrunk much.
LIVE_CONFIG = ScanConfig(max_side_px=640, min_side_px=640)
#: How long a live source may send nothing before it counts as dropped (seconds).
STALL_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class Source:
    """An opened video source.

    Attributes:
        capture: The OpenCV capture (released by :meth:`close`).
        name: What the user asked for (``"0"``, a path, a URL), for messages.
        live: A camera or stream (frames arrive in real time) rather than a file.
        fps: Frames per second the source reports (0 if it does not say).
    """

    capture: cv2.VideoCapture
    name: str
    live: bool
    fps: float

    def close(self) -> None:
        """Release the camera or file."""
        self.capture.release()


def open_source(source: str | int | Path) -> Source:
    """Open a camera (an index such as ``0``), a video file, or a stream URL.

    Raises:
        InputError: It cannot be opened (no such camera, missing file, not a video, a stream
            that does not answer within :data:`STALL_TIMEOUT_S`).
    """
    name = str(source)
    live = name.isdigit() or "://" in name
    # FFmpeg logs failed connections itself; OpenCV reads this before FFmpeg's first use.
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    if not live and not Path(name).is_file():
        raise InputError(
            "no such video file" if not Path(name).exists() else "not a file", path=name
        )
    with _quiet_opencv():  # its backends log every failed attempt; we raise one clear error
        if name.isdigit():
            capture = cv2.VideoCapture(int(name))
        elif live:
            timeout_ms = int(STALL_TIMEOUT_S * 1000)
            timeouts = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, timeout_ms]
            timeouts += [cv2.CAP_PROP_READ_TIMEOUT_MSEC, timeout_ms]
            capture = cv2.VideoCapture(name, cv2.CAP_ANY, timeouts)
        else:
            capture = cv2.VideoCapture(name)
    if not capture.isOpened():
        capture.release()
        if name.isdigit():
            raise InputError(f"cannot open camera {name} (no such camera, or it is in use)")
        if live:
            raise InputError(f"cannot open the stream {name} (no answer, or not a video)")
        raise InputError("not a video OpenCV can read", path=name)
    return Source(capture, name, live, float(capture.get(cv2.CAP_PROP_FPS) or 0.0))


@contextlib.contextmanager
def _quiet_opencv() -> Iterator[None]:
    logging_api = getattr(getattr(cv2, "utils", None), "logging", None)
    if logging_api is None:
        yield
        return
    before = logging_api.getLogLevel()
    logging_api.setLogLevel(logging_api.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        logging_api.setLogLevel(before)


class Frames:
    """The frames of a source, one BGR uint8 array at a time (the array is reused).

    A file gives every frame and ends at its end. A live source gives its newest frame: a
    grabber thread reads continuously and keeps only the latest, so frames are skipped when
    reading is slower than the camera. If a live source sends nothing for ``stall_s`` seconds
    (unplugged, stream dropped) iteration raises :class:`InputError`.
    """

    def __init__(self, source: Source, stall_s: float = STALL_TIMEOUT_S) -> None:
        self.source = source
        self.stall_s = stall_s
        self.index = -1  # of the last frame given
        self.time_s = 0.0  # its time in the video (files) or since the start (live)
        self.skipped = 0
        self._buffer: NDArray[np.uint8] | None = None
        self._latest: NDArray[np.uint8] | None = None
        self._latest_index = -1
        self._stop = False  # the reader is done: the grabber should end
        self._source_ended = False  # the source said it has no more frames
        self._lock = threading.Condition()
        self._start = time.monotonic()
        self._thread: threading.Thread | None = None

    def __iter__(self) -> Iterator[NDArray[np.uint8]]:
        if not self.source.live:
            yield from self._file_frames()
            return
        self._thread = threading.Thread(target=self._grab, daemon=True)
        self._thread.start()
        try:
            yield from self._live_frames()
        finally:
            self._stop = True
            # The grabber must be out of capture.read() before the capture is released.
            self._thread.join(timeout=self.stall_s)

    def _file_frames(self) -> Iterator[NDArray[np.uint8]]:
        capture = self.source.capture
        while True:
            ok, frame = capture.read(self._buffer)
            if not ok or frame is None:
                return
            self._buffer = frame
            self.index += 1
            self.time_s = capture.get(cv2.CAP_PROP_POS_MSEC) / 1000
            yield frame

    def _grab(self) -> None:
        capture, count = self.source.capture, 0
        while not self._stop and not self._source_ended:
            ok, frame = capture.read()
            with self._lock:
                if ok and frame is not None:
                    self._latest, self._latest_index = frame, count
                    count += 1
                else:
                    self._source_ended = True
                self._lock.notify_all()

    def _live_frames(self) -> Iterator[NDArray[np.uint8]]:
        while True:
            with self._lock:
                deadline = time.monotonic() + self.stall_s
                while self._latest_index <= self.index and not self._source_ended:
                    if not self._lock.wait(timeout=max(0.0, deadline - time.monotonic())):
                        break
                if self._latest_index <= self.index:
                    self._no_more_frames()
                    return
                self.skipped += self._latest_index - self.index - 1
                self.index = self._latest_index
                frame = self._latest
            self.time_s = time.monotonic() - self._start
            yield frame

    def _no_more_frames(self) -> None:
        """A live source gave nothing new: a stream's end is logged; a camera's is an error."""
        name, got = self.source.name, self.index + 1
        if not self._source_ended:
            raise InputError(f"{name} sent no frame for {self.stall_s:.0f} s (after {got} frames)")
        if name.isdigit():
            raise InputError(f"camera {name} stopped sending frames after {got} (unplugged?)")
        log.warning("%s: the stream ended after %d frames", name, got)


class Stabilizer:
    """Shows a reading only once it has been read the same way in ``frames`` frames in a row.

    Example:
        >>> s = Stabilizer(frames=2)
        >>> [s.update(t) for t in ["12", "12", "17", "12", "17", "17"]]
        [False, True, False, False, False, True]
        >>> s.stable
        '17'
    """

    def __init__(self, frames: int = 3) -> None:
        if frames < 1:
            raise ValueError(f"frames must be at least 1, got {frames}")
        self.frames = frames
        self.stable: str | None = None
        self._candidate: str | None = None
        self._count = 0

    def update(self, text: str) -> bool:
        """Add one frame's text; True when the stable text changes."""
        if text == self._candidate:
            self._count += 1
        else:
            self._candidate, self._count = text, 1
        if self._count >= self.frames and text != self.stable:
            self.stable = text
            return True
        return False


@dataclass(frozen=True, slots=True)
class FrameResult:
    """One frame as read.

    Attributes:
        index: Frame number from the start of the source (frames skipped included).
        time_s: Time of the frame: in the video for a file, since the start for a live source.
        frame: The frame (BGR uint8; valid until the next frame is read).
        reading: What this frame alone reads as.
        stable: The stabilised reading so far (None until one is stable).
        changed: Whether ``stable`` changed with this frame.
        fps: Frames read per second, recently.
    """

    index: int
    time_s: float
    frame: NDArray[np.uint8]
    reading: Reading
    stable: str | None
    changed: bool
    fps: float


def live_classifier(model: Classifier) -> Classifier:
    """The classifier live frames are read with: averaged convnets' first network alone."""
    from digitscan.classifiers.ensemble import AveragedConvNets

    if isinstance(model, AveragedConvNets):
        return model.estimators_[0]
    return model


def watch(
    source: Source,
    on_frame: Callable[[FrameResult], bool | None],
    *,
    config: ScanConfig = LIVE_CONFIG,
    model: str | Path = "convnet",
    stable_frames: int = 3,
) -> None:
    """Read the frames of ``source`` until it ends or ``on_frame`` returns False.

    Frames come as :class:`Frames` gives them: all of a file's, the newest of a live source.

    Raises:
        InputError: A live source stopped sending frames.
        ModelError: The model cannot be loaded.
    """
    from digitscan import api
    from digitscan.pipeline import make_page, read_page

    classifier = live_classifier(api.get_model(model))
    stabilizer = Stabilizer(stable_frames)
    frames = Frames(source)
    fps, last = 0.0, time.perf_counter()
    with contextlib.closing(iter(frames)) as stream:
        for frame in stream:
            reading = read_page(make_page(frame, config), config, classifier)
            changed = stabilizer.update(reading.text)
            now = time.perf_counter()
            rate = 1 / max(now - last, 1e-6)
            fps, last = (rate if fps == 0 else 0.9 * fps + 0.1 * rate), now
            result = FrameResult(
                frames.index, frames.time_s, frame, reading, stabilizer.stable, changed, fps
            )
            if on_frame(result) is False:
                return
