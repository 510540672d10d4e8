"""Batch throughput, per-file overhead and crash safety. Run by hand; prints its figures.

    python bench/batch.py                   # 200 fresh photos (MNIST test digits), seed 3
    python bench/batch.py --folder DIR      # your own folder of photos

Figures (each run is the real command, ``python -m digitscan batch``, in a new process):
- files/s with ``--jobs 1`` and ``--jobs 2``, and their ratio (target: at least 1.7x);
- overhead per file beyond reading it: (wall time x jobs - sum of each file's own reading
  time) / files, start-up and model loading included (target: under 10 ms);
- kill -9 halfway through a ``--jobs 2`` run, then ``--resume``: every file exactly once,
  no corrupt row, no worker left running;
- a folder of bad files (zero bytes, truncated, text named .jpg, a symlink loop, a
  20,000 x 20,000 PNG): a row each, and the peak memory of the run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "mnist"


def batch(*args: str) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "digitscan", "batch", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    return time.perf_counter() - start, proc


def rows(table: Path) -> list[dict]:
    return [json.loads(line) for line in table.read_text().splitlines()]


def throughput(folder: Path, work: Path, n: int) -> None:
    walls = {}
    for jobs in (1, 2):
        table = work / f"jobs{jobs}.jsonl"
        wall, proc = batch(str(folder), "-o", str(table), "--jobs", str(jobs), "--overwrite")
        if proc.returncode not in (0, 1):
            sys.exit(f"batch failed: {proc.stderr}")
        own = sum(r["seconds"] for r in rows(table))
        walls[jobs] = wall
        overhead_ms = (wall * jobs - own) / n * 1000
        print(
            f"--jobs {jobs}: {n / wall:5.1f} files/s ({wall:.1f} s wall); "
            f"reading itself {own / n * 1000:.0f} ms/file; "
            f"overhead {overhead_ms:.1f} ms/file (start-up and model load included)"
        )
    print(f"speed-up --jobs 2 vs --jobs 1: {walls[1] / walls[2]:.2f}x (target >= 1.7x)")


def kill_and_resume(folder: Path, work: Path, n: int) -> None:
    table = work / "killed.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "digitscan", "batch", str(folder), "-o", str(table), "-j", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    while proc.poll() is None:
        if table.exists() and table.read_bytes().count(b"\n") >= n // 2:
            break
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = table.read_bytes().count(b"\n")
    time.sleep(1.5)  # workers notice their parent is gone within half a second
    orphans = subprocess.run(
        ["pgrep", "-f", "loky.backend.popen_loky"], capture_output=True, text=True, check=False
    ).stdout.split()
    _, resumed = batch(str(folder), "-o", str(table), "-j", "2", "--resume")
    paths = [r["path"] for r in rows(table)]  # raises if any row is corrupt
    print(
        f"kill -9 after {before} of {n} rows, then --resume: {len(paths)} rows, "
        f"{len(set(paths))} distinct files, every row parses; "
        f"workers left after the kill: {len(orphans)}; resume said: "
        f"{resumed.stderr.strip().splitlines()[-1]}"
    )
    if len(paths) != n or len(set(paths)) != n:
        sys.exit("FAILED: rows lost or duplicated")


def bad_files(work: Path) -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    from test_batch import huge_png

    folder = work / "bad"
    folder.mkdir()
    (folder / "zero.jpg").write_bytes(b"")
    sample = next((ROOT / "samples").glob("*.jpg"))
    (folder / "truncated.jpg").write_bytes(sample.read_bytes()[:3000])
    (folder / "notes.jpg").write_text("not a photo\n")
    (folder / "loop.jpg").symlink_to("loop.jpg")
    huge_png(folder / "huge.png")
    shutil.copy(sample, folder / sample.name)
    table = work / "bad.jsonl"
    _, proc = batch(str(folder), "-o", str(table), "-j", "2")
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"bad files: exit {proc.returncode}; {proc.stderr.strip().splitlines()[-1]}")
    for row in rows(table):
        print(f"  {Path(row['path']).name:>14}: {row['error'] or 'read ' + repr(row['text'])}")
    print(f"  peak memory of any one process so far: {peak_mb:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folder", type=Path, help="photos to use [default: render new ones]")
    parser.add_argument("--count", type=int, default=200, help="photos to render")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="MNIST IDX folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="digitscan-batch-") as tmp:
        work = Path(tmp)
        folder = args.folder
        if folder is None:
            from digitscan import synth

            folder = work / "photos"
            synth.generate(args.data, folder, args.seed, "test", args.count, 0)
        n = len([p for p in folder.iterdir() if p.suffix.lower() in {".jpg", ".png"}])
        print(f"{n} photos in {folder}; {os.cpu_count()} cores")
        throughput(folder, work, n)
        kill_and_resume(folder, work, n)
        bad_files(work)


if __name__ == "__main__":
    main()
