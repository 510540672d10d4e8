"""``digitscan webcam``: video files made from the samples, fake cameras, a window under Xvfb."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import run_in_window, xdotool

from digitscan.errors import InputError
from digitscan.webcam import Frames, Source, Stabilizer, open_source

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
#: Samples that read correctly at 640x480 (the live working resolution).
SCENES = ["sticky-04.jpg", "plain-11.jpg", "sticky-10.jpg"]


def expected(name: str) -> str:
    return "\n".join((SAMPLES / name).with_suffix(".gt.txt").read_text().split())


def write_video(path: Path, scenes: list[str], frames_each: int, fps: float = 10) -> Path:
    """An MJPEG AVI (OpenCV writes it without FFmpeg) showing each scene for some frames."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (640, 480))
    assert writer.isOpened()
    for name in scenes:
        image = cv2.resize(
            cv2.imread(str(SAMPLES / name)), (640, 480), interpolation=cv2.INTER_AREA
        )
        for _ in range(frames_each):
            writer.write(image)
    writer.release()
    return path


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_video(tmp_path_factory.mktemp("video") / "scenes.avi", SCENES, 10)


def test_no_window_prints_each_stable_reading(run_cli, video: Path) -> None:
    result = run_cli("webcam", "--source", video, "--no-window")
    assert result.exit_code == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["text"] for e in events] == [expected(name) for name in SCENES]
    # Each is reported on its scene's third frame (3 frames to be stable), at 10 fps.
    assert [e["frame"] for e in events] == [2, 12, 22]
    assert [e["time"] for e in events] == pytest.approx([0.2, 1.2, 2.2])


def test_a_reading_must_hold_to_be_shown(run_cli, video: Path) -> None:
    # Each scene lasts 10 frames: asking for 11 identical frames shows nothing.
    result = run_cli("webcam", "--source", video, "--no-window", "--stable-frames", "11")
    assert result.exit_code == 0 and result.stdout == ""


def test_stabilizer_ignores_flicker() -> None:
    stabilizer = Stabilizer(frames=3)
    changes = [stabilizer.update(t) for t in ["5", "5", "8", "5", "5", "5", "5", "", "5"]]
    assert changes == [False, False, False, False, False, True, False, False, False]
    assert stabilizer.stable == "5"
    with pytest.raises(ValueError):
        Stabilizer(frames=0)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("missing.avi", "no such video file"),
        ("README.md", "not a video OpenCV can read"),
        ("7", "cannot open camera 7"),
    ],
)
def test_sources_that_cannot_be_opened(run_cli, source: str, message: str) -> None:
    root = Path(__file__).resolve().parents[1]
    target = source if source.isdigit() else str(root / source)
    result = run_cli("webcam", "--source", target, "--no-window")
    assert result.exit_code == 3 and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


class FakeCamera:
    """Imitates a live ``cv2.VideoCapture``: numbered frames at a rate, then a failure."""

    def __init__(self, frames: int, every_s: float = 0.005, hang: bool = False) -> None:
        self.frames, self.every_s, self.hang, self.count = frames, every_s, hang, 0
        self.released = threading.Event()

    def read(self):
        time.sleep(self.every_s)
        if self.count >= self.frames:
            if self.hang:
                self.released.wait(timeout=5)  # a stalled stream: read blocks
            return False, None
        frame = np.full((4, 4, 3), self.count % 256, np.uint8)
        self.count += 1
        return True, frame

    def release(self) -> None:
        self.released.set()


def test_a_camera_that_stops_is_an_error() -> None:
    frames = Frames(Source(FakeCamera(5, every_s=0.0), "0", live=True, fps=30))
    seen = []
    with pytest.raises(InputError, match="camera 0 stopped sending frames"):
        for frame in frames:
            seen.append(int(frame[0, 0, 0]))
    assert seen and seen == sorted(seen) and seen[-1] <= 4


def test_a_stalled_stream_is_an_error_not_a_hang() -> None:
    camera = FakeCamera(3, hang=True)
    frames = Frames(Source(camera, "rtsp://cam", live=True, fps=30), stall_s=0.5)
    start = time.monotonic()
    with pytest.raises(InputError, match="sent no frame for"):
        for _ in frames:
            pass
    camera.release()
    assert time.monotonic() - start < 4


