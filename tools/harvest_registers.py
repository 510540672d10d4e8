"""Cut labelled training crops out of the register train split with the current reader.

    python tools/harvest_registers.py --out /tmp/harvest.npz --limit 9000 [--offset 0]

Every k-th crop is taken so that ``--limit`` are; two runs with ``--limit`` half the split and
``--offset`` 0 and 1 share the split out between two cores.

Writes ``images`` uint8 (N, 28, 28) and ``labels`` (0-9, 10 = not a digit, 11 = several digits); see
``digitscan.realdata.harvest_registers`` for how crops are lined up with the labels.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import time  # noqa: E402
from functools import partial  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import digitscan  # noqa: E402
from digitscan.config import ScanConfig  # noqa: E402
from digitscan.pipeline import score_image  # noqa: E402
from digitscan.realdata import harvest_registers  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--split", default="train")
    parser.add_argument("--model", default="convnet")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--offset", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    model = digitscan.api.get_model(args.model)
    config = ScanConfig()
    start = time.perf_counter()
    harvest = harvest_registers(
        args.data / "registers" / f"{args.split}.tar",
        partial(score_image, config=config, model=model),
        limit=args.limit,
        offset=args.offset,
    )
    np.savez_compressed(args.out, images=harvest.images, labels=harvest.labels)
    counts = np.bincount(harvest.labels, minlength=12)
    print(
        f"{harvest.images_read} crops read, {harvest.aligned} lined up with their labels, "
        f"{len(harvest.labels)} crops: digits {counts[:10].tolist()}, not a digit {counts[10]}, "
        f"several digits {counts[11]} ({time.perf_counter() - start:.0f} s)"
    )


if __name__ == "__main__":
    main()
