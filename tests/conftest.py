"""Shared fixtures: test resources, the tiny MNIST fixture, and ways to run the CLI."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

RESOURCES = Path(__file__).parent / "resources"
TINY = RESOURCES / "mnist-tiny"
#: The full official MNIST, beside the checkout (CI and developer machines have it).
SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runslow", action="store_true", help="also run tests marked slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def tiny_dir() -> Path:
    return TINY


@pytest.fixture(scope="session")
def tiny_train() -> tuple[np.ndarray, np.ndarray]:
    from digitscan import load_mnist

    return load_mnist(TINY, "train")


@pytest.fixture(scope="session")
def tiny_test() -> tuple[np.ndarray, np.ndarray]:
    from digitscan import load_mnist

    return load_mnist(TINY, "test")


@pytest.fixture(scope="session")
def shared_mnist() -> Path:
    if not (SHARED_MNIST / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"the official MNIST files are not at {SHARED_MNIST}")
    return SHARED_MNIST


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]):
    """Run ``digitscan ARGS`` in-process through the real entry point (exit codes included)."""
    from digitscan.cli import main

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return run


def run_subprocess(*args: str, cwd: Path | None = None) -> CliResult:
    """Run ``python -m digitscan ARGS`` in a new process."""
    proc = subprocess.run(
        [sys.executable, "-m", "digitscan", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        check=False,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture(scope="session")
def render_page(tiny_test):
    """Compose a page of handwritten strings from MNIST-tiny test digits (dark ink on paper).

    ``render_page(["4096", "17"], height_px=60, size=(1200, 900), angle=0, seed=0)`` returns
    ``(bgr_image, digit_boxes)`` with each digit's (x, y, w, h) in the returned image.
    """
    import cv2

    images, labels = tiny_test

    def render(strings, *, height_px=60, size=(1200, 900), angle=0.0, seed=0, gap=0.35):
        rng = np.random.default_rng(seed)
        w, h = size
        page = np.full((h, w), 235, np.float32) + rng.normal(0, 2, (h, w))
        boxes = []
        for row, text in enumerate(strings):
            x = int(w * 0.1)
            y = int(h * (row + 1) / (len(strings) + 1) - height_px / 2)
            for char in text:
                pool = np.nonzero(labels == int(char))[0]
                digit = images[pool[rng.integers(len(pool))]]
                ys, xs = np.nonzero(digit > 40)
                crop = digit[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
                scale = height_px / crop.shape[0]
                dw = max(2, round(crop.shape[1] * scale))
                big = cv2.resize(crop, (dw, height_px), interpolation=cv2.INTER_CUBIC)
                ink = np.clip((big.astype(np.float32) - 90) / 60, 0, 1)
                region = page[y : y + height_px, x : x + dw]
                region[:] = region * (1 - ink) + 30 * ink
                boxes.append((x, y, dw, height_px))
                x += dw + round(gap * height_px)
        page_u8 = np.clip(page, 0, 255).astype(np.uint8)
        if angle:
            matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
            page_u8 = cv2.warpAffine(page_u8, matrix, (w, h), borderValue=235)
        return cv2.cvtColor(page_u8, cv2.COLOR_GRAY2BGR), boxes

    return render


@pytest.fixture(scope="session")
def xvfb_display():
    """A virtual X display (Debian's Xvfb) for the window tests; its DISPLAY value."""
    import os
    import shutil

    if not (shutil.which("Xvfb") and shutil.which("xdotool")):
        pytest.skip("needs Xvfb and xdotool (apt-get install xvfb xdotool)")
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as f:
        number = f.readline().strip()  # Xvfb writes its display number once it is ready
    if not number:
        proc.kill()
        pytest.fail("Xvfb did not start")
    yield f":{number}"
    proc.terminate()
    proc.wait(timeout=10)


def xdotool(display: str, *args: str) -> str:
    """Run xdotool on ``display``; its output."""
    import os

    env = {**os.environ, "DISPLAY": display}
    proc = subprocess.run(
        ["xdotool", *args], capture_output=True, text=True, env=env, timeout=30, check=True
    )
    return proc.stdout


def _wait_until_shown(display: str, window: str, timeout_s: float = 20.0) -> None:
    """Wait until a window has its picture's size: the app creates the window before it
    first shows a picture in it, and mouse events sent to the still tiny window are lost."""
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        geometry = xdotool(display, "getwindowgeometry", "--shell", window)
        size = dict(line.split("=", 1) for line in geometry.split() if "=" in line)
        if int(size.get("WIDTH", 0)) >= 100 and int(size.get("HEIGHT", 0)) >= 100:
            time.sleep(0.2)  # and let its event loop start
            return
        time.sleep(0.05)


def run_in_window(display: str, args: list[str], title: str, act) -> CliResult:
    """Run ``python -m digitscan ARGS`` on ``display``, call ``act(window_id)`` once its window
    titled ``title`` is up, then wait for the command to end (killed if it does not)."""
    import os

    proc = subprocess.Popen(
        [sys.executable, "-m", "digitscan", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "DISPLAY": display},
    )
    try:
        window = xdotool(display, "search", "--sync", "--name", title).split()[0]
        _wait_until_shown(display, window)
        act(window)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return CliResult(proc.returncode, out, err)
