"""Write the small IDX fixture tests/resources/mnist-tiny from the official MNIST files.

Usage: python tools/make_mnist_tiny.py ../shared/data/mnist tests/resources/mnist-tiny

Deterministic: a seeded random subset, 300 training and 200 test digits, gzip with mtime 0.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from digitscan.mnist import FILE_NAMES, load_mnist, write_idx

SEED = 20261121
SIZES = {"train": 300, "test": 200}


def main(source: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    for split, size in SIZES.items():
        images, labels = load_mnist(source, split, require_official=True)
        pick = np.sort(rng.choice(len(images), size, replace=False))
        write_idx(target / f"{FILE_NAMES[(split, 'images')]}.gz", images[pick])
        write_idx(target / f"{FILE_NAMES[(split, 'labels')]}.gz", labels[pick])


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
