"""Fit the string scorer (digitscan.stringscore) and write it with its card.

    python tools/fit_string_scorer.py --out models --registers 6000 --photos 600 --grids 200

Examples come from two sources, read with the shipped classifier:
- the register train split (every k-th crop): a crop's strings belong when its label is
  their text joined with some left out, in one way only (other crops are skipped);
- rendered photos (digitscan.synth: the seeded scenes, and filled 9x9 grids of printed and
  written digits): a string belongs when its digits are the page's digits.
Photo ``i`` of a seed is drawn from ``default_rng([seed, i])``, so the work can be shared out.
``--cache DIR`` keeps each source's examples, so that a refit reads only what changed.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
#: The scorer's settings (scikit-learn's HistGradientBoostingClassifier).
SETTINGS = {"max_iter": 200, "learning_rate": 0.1, "max_leaf_nodes": 15, "random_state": 0}
#: The rendered examples weigh this much, all together, against the register examples.
RENDER_WEIGHT = 0.5


def register_examples(args: tuple[Path, int, int, int]) -> tuple[np.ndarray, np.ndarray, int]:
    """Features and labels of every k-th register crop (``limit``, ``offset``, ``part``)."""
    import digitscan
    from digitscan.config import ScanConfig
    from digitscan.pipeline import image_strings
    from digitscan.realdata import register_crops
    from digitscan.stringscore import features, labels_from_text

    tar, limit, offset, parts = args
    model, config = digitscan.api.get_model("convnet"), ScanConfig()
    xs, ys, used = [], [], 0
    for k, (_name, image, label) in enumerate(register_crops(tar, limit=limit, offset=0)):
        if k % parts != offset:
            continue
        strings, frame = image_strings(image, config, model)
        texts = ["".join(str(d.label) for d in s) for s in strings]
        belong = labels_from_text(texts, label)
        if belong is not None:
            xs.append(features(strings, frame))
            ys += belong
            used += 1
    return _stack(xs, ys, used)


def photo_examples(args: tuple[Path, int, int, int, str]) -> tuple[np.ndarray, np.ndarray, int]:
    """Features and labels of rendered photos ``first..last-1`` of a seed, of one kind or all."""
    import cv2

    import digitscan
    from digitscan import synth
    from digitscan.config import ScanConfig
    from digitscan.mnist import load_mnist
    from digitscan.pipeline import image_strings
    from digitscan.stringscore import features, labels_from_boxes

    cv2.setNumThreads(1)
    mnist, seed, first, last, kind = args
    images, labels = load_mnist(mnist, "train")
    model, config = digitscan.api.get_model("convnet"), ScanConfig()
    xs, ys = [], []
    for i in range(first, last):
        rng = np.random.default_rng([seed, i])
        scene = kind or list(synth.SCENES)[int(rng.integers(len(synth.SCENES)))]
        size = synth.SIZES[int(rng.integers(len(synth.SIZES)))]
        if rng.random() < 0.3:
            size = (size[1], size[0])
        ink = synth.OTHER_INKS["pencil"] if rng.random() < 0.15 else None
        photo = synth.render(scene, rng, synth.DigitSource(images, labels, rng), size, ink=ink)
        strings, frame = image_strings(photo.as_saved(), config, model)
        if strings:
            xs.append(features(strings, frame))
            ys += labels_from_boxes(strings, [box for _, box in photo.digits])
    return _stack(xs, ys, last - first)


def _stack(xs: list, ys: list, count: int) -> tuple[np.ndarray, np.ndarray, int]:
    from digitscan.stringscore import FEATURES

    x = np.concatenate(xs) if xs else np.zeros((0, len(FEATURES)), np.float32)
    return x, np.asarray(ys, np.int64), count


def collect(args: argparse.Namespace, sources: list[str]) -> dict[str, np.ndarray]:
    """The examples of ``sources`` (registers, photos, grid), shared between ``--jobs``."""
    tasks, kinds = [], []
    if "registers" in sources:
        tar = args.data / "registers" / "train.tar"
        tasks += [
            (register_examples, (tar, args.registers, p, args.jobs)) for p in range(args.jobs)
        ]
        kinds += ["registers"] * args.jobs
    rendered = ((args.photos, "photos", args.seed), (args.grids, "grid", args.seed + 1))
    for count, kind, seed in rendered:
        if kind not in sources:
            continue
        step = max(1, -(-count // (4 * args.jobs)))
        for first in range(0, count, step):
            last = min(count, first + step)
            scene = "" if kind == "photos" else kind
            tasks.append((photo_examples, (args.data / "mnist", seed, first, last, scene)))
            kinds.append(kind)
    out: dict[str, list] = {}
    with ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(fn, task) for fn, task in tasks]
        for kind, future in zip(kinds, futures, strict=True):
            x, y, n = future.result()
            out.setdefault(f"{kind}_x", []).append(x)
            out.setdefault(f"{kind}_y", []).append(y)
            out.setdefault(f"{kind}_n", []).append(np.array([n]))
    return {key: np.concatenate(parts) for key, parts in out.items()}


def examples(args: argparse.Namespace) -> dict[str, np.ndarray]:
    """Every source's examples, from ``--cache`` where it holds them for the same settings."""
    wanted = {
        "registers": f"registers{args.registers}",
        "photos": f"photos{args.photos}-seed{args.seed}",
        "grid": f"grid{args.grids}-seed{args.seed + 1}",
    }
    data: dict[str, np.ndarray] = {}
    missing = []
    for source, key in wanted.items():
        path = args.cache / f"{key}.npz" if args.cache else None
        if path is not None and path.exists():
            with np.load(path) as npz:
                data.update({k: npz[k] for k in npz.files})
        else:
            missing.append(source)
    if missing:
        found = collect(args, missing)
        data.update(found)
        if args.cache:
            args.cache.mkdir(parents=True, exist_ok=True)
            for source in missing:
                part = {k: v for k, v in found.items() if k.startswith(f"{source}_")}
                np.savez_compressed(args.cache / f"{wanted[source]}.npz", **part)
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--registers", type=int, default=6000)
    parser.add_argument("--photos", type=int, default=600)
    parser.add_argument("--grids", type=int, default=200)
    parser.add_argument("--seed", type=int, default=900)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--cache", type=Path, help="a folder to keep the examples in")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    import sklearn
    from sklearn.ensemble import HistGradientBoostingClassifier

    from digitscan.classifiers.store import save_model
    from digitscan.stringscore import FEATURES, StringScorer

    start = time.perf_counter()
    data = examples(args)
    rendered = [k for k in ("photos", "grid") if f"{k}_x" in data]
    x_reg, y_reg = data["registers_x"], data["registers_y"]
    x = np.concatenate([x_reg] + [data[f"{k}_x"] for k in rendered])
    y = np.concatenate([y_reg] + [data[f"{k}_y"] for k in rendered])
    n_rendered = len(y) - len(y_reg)
    weight = np.ones(len(y))
    weight[len(y_reg) :] = RENDER_WEIGHT * len(y_reg) / max(1, n_rendered)
    fitted = HistGradientBoostingClassifier(**SETTINGS).fit(x, y, sample_weight=weight)
    model = StringScorer.from_sklearn(fitted)  # its trees as arrays, walked with NumPy
    gap = np.abs(1 / (1 + np.exp(-model.decision(x))) - fitted.predict_proba(x)[:, 1]).max()
    if gap > 1e-6:
        raise SystemExit(f"the trees as arrays score otherwise than scikit-learn ({gap:g})")
    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    card = {
        "training": {
            "command": "python tools/fit_string_scorer.py "
            + f"--registers {args.registers} --photos {args.photos} --grids {args.grids} "
            + f"--seed {args.seed} --out {args.out}",
            "code_commit": commit,
            "classifier": "models/convnet.json (read every image)",
            "method": "scikit-learn HistGradientBoostingClassifier: does a string belong to "
            "the image's reading (digitscan.stringscore)",
            "settings": SETTINGS,
            "render_weight": RENDER_WEIGHT,
            "features": list(FEATURES),
            "examples": {
                "register_crops_read": args.registers,
                "register_crops_used": int(data["registers_n"].sum()),
                "register_strings": len(y_reg),
                "register_strings_belonging": int(y_reg.sum()),
                **{
                    f"rendered_{k}": {
                        "photos": int(data[f"{k}_n"].sum()),
                        "strings": len(data[f"{k}_y"]),
                        "belonging": int(data[f"{k}_y"].sum()),
                    }
                    for k in rendered
                },
            },
            "data": "../shared/data/registers/train.tar (Cabello Piqueras et al., ICFHR "
            "2022); digitscan.synth renders of MNIST training digits",
            "scikit-learn": sklearn.__version__,
            "trees": len(fitted._predictors),  # noqa: SLF001
            "train_accuracy": round(float(fitted.score(x, y)), 4),
        }
    }
    path = save_model(model, args.out, "strings", card)
    print(f"{path}: {len(y)} strings, train accuracy {card['training']['train_accuracy']}")
    print(f"{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
