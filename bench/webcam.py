"""Live-mode speed: frames per second on 640x480 frames, one core. Run by hand; prints figures.

    python bench/webcam.py            # a video of the shipped samples, 20 frames each

The video is made from every sample (resized to 640x480, as a webcam gives) and read by
``digitscan webcam --no-window``'s loop (:func:`digitscan.webcam.watch`) with OpenCV and BLAS
capped at one thread. Figures: frames/s over the whole video (target: at least 25), the
slowest frame, and how many scenes were shown with the expected reading (the live working
resolution is 640 px, lower than photos get, so small digits in whole-page scenes are missed).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import cv2
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
FRAMES_EACH = 20


def main() -> None:
    from digitscan.api import get_model
    from digitscan.webcam import open_source, watch

    cv2.setNumThreads(1)
    threadpool_limits(1)
    samples = sorted((ROOT / "samples").glob("*.jpg"))
    expected = ["\n".join(p.with_suffix(".gt.txt").read_text().split()) for p in samples]
    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / "samples.avi"
        writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 25, (640, 480))
        for path in samples:
            frame = cv2.resize(cv2.imread(str(path)), (640, 480), interpolation=cv2.INTER_AREA)
            for _ in range(FRAMES_EACH):
                writer.write(frame)
        writer.release()
        get_model("convnet")
        shown: dict[int, set[str]] = {}
        times: list[float] = []
        last = time.perf_counter()

        def on_frame(result) -> None:
            nonlocal last
            now = time.perf_counter()
            times.append(now - last)
            last = now
            if result.stable is not None:
                shown.setdefault(result.index // FRAMES_EACH, set()).add(result.stable)

        source = open_source(video)
        start = time.perf_counter()
        watch(source, on_frame)
        wall = time.perf_counter() - start
        source.close()
    right = sum(expected[i] in shown.get(i, set()) for i in range(len(samples)))
    print(
        f"{len(times)} frames of 640x480 in {wall:.1f} s: {len(times) / wall:.1f} frames/s "
        f"on one core (target >= 25); slowest frame {max(times) * 1000:.0f} ms "
        f"(decoding included)"
    )
    print(f"scenes shown with the expected reading: {right}/{len(samples)}")


if __name__ == "__main__":
    sys.exit(main())
