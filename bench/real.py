"""Reading accuracy and speed on real handwriting. Run by hand; prints its figures.

    python bench/real.py                          # register validation split + Sudoku photos
    python bench/real.py --registers 600          # every k-th of the split, 600 crops
    python bench/real.py --ref /path/to/previous  # the previous release side by side
    python bench/real.py --model mlp --no-sudoku

Data (``../shared/data``, see its README; never copied into the repo):
- ``registers/validation.tar``: scanned parish-register row numbers, one column crop each. A
  crop's reading is all its strings joined with nothing between; it is right when that equals
  the label. Labels that are not digit strings (``4a``, ``sn``) are left out.
- ``sudoku-photos``: 80 phone photos; each is warped to its grid by ``metadata.csv``'s corners
  (``digitscan.grids.warp_grid``: a margin of 3% of a side, so the grid's frame stays a line),
  read whole, and each digit read is put in the row its box's centre falls in
  (``digitscan.grids.digits_by_row``). A row's string is its digits left to right
  without the empty cells; rows holding a cell of small "candidate" digits (label 10) are not
  scored.

Figures: exact strings, digit accuracy (1 - edit distance / digits) and seconds per image, one
process with BLAS on one thread. ``--ref DIR`` runs the same script on another checkout (its
package and its ``models/``) in a subprocess, in the same minutes, and prints both.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # "one core", and no BLAS thread fights
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import csv  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tarfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from photos import edit_distance  # noqa: E402 (bench/photos.py, beside this script)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _grids():  # this checkout's grids module, also when --ref runs an older package
    import importlib.util

    spec = importlib.util.spec_from_file_location("_grids", ROOT / "digitscan" / "grids.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_GRIDS = _grids()
digits_by_row, warp_grid = _GRIDS.digits_by_row, _GRIDS.warp_grid
DEFAULT_DATA = ROOT.parent / "shared" / "data"


def register_crops(tar_path: Path, limit: int | None) -> Iterator[tuple[str, np.ndarray, str]]:
    """(name, BGR image, label) of a register split, digit labels only; every k-th if limited."""
    with tarfile.open(tar_path) as tar:
        members = {Path(m.name).name: m for m in tar.getmembers() if m.isfile()}
        labels_member = next(m for n, m in members.items() if n == "labels.csv")
        rows = list(csv.DictReader(io.TextIOWrapper(tar.extractfile(labels_member), "utf-8")))
        rows = [r for r in rows if r["label"].isdigit()]
        if limit and limit < len(rows):
            step = len(rows) / limit
            rows = [rows[int(i * step)] for i in range(limit)]
        for row in rows:
            data = tar.extractfile(members[row["filename"]]).read()
            image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
            yield row["filename"], image, row["label"]


def sudoku_grids(
    folder: Path, limit: int | None
) -> Iterator[tuple[str, np.ndarray, list[str | None]]]:
    """(name, grid warped square, 9 row strings or None for rows with candidate cells)."""
    with (folder / "metadata.csv").open() as f:
        rows = list(csv.DictReader(f))
    if limit:
        rows = rows[:limit]
    for row in rows:
        image = cv2.imread(str(folder / "images" / row["Name"]))
        labels = np.loadtxt(folder / "labels" / (Path(row["Name"]).stem + ".txt"), dtype=int)
        corners = [
            [float(row[f"{k}_{c}_absolute"]) for k in "xy"]
            for c in ("topleft", "topright", "bottomright", "bottomleft")
        ]
        strings: list[str | None] = []
        for r in labels:
            strings.append(None if (r == 10).any() else "".join(str(v) for v in r if v))
        yield row["Name"], warp_grid(image, corners), strings


def run(args: argparse.Namespace) -> dict:
    import digitscan

    model = digitscan.api.get_model(args.model)
    results: dict = {"version": str(ROOT)}
    if not args.no_registers:
        pairs, seconds, misses = [], [], []
        for name, image, label in register_crops(
            args.data / "registers" / "validation.tar", args.registers
        ):
            start = time.perf_counter()
            reading = digitscan.read(image, model=model)
            seconds.append(time.perf_counter() - start)
            text = "".join(line.text for line in reading.lines)
            pairs.append((text, label))
            if text != label:
                misses.append((name, label, text))
        results["registers"] = summary(pairs, seconds)
        results["registers"]["misses"] = misses
    if not args.no_sudoku:
        pairs, seconds = [], []
        for _name, grid, strings in sudoku_grids(args.data / "sudoku-photos", args.sudoku):
            start = time.perf_counter()
            reading = digitscan.read(grid, model=model)
            seconds.append(time.perf_counter() - start)
            read_rows = digits_by_row(reading, grid.shape[0])
            pairs += [
                (got, want)
                for got, want in zip(read_rows, strings, strict=True)
                if want is not None
            ]
        results["sudoku"] = summary(pairs, seconds)
    return results


def summary(pairs: list[tuple[str, str]], seconds: list[float]) -> dict:
    digits = sum(len(g) for _, g in pairs)
    errors = sum(edit_distance(p, g) for p, g in pairs)
    return {
        "strings": len(pairs),
        "exact": sum(p == g for p, g in pairs),
        "digit_accuracy": 1 - errors / max(digits, 1),
        "images": len(seconds),
        "median_s": statistics.median(seconds) if seconds else 0.0,
        "mean_s": statistics.fmean(seconds) if seconds else 0.0,
    }


def show(label: str, results: dict) -> None:
    for key, title in (("registers", "register validation crops"), ("sudoku", "Sudoku photo rows")):
        if key in results:
            r = results[key]
            print(
                f"{label:>9}  {title:<26} {r['exact']:>5} of {r['strings']:<5} exact = "
                f"{100 * r['exact'] / max(r['strings'], 1):5.1f}%  "
                f"digits {100 * r['digit_accuracy']:5.1f}%  "
                f"{r['median_s'] * 1000:7.1f} ms median, "
                f"{r['mean_s'] * 1000:7.1f} ms mean per image"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--model", default="convnet")
    parser.add_argument(
        "--registers", type=int, default=None, help="score every k-th crop, N in all"
    )
    parser.add_argument("--sudoku", type=int, default=None, help="the first N photos only")
    parser.add_argument("--no-registers", action="store_true")
    parser.add_argument("--no-sudoku", action="store_true")
    parser.add_argument(
        "--ref", type=Path, help="a checkout of the previous release to run side by side"
    )
    parser.add_argument(
        "--misses", type=Path, help="write the register misses (name, label, read) here"
    )
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.json:  # the --ref subprocess
        print(json.dumps(run(args)))
        return
    reference = None
    if args.ref:
        argv = [a for a in sys.argv[1:] if not a.startswith("--ref") and a != str(args.ref)]
        env = {**os.environ, "PYTHONPATH": str(args.ref.resolve())}
        reference = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), *argv, "--json"],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
    results = run(args)
    show("this", results)
    if reference is not None:
        out, _ = reference.communicate()
        show("previous", json.loads(out))
    if args.misses and "registers" in results:
        args.misses.write_text(
            "".join(f"{n}\t{g}\t{p}\n" for n, g, p in results["registers"]["misses"])
        )


if __name__ == "__main__":
    main()
