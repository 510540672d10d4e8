"""Reading accuracy and speed on photos. Run by hand; prints its figures.

    python bench/photos.py                          # the shipped samples/
    python bench/photos.py --fresh 120 --seed 7     # 120 new photos from MNIST *test* digits
    python bench/photos.py --fresh 120 --seed 301 --ink pencil   # ... all written in pencil
    python bench/photos.py --model mlp --tesseract  # another model; Tesseract side by side
    python bench/photos.py --turn 16                # every photo turned 16 degrees first

Figures:
- exact: images whose whole reading (every string, in order) equals the expected one;
- digit-level: 1 - (edit distance between reading and expected, newlines included) / digits;
- seconds per image (median, by image size), one process, BLAS limited to one thread.
``--fresh`` renders photos with ``digitscan.synth`` from the MNIST *test* split, so no
classifier has seen their digits. ``--tesseract`` also runs Debian's tesseract-ocr (digits
only, page segmentation 11 and 6, best of the two per image) on the same files. ``--turn``
turns each photo (``digitscan.synth.turn``: a phone held askew) before it is read.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # "one core", and no BLAS thread fights

import argparse  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "mnist"


def edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def expected_text(image: Path) -> str:
    return "\n".join(
        line.strip()
        for line in image.with_suffix(".gt.txt").read_text().splitlines()
        if line.strip()
    )


def score(pairs: list[tuple[str, str]]) -> tuple[float, float]:
    exact = sum(p == g for p, g in pairs) / len(pairs)
    digits = sum(len(g.replace("\n", "")) for _, g in pairs)
    errors = sum(edit_distance(p, g) for p, g in pairs)
    return exact, 1 - errors / max(1, digits)


def run_tesseract(image: Path) -> str:
    best = ""
    for psm in ("11", "6"):
        out = subprocess.run(
            [
                "tesseract",
                str(image),
                "-",
                "--psm",
                psm,
                "-c",
                "tessedit_char_whitelist=0123456789",
            ],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        text = "\n".join(line.replace(" ", "") for line in out.splitlines() if line.strip())
        if len(text) > len(best):
            best = text
    return best


def main() -> None:
    from digitscan import synth

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=Path, default=ROOT / "samples")
    parser.add_argument("--fresh", type=int, default=0, help="render N new photos instead")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--ink",
        choices=[*synth.INKS, *synth.OTHER_INKS],
        help="with --fresh: write every photo in this ink",
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--model", default="convnet")
    parser.add_argument("--tesseract", action="store_true")
    parser.add_argument("--show-errors", action="store_true")
    parser.add_argument(
        "--turn", type=float, default=0.0, help="turn every photo by DEG (counter-clockwise)"
    )
    args = parser.parse_args()
    if args.ink and not args.fresh:
        parser.error("--ink needs --fresh N (the shipped samples are already rendered)")

    import digitscan

    folder = args.samples
    if args.fresh:
        folder = Path(tempfile.mkdtemp(prefix="digitscan-bench-"))
        synth.generate(args.data, folder, args.seed, "test", args.fresh, 0, args.ink)
    images = sorted(folder.glob("*.jpg"))
    if args.turn:
        turned = Path(tempfile.mkdtemp(prefix="digitscan-bench-turned-"))
        for image in images:
            photo = synth.turn(cv2.imread(str(image)), args.turn)
            cv2.imwrite(str(turned / image.name), photo, [cv2.IMWRITE_JPEG_QUALITY, 92])
            shutil.copy(image.with_suffix(".gt.txt"), turned / f"{image.stem}.gt.txt")
        if args.fresh:
            shutil.rmtree(folder, ignore_errors=True)
        folder, images = turned, sorted(turned.glob("*.jpg"))
    model = digitscan.api.get_model(args.model)
    digitscan.read(images[0], model=model)  # warm-up: first call pays lazy imports
    ours, theirs, seconds_by_size = [], [], {}
    for image in images:
        truth = expected_text(image)
        start = time.perf_counter()
        reading = digitscan.read(image, model=model)
        elapsed = time.perf_counter() - start
        h, w = cv2.imread(str(image), cv2.IMREAD_REDUCED_GRAYSCALE_8).shape
        megapixels = h * w * 64 / 1e6
        size = "<=2 MP" if megapixels <= 2.1 else "2-5 MP" if megapixels <= 5 else "12 MP"
        seconds_by_size.setdefault(size, []).append(elapsed)
        ours.append((reading.text, truth))
        if args.show_errors and reading.text != truth:
            print(f"  {image.name}: read {reading.text!r}, expected {truth!r}")
        if args.tesseract:
            theirs.append((run_tesseract(image), truth))
    exact, digit_level = score(ours)
    turned_by = f", turned {args.turn:g} degrees" if args.turn else ""
    print(
        f"{len(images)} images from {folder}"
        f"{' (MNIST test digits)' if args.fresh else ''}{turned_by}"
    )
    print(f"digitscan ({args.model}): exact {exact:.1%}, digit-level {digit_level:.1%}")
    for size, values in sorted(seconds_by_size.items()):
        print(
            f"  {size}: median {statistics.median(values):.3f} s, max {max(values):.3f} s "
            f"({len(values)} images, one thread)"
        )
    if args.tesseract:
        if shutil.which("tesseract") is None:
            print("tesseract: not installed (apt-get install tesseract-ocr)")
        else:
            t_exact, t_digit = score(theirs)
            print(f"tesseract (digits only): exact {t_exact:.1%}, digit-level {t_digit:.1%}")
    if args.fresh or args.turn:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