def test_an_ended_stream_just_ends() -> None:
    frames = Frames(Source(FakeCamera(3), "http://cam/clip.mjpg", live=True, fps=30))
    assert len(list(frames)) >= 1


def test_a_slow_reader_skips_to_the_newest_frame() -> None:
    frames = Frames(Source(FakeCamera(200, every_s=0.001), "rtsp://cam", live=True, fps=30))
    seen = []
    for frame in frames:
        seen.append(int(frame[0, 0, 0]))
        time.sleep(0.03)  # reading takes longer than the camera's frame interval
    assert frames.skipped > 50 and len(seen) < 100
    assert seen == sorted(seen) and len(set(seen)) == len(seen)


def test_open_source_kinds(video: Path) -> None:
    source = open_source(video)
    try:
        assert not source.live and source.fps == pytest.approx(10)
        assert sum(1 for _ in Frames(source)) == 30
    finally:
        source.close()


def test_webcam_window_under_xvfb(xvfb_display: str, tmp_path: Path) -> None:
    # 10 s of video at 10 fps: the window plays it at that pace; s saves, q quits.
    long_video = write_video(tmp_path / "long.avi", SCENES[:1], 100)
    saves = tmp_path / "saved"

    def save_then_quit(window: str) -> None:
        time.sleep(1.0)  # past the first frames, so a stable reading is on screen
        xdotool(xvfb_display, "windowfocus", "--sync", window, "key", "s")
        time.sleep(0.5)
        xdotool(xvfb_display, "windowfocus", "--sync", window, "key", "q")

    args = ["webcam", "--source", str(long_video), "--save-dir", str(saves)]
    result = run_in_window(xvfb_display, args, "digitscan webcam", save_then_quit)
    assert result.exit_code == 0, result.stderr
    (png,) = saves.glob("*.png")
    record = json.loads(png.with_suffix(".json").read_text())
    assert record["text"] == expected(SCENES[0]) and record["frame"] < 90  # q ended it early
    assert cv2.imread(str(png)).shape == (480, 640, 3)
    assert "saved" in result.stderr and "Traceback" not in result.stderr


def test_window_keys_freeze_and_save(tmp_path: Path) -> None:
    from digitscan.types import Reading
    from digitscan.webcam import FrameResult
    from digitscan.window import KEY_FREEZE, KEY_QUIT, KEY_SAVE, LiveView

    def frame_result(index: int) -> FrameResult:
        frame = np.full((480, 640, 3), index, np.uint8)
        return FrameResult(index, index / 10, frame, Reading(None, ()), "42", False, 25.0)

    view = LiveView(tmp_path)
    first = frame_result(1)
    assert view.key(255, first) and view.frozen is None
    assert view.key(KEY_FREEZE, first) and view.frozen.index == 1
    first.frame[:] = 99  # the reader reuses its buffer: the frozen frame must not change
    later = frame_result(5)
    shown = view.picture(later)
    assert shown.shape == (480, 640, 3) and (shown[240, 320] == 1).all()  # the frozen frame
    assert (view.picture(first) != shown).sum() == 0  # whatever comes in while frozen
    assert view.key(KEY_SAVE, later)
    (png,) = view.saved
    assert json.loads(png.with_suffix(".json").read_text())["frame"] == 1
    assert (cv2.imread(str(png)) == 1).all()
    assert view.key(KEY_FREEZE, later) and view.frozen is None
    assert view.key(KEY_SAVE, later) and len(view.saved) == 2
    assert not view.key(KEY_QUIT, later)


def test_live_frames_are_read_with_one_network_of_the_pair(monkeypatch, video: Path) -> None:
    from digitscan import pipeline, webcam
    from digitscan.classifiers.convnet import ConvNetClassifier

    used = []
    real = pipeline.read_page

    def spy(page, config, model, *args, **kwargs):
        used.append(model)
        return real(page, config, model, *args, **kwargs)

    monkeypatch.setattr(pipeline, "read_page", spy)
    webcam.watch(open_source(str(video)), lambda result: result.index < 2)
    assert len(used) == 3 and all(type(model) is ConvNetClassifier for model in used)
