"""Render photos of MNIST training digits and save the reader's labelled crops of them.

    python tools/render_photo_crops.py --out /tmp/photo-crops.npz --photos 2500 --seed 31

Writes ``images`` uint8 (N, 28, 28) and ``labels`` (0-9) for ``digitscan teach --crops``:
what the classifier sees of a photographed digit (``digitscan.photocrops``), so that a net
trained on with real scans keeps reading photos.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from digitscan.mnist import load_mnist  # noqa: E402
from digitscan.photocrops import photo_crops  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "mnist")
    parser.add_argument("--photos", type=int, default=2500)
    parser.add_argument("--seed", type=int, default=31)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    images, labels = load_mnist(args.data, "train")
    start = time.perf_counter()
    crops = photo_crops(images, labels, args.photos, seed=args.seed, jobs=args.jobs)
    np.savez_compressed(args.out, images=crops.images, labels=crops.labels)
    print(
        f"{crops.photos} photos, {crops.digits} digits, {len(crops.labels)} crops "
        f"({time.perf_counter() - start:.0f} s)"
    )


if __name__ == "__main__":
    main()
