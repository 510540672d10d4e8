"""Accuracy and speed of the shipped classifiers. Run by hand; prints its figures.

    python bench/classifiers.py [--data ../shared/data/mnist] [--threads N]

Prints, for each shipped model:
- accuracy on the official MNIST test set (10,000 digits) and its worst classes;
- accuracy on the MNIST *test* 1s given a European flag and the test 7s given a bar (drawn by
  digitscan.augment with a seed the training never used): the digits MNIST barely contains;
- inference speed in digits/s at several batch sizes (single-process, BLAS threads as set);
- load time (in a warm process, and a cold `python -c` including imports) and weights size.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parent.parent / "shared" / "data" / "mnist"
EVAL_SEED = 987_654  # not a training seed: these flags and bars were never seen in training


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--models", nargs="+", default=["convnet", "mlp"])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from digitscan import load_mnist, load_model
    from digitscan.augment import add_bars, add_flags

    X, y = load_mnist(args.data, "test", require_official=True)
    rng = np.random.default_rng(EVAL_SEED)
    flagged = add_flags(X[y == 1], rng)
    crossed = add_bars(X[y == 7], rng)
    print(
        f"data: official MNIST test set, {len(X)} digits; "
        f"{len(flagged)} flagged 1s, {len(crossed)} crossed 7s (seed {EVAL_SEED})"
    )
    print(
        f"BLAS threads: OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, "
        f"cores {os.cpu_count()}"
    )
    for name in args.models:
        model = load_model(name)
        card = model.card_
        predicted = model.predict(X)
        accuracy = float(np.mean(predicted == y))
        per_class = [float(np.mean(predicted[y == d] == d)) for d in range(10)]
        worst = sorted(range(10), key=lambda d: per_class[d])[:3]
        print(
            f"\n== {name} ({card['weights']}, "
            f"{(card_path(name).parent / card['weights']).stat().st_size / 1e6:.2f} MB)"
        )
        print(
            f"MNIST test accuracy: {accuracy:.4f} ({int(accuracy * len(y))}/{len(y)}, "
            f"{len(y) - int(round(accuracy * len(y)))} errors); card says "
            f"{card['metrics']['mnist_test']['accuracy']:.4f}"
        )
        print("worst classes: " + ", ".join(f"{d}: {per_class[d]:.4f}" for d in worst))
        print(
            f"European 1 (flag) read as 1: {np.mean(model.predict(flagged) == 1):.4f}; "
            f"crossed 7 read as 7: {np.mean(model.predict(crossed) == 7):.4f}"
        )
        for batch in (1, 64, 1000, 10_000):
            n = min(len(X), max(batch, 2000))
            best = float("inf")
            for _ in range(args.repeat):
                start = time.perf_counter()
                for first in range(0, n, batch):
                    model.predict_proba(X[first : first + batch])
                best = min(best, time.perf_counter() - start)
            print(f"speed, batches of {batch:>5}: {n / best:>9,.0f} digits/s")
        start = time.perf_counter()
        load_model(name)
        warm = time.perf_counter() - start
        cold = cold_load_seconds(name)
        print(
            f"load: {warm * 1000:.0f} ms in a warm process; "
            f"{cold * 1000:.0f} ms cold (new process: imports + load)"
        )


def card_path(name: str) -> Path:
    from digitscan.classifiers.store import find_card

    return find_card(name)


def cold_load_seconds(name: str) -> float:
    code = (
        "import time; t = time.perf_counter(); import digitscan; "
        f"digitscan.load_model({name!r}); print(time.perf_counter() - t)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(json.loads(out.stdout.strip()))


if __name__ == "__main__":
    main()
