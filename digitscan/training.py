"""Training and evaluation of the shipped classifiers (imported lazily by ``train``/``eval``).

:func:`train` reads MNIST from a folder, holds out a seeded validation split, adds the
pipeline's crops of photos rendered from the remaining training digits
(:mod:`digitscan.photocrops`), fits the chosen classifier, measures it on the test split and
on crops of photos of the test digits, and writes the model, its card and a training-curve
PNG. :func:`average` combines trained convnets into one model whose probabilities are their
average, measured and carded the same way. :func:`evaluate` computes accuracy, per-class
accuracy and the confusion matrix;
:func:`error_mosaic` draws the misclassified digits. Nothing here prints.
"""

from __future__ import annotations

import logging
import platform
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
from numpy.typing import NDArray

from digitscan.classifiers.base import (
    NOT_DIGIT,
    SEVERAL_DIGITS,
    Classifier,
    EpochReport,
    check_images,
    check_labels,
    digit_proba,
)
from digitscan.classifiers.convnet import ConvNetClassifier
from digitscan.classifiers.store import save_model
from digitscan.errors import ConfigError
from digitscan.mnist import DataFile, load_mnist_with_sources
from digitscan.photocrops import PhotoCrops, photo_crops

log = logging.getLogger(__name__)

ModelKind = Literal["convnet", "mlp"]

#: The settings the shipped models were trained with (``digitscan train`` defaults).
DEFAULT_EPOCHS: dict[str, int] = {"convnet": 30, "mlp": 40}
DEFAULT_VALIDATION = 5000
#: Photos rendered from the training digits whose crops join the training set.
DEFAULT_PHOTOS: dict[str, int] = {"convnet": 4000, "mlp": 4000}
#: Photos rendered from the test digits to measure a trained model on.
DEFAULT_TEST_PHOTOS = 500


@dataclass(frozen=True, slots=True)
class EvalReport:
    """Accuracy figures of a classifier on a labelled set.

    Attributes:
        n: Number of digits.
        accuracy: Fraction correct.
        per_class: Fraction correct for each true label 0-9 (NaN where a label is absent).
        confusion: ``(10, 10)`` counts, row = true label, column = predicted.
        seconds: Time spent predicting.
    """

    n: int
    accuracy: float
    per_class: tuple[float, ...]
    confusion: tuple[tuple[int, ...], ...]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (NaN becomes None)."""
        out = asdict(self)
        out["per_class"] = [None if np.isnan(v) else v for v in self.per_class]
        out["confusion"] = [list(row) for row in self.confusion]
        return out


@dataclass(frozen=True, slots=True)
class TrainResult:
    """What :func:`train` wrote and measured."""

    card_path: Path
    curve_path: Path
    test: EvalReport
    seconds: float
    photo_test: dict[str, Any] | None = None


def evaluate(
    model: Classifier, images: NDArray[Any], labels: NDArray[Any]
) -> tuple[EvalReport, NDArray[np.int64]]:
    """Measure a classifier on labelled digits.

    Args:
        model: A fitted classifier.
        images: ``(N, 28, 28)`` digits, uint8 or float in [0, 1], bright ink.
        labels: ``(N,)`` true labels.

    Returns:
        The report and the predicted labels.
    """
    x = check_images(images, "images")
    y = check_labels(labels, len(x), "labels")
    start = time.perf_counter()
    predicted = np.asarray(model.predict(x), dtype=np.int64)
    seconds = time.perf_counter() - start
    n_classes = max(10, int(max(y.max(initial=0), predicted.max(initial=0))) + 1)
    confusion = np.zeros((n_classes, n_classes), np.int64)
    np.add.at(confusion, (y, predicted), 1)
    totals = confusion.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.where(totals > 0, np.diag(confusion) / np.maximum(totals, 1), np.nan)
    report = EvalReport(
        n=len(y),
        accuracy=float(np.mean(predicted == y)) if len(y) else float("nan"),
        per_class=tuple(float(v) for v in per_class),
        confusion=tuple(tuple(int(v) for v in row) for row in confusion),
        seconds=seconds,
    )
    return report, predicted


def error_mosaic(
    images: NDArray[Any], labels: NDArray[Any], predicted: NDArray[Any], *, max_digits: int = 400
) -> NDArray[np.uint8]:
    """A mosaic of misclassified digits, each captioned ``true>predicted``.

    Returns:
        A BGR uint8 image (dark ink on white), at least one tile even with no errors.
    """
    x = np.round(check_images(images, "images") * 255).astype(np.uint8)
    wrong = np.nonzero(np.asarray(labels) != np.asarray(predicted))[0][:max_digits]
    scale, caption_px = 3, 14
    tile_w, tile_h = 28 * scale, 28 * scale + caption_px
    cols = max(1, min(20, len(wrong)))
    rows = max(1, -(-len(wrong) // cols))
    mosaic = np.full((rows * tile_h, cols * tile_w, 3), 255, np.uint8)
    for slot, index in enumerate(wrong):
        r, c = divmod(slot, cols)
        digit = cv2.resize(255 - x[index], (tile_w, tile_w), interpolation=cv2.INTER_NEAREST)
        y0, x0 = r * tile_h, c * tile_w
        mosaic[y0 : y0 + tile_w, x0 : x0 + tile_w] = digit[..., None]
        cv2.putText(
            mosaic,
            f"{labels[index]}>{predicted[index]}",
            (x0 + 3, y0 + tile_h - 3),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.4,
            (0, 0, 200),
            1,
            cv2.LINE_AA,
        )
    if not len(wrong):
        cv2.putText(
            mosaic,
            "no errors",
            (2, tile_h // 2),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.3,
            (0, 128, 0),
            1,
            cv2.LINE_AA,
        )
    return mosaic


def plot_curve(history: list[EpochReport], title: str) -> NDArray[np.uint8]:
    """Training curve: loss (left axis) and train/validation accuracy (right) per epoch.

    Drawn with OpenCV so training needs no plotting library. Returns a BGR uint8 image.
    """
    width, height, margin = 720, 420, 60
    image = np.full((height, width, 3), 255, np.uint8)
    x0, y0, x1, y1 = margin, 30, width - margin, height - margin
    cv2.rectangle(image, (x0, y0), (x1, y1), (0, 0, 0), 1)
    font = cv2.FONT_HERSHEY_SIMPLEX
    cv2.putText(image, title, (x0, 20), font, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    if not history:
        return image
    epochs = np.array([h.epoch for h in history], float)
    losses = np.array([h.loss for h in history])
    train_acc = np.array([h.train_accuracy for h in history])
    val_acc = np.array([np.nan if h.val_accuracy is None else h.val_accuracy for h in history])
    loss_max = float(losses.max()) * 1.05 or 1.0
    acc_values = np.concatenate([train_acc, val_acc])
    acc_values = acc_values[~np.isnan(acc_values)]
    acc_min = float(min(0.9, acc_values.min())) if acc_values.size else 0.9

    def px(e: float, v: float, lo: float, hi: float) -> tuple[int, int]:
        fx = 0.5 if len(epochs) == 1 else (e - epochs[0]) / (epochs[-1] - epochs[0])
        return round(x0 + fx * (x1 - x0)), round(y1 - (v - lo) / (hi - lo) * (y1 - y0))

    series = [
        (losses, 0.0, loss_max, (200, 80, 0), "loss"),
        (train_acc, acc_min, 1.0, (0, 140, 0), "train accuracy"),
        (val_acc, acc_min, 1.0, (0, 0, 220), "validation accuracy"),
    ]
    for i, (values, lo, hi, colour, label) in enumerate(series):
        points = [px(e, v, lo, hi) for e, v in zip(epochs, values, strict=True) if not np.isnan(v)]
        for a, b in zip(points, points[1:], strict=False):
            cv2.line(image, a, b, colour, 2, cv2.LINE_AA)
        for p in points:
            cv2.circle(image, p, 3, colour, -1, cv2.LINE_AA)
        cv2.putText(image, label, (x0 + 10 + 200 * i, y1 + 40), font, 0.45, colour, 1, cv2.LINE_AA)
    for frac in (0.0, 0.5, 1.0):
        y = round(y1 - frac * (y1 - y0))
        cv2.putText(image, f"{frac * loss_max:.2f}", (5, y + 4), font, 0.4, (200, 80, 0), 1)
        cv2.putText(
            image,
            f"{acc_min + frac * (1 - acc_min):.3f}",
            (x1 + 4, y + 4),
            font,
            0.4,
            (0, 0, 220),
            1,
        )
    cv2.putText(
        image,
        f"epoch {int(epochs[0])}..{int(epochs[-1])}",
        ((x0 + x1) // 2 - 40, y1 + 18),
        font,
        0.45,
        (0, 0, 0),
        1,
        cv2.LINE_AA,
    )
    return image


def build_model(kind: ModelKind, *, epochs: int, seed: int) -> Any:
    """The untrained classifier of a kind with the shipped settings."""
    if kind == "convnet":
        return ConvNetClassifier(epochs=epochs, random_state=seed)
    if kind == "mlp":
        from digitscan.classifiers.mlp import MLPDigitClassifier

        return MLPDigitClassifier(epochs=epochs, random_state=seed)
    raise ConfigError(f"`kind` must be 'convnet' or 'mlp', got {kind!r}")


def train(
    kind: ModelKind,
    data_dir: Path | str,
    out_dir: Path | str,
    *,
    epochs: int | None = None,
    seed: int = 0,
    validation: int = DEFAULT_VALIDATION,
    name: str | None = None,
    photos: int | None = None,
    test_photos: int = DEFAULT_TEST_PHOTOS,
    command: str = "",
    on_epoch: Callable[[EpochReport], None] | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> TrainResult:
    """Train a classifier on MNIST and write it with its card and training curve.

    Args:
        kind: ``"convnet"`` or ``"mlp"``.
        data_dir: Folder with the four MNIST IDX files.
        out_dir: Where to write ``<name>.json``, the weights and ``<name>-curve.png``.
        epochs: Passes over the data (default: the shipped model's).
        seed: Seed of the validation split and of all training randomness.
        validation: Training digits held out (seeded) to measure after each epoch.
        name: Model name (default: ``kind``).
        photos: Photos to render from the training digits (not the validation ones) whose
            pipeline crops join the training set (default: the shipped model's; 0 for none).
        test_photos: Photos to render from the test digits to measure the model on their
            crops (0: measure on MNIST's test split only).
        command: The command line, recorded in the card.
        on_epoch: Progress callback.
        on_stage: Called with a short description before each slow stage.

    Returns:
        Paths written and the test-set report.

    Raises:
        DataError: The data folder is incomplete or corrupt.
        ConfigError: Bad settings.
    """
    epochs = DEFAULT_EPOCHS[kind] if epochs is None else epochs
    photos = DEFAULT_PHOTOS[kind] if photos is None else photos
    if photos < 0 or test_photos < 0:
        raise ConfigError("`photos` and `test_photos` must be at least 0")
    say = on_stage or (lambda _: None)
    name = name or kind
    commit = code_commit()  # now: the code may change while a long training runs
    images, labels, train_files = load_mnist_with_sources(data_dir, "train")
    test_images, test_labels, test_files = load_mnist_with_sources(data_dir, "test")
    if not 0 <= validation < len(images):
        raise ConfigError(f"`validation` must be in [0, {len(images)}), got {validation}")
    order = np.random.default_rng(seed).permutation(len(images))
    val_idx, fit_idx = order[:validation], order[validation:]
    model = build_model(kind, epochs=epochs, seed=seed)
    start = time.perf_counter()
    fit_x, fit_y = images[fit_idx], labels[fit_idx]
    crops = None
    if photos:
        say(f"rendering {photos} photos of the training digits and cutting their digits out")
        crops = photo_crops(fit_x, fit_y, photos, seed=seed, jobs=-1)
        fit_x = np.concatenate([fit_x, crops.images])
        fit_y = np.concatenate([fit_y, crops.labels])
    eval_set = (images[val_idx], labels[val_idx]) if validation else None
    say(f"training on {len(fit_y)} digits")
    model.fit(fit_x, fit_y, eval_set=eval_set, on_epoch=on_epoch)
    seconds = time.perf_counter() - start
    test_report, _ = evaluate(model, test_images, test_labels)
    metrics = {"mnist_test": test_report.to_dict()}
    if test_photos:
        say(f"measuring on {test_photos} photos of the test digits")
        photo_report = evaluate_photos(model, test_images, test_labels, test_photos, seed + 1)
        metrics["photo_crops_test"] = photo_report
    out_dir = Path(out_dir)
    card = {
        "training": {
            "command": command,
            "code_commit": commit,
            "seed": seed,
            "epochs": epochs,
            "validation_holdout": validation,
            "photos": _photos_card(crops, seed),
            "hyperparameters": model.get_params() | _jsonable_params(model),
            "seconds": round(seconds, 1),
            "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
            "history": [asdict(h) for h in model.history_],
        },
        "data": {
            "train": [_data_file(f) for f in train_files],
            "test": [_data_file(f) for f in test_files],
        },
        "preprocessing": {
            "input_shape": [28, 28],
            "ink_polarity": "bright ink (255 or 1.0) on dark background (0)",
            "scale": "uint8 0-255 or float 0-1",
            "normalisation": "MNIST: ink bounding box scaled to longest side 20 px, "
            "centre of mass at (14, 14) in 28x28 (digitscan.normalize.to_mnist)",
            "deskew": False,
            "augmentation": "digitscan.augment.AugmentConfig defaults" if model.augment else None,
        },
        "classes": list(range(10)),
        "metrics": metrics,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    card_path = save_model(model, out_dir, name, card)
    curve_path = out_dir / f"{name}-curve.png"
    title = f"{name}: test accuracy {test_report.accuracy:.4f}"
    cv2.imwrite(str(curve_path), plot_curve(model.history_, title))
    return TrainResult(
        card_path=card_path,
        curve_path=curve_path,
        test=test_report,
        seconds=seconds,
        photo_test=metrics.get("photo_crops_test"),
    )


@dataclass(frozen=True, slots=True)
class AverageResult:
    """What :func:`average` wrote and measured."""

    card_path: Path
    test: EvalReport
    photo_test: dict[str, Any] | None = None


def average(
    members: Sequence[Path | str],
    data_dir: Path | str,
    out_dir: Path | str,
    *,
    name: str = "convnet",
    test_photos: int = DEFAULT_TEST_PHOTOS,
    seed: int = 1,
    drop: Sequence[int] = (),
    command: str = "",
    on_stage: Callable[[str], None] | None = None,
) -> AverageResult:
    """Average trained convnets into one model; measure it and write it with its card.

    Args:
        members: Convnet models (cards, weights or folders; see ``load_model``), two or
            more networks in all. An averaged model joins with its members, so a shipped
            average grows by one network with ``digitscan average models/convnet.json
            new/convnet.json``.
        data_dir: Folder with the four MNIST IDX files (the test split is measured).
        out_dir: Where to write ``<name>.json`` and the weights (all members in one file).
        name: Model name.
        test_photos: Photos rendered from the test digits to measure the model on (0: none).
        seed: Seed of those photos (``digitscan train`` uses its seed + 1).
        drop: Positions (0 = the first) of networks to leave out, counted after the
            members' own members have joined: ``digitscan average models/convnet.json
            new/convnet.json --drop 0`` replaces the shipped average's first network.
        command: The command line, recorded in the card.
        on_stage: Called with a short description before each slow stage.

    Raises:
        ConfigError: Fewer than two networks left, a position out of range, or a member
            that is not a convnet.
        ModelError: A member cannot be loaded.
    """
    from digitscan.classifiers.ensemble import AveragedConvNets
    from digitscan.classifiers.store import load_model

    say = on_stage or (lambda _: None)
    nets: list[ConvNetClassifier] = []
    member_cards: list[dict[str, Any]] = []
    models = [load_model(member) for member in members]
    for member, loaded in zip(members, models, strict=True):
        if isinstance(loaded, AveragedConvNets):
            # An average grows by a member: its own members join, each with its card entry.
            known = loaded.card_.get("training", {}).get("members", [])
            if len(known) != len(loaded.estimators_):  # a card written by hand
                known = [
                    {"weights": f"{loaded.card_['weights']} member {i}"}
                    for i in range(len(loaded.estimators_))
                ]
            nets += loaded.estimators_
            member_cards += known
        elif isinstance(loaded, ConvNetClassifier):
            nets.append(loaded)
            member_cards.append(_member_card(loaded.card_))
        else:
            raise ConfigError(f"{member}: only convnets can be averaged")
    dropped = set(drop)
    outside = sorted(dropped - set(range(len(nets))))
    if outside:
        raise ConfigError(
            f"no network {outside[0]} to drop: the members hold {len(nets)} networks "
            f"(0 to {len(nets) - 1})"
        )
    kept = [i for i in range(len(nets)) if i not in dropped]
    if len(kept) < 2:
        raise ConfigError("averaging needs two or more networks")
    nets, member_cards = [nets[i] for i in kept], [member_cards[i] for i in kept]
    model = AveragedConvNets.of_fitted(nets)
    test_images, test_labels, test_files = load_mnist_with_sources(data_dir, "test")
    test_report, _ = evaluate(model, test_images, test_labels)
    metrics: dict[str, Any] = {"mnist_test": test_report.to_dict()}
    if test_photos:
        say(f"measuring on {test_photos} photos of the test digits")
        photos = evaluate_photos(model, test_images, test_labels, test_photos, seed)
        metrics["photo_crops_test"] = photos
    first = models[0].card_
    card = {
        "training": {
            "command": command,
            "code_commit": code_commit(),
            "method": "class probabilities of the members averaged "
            "(digitscan.classifiers.ensemble.AveragedConvNets)",
            "members": member_cards,
        },
        "data": {**first.get("data", {}), "test": [_data_file(f) for f in test_files]},
        "preprocessing": first.get("preprocessing"),
        "classes": list(range(10)),
        "metrics": metrics,
    }
    card_path = save_model(model, out_dir, name, card)
    return AverageResult(card_path, test_report, metrics.get("photo_crops_test"))


#: A piece of a digit the base model reads as a digit more surely than this is not taught as
#: "not a digit": it looks like one (a 3 cut from an 8).
PIECE_READS_AS_DIGIT = 0.9
#: A harvested "not a digit" crop the base model reads as a digit this surely is not taught.
#: A model taught on every such crop lost render digits whose nearest harvested neighbours
#: were 92-100% "not a digit", and 9% of that harvest's "not a digit" crops read to the base
#: model as a digit at over 0.3 (other rows' digits, unsure real ones, digit pairs).
JUNK_READS_AS_DIGIT = 0.2


@dataclass(frozen=True, slots=True)
class RealData:
    """Real handwriting and "not a digit" examples to teach a fitted classifier.

    Attributes:
        pen_digits: ``pen-digits-16px/digits.npz`` (see :func:`digitscan.realdata.load_pen_digits`).
        crops: ``.npz`` files of crops harvested from real scans (``images``, ``labels``; see
            :func:`digitscan.realdata.harvest_registers`).
        rejects: "Not a digit" images to render (:func:`digitscan.rejects.render_rejects`).
        max_not_digit_crops: At most this many harvested "not a digit" crops in all, the same
            share of every file (they outnumber the digits: every speck and scrap of ruling on
            a scan). Those the base model reads as a digit with at least
            :data:`JUNK_READS_AS_DIGIT` are left out first: a harvest labels what its
            alignment skips, which can be another row's digit or an unsure real one.
        holdout: Share of every real source held out to measure on.
    """

    pen_digits: Path | None
    crops: tuple[Path, ...] = ()
    rejects: int = 30_000
    max_not_digit_crops: int = 15_000
    holdout: float = 0.1


def teach_real(
    base: Path | str,
    data_dir: Path | str,
    real: RealData,
    out_dir: Path | str,
    *,
    epochs: int = 4,
    learning_rate: float = 1e-3,
    seed: int = 0,
    name: str = "convnet",
    command: str = "",
    on_epoch: Callable[[EpochReport], None] | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> AverageResult:
    """Train a fitted classifier on with real data and a "not a digit" class.

    Every network of a convnet (each member of an average) starts from its fitted weights
    (``warm_start``), grows a "not a digit" output if it has none, and trains ``epochs`` more
    on MNIST's training digits, the real digits and the "not a digit" examples together,
    augmented as in :func:`train`. An MLP is fitted anew on the same data with its settings
    (scikit-learn's MLP cannot grow an output). The result is measured on MNIST's test split
    and on the held-out part of every real source.

    Raises:
        DataError: A data file is missing or damaged.
        ConfigError: ``base`` is not a convnet.
        ModelError: ``base`` cannot be loaded.
    """
    from digitscan.classifiers.ensemble import AveragedConvNets
    from digitscan.classifiers.store import load_model
    from digitscan.realdata import load_pen_digits
    from digitscan.rejects import find_fonts, render_rejects

    say = on_stage or (lambda _: None)
    commit = code_commit()
    from digitscan.classifiers.mlp import MLPDigitClassifier

    loaded = load_model(base)
    if isinstance(loaded, AveragedConvNets):
        nets: list[Any] = list(loaded.estimators_)
    elif isinstance(loaded, ConvNetClassifier):
        nets = [loaded]
    elif isinstance(loaded, MLPDigitClassifier):
        nets = [MLPDigitClassifier(**loaded.get_params())]
    else:
        raise ConfigError(f"{base}: only a convnet or an MLP can be taught on")
    rng = np.random.default_rng(seed)
    images, labels, train_files = load_mnist_with_sources(data_dir, "train")
    test_images, test_labels, test_files = load_mnist_with_sources(data_dir, "test")
    parts: dict[str, tuple[NDArray[np.uint8], NDArray[np.int64]]] = {}
    if real.pen_digits is not None:
        pen_x, pen_y = load_pen_digits(real.pen_digits)
        parts["pen digits"] = (pen_x, pen_y.astype(np.int64))
    harvested = {}
    for path in real.crops:
        with np.load(path, allow_pickle=False) as data:
            x, y = data["images"], data["labels"].astype(np.int64)
        junk = np.nonzero(y == NOT_DIGIT)[0]
        if len(junk):  # the base model vetoes "not a digit" labels on what it reads as digits
            sure = digit_proba(loaded.predict_proba(x[junk])).max(axis=1)
            keep = np.setdiff1d(np.arange(len(y)), junk[sure >= JUNK_READS_AS_DIGIT])
            x, y = x[keep], y[keep]
        harvested[f"crops {Path(path).name}"] = (x, y)
    total_junk = sum(int(np.sum(y == NOT_DIGIT)) for _, y in harvested.values())
    share = min(1.0, real.max_not_digit_crops / max(total_junk, 1))
    for key, (x, y) in harvested.items():
        junk = np.nonzero(y == NOT_DIGIT)[0]
        drop = rng.choice(junk, len(junk) - round(share * len(junk)), replace=False)
        keep = np.setdiff1d(np.arange(len(y)), drop)
        parts[key] = (x[keep], y[keep])
    if real.rejects:
        say(f"rendering {real.rejects} 'not a digit' images")
        fonts = find_fonts()
        rendered, kinds = render_rejects(
            real.rejects,
            rng,
            digits=images,
            fonts=fonts,
            reads_as_digit=lambda image: bool(
                digit_proba(loaded.predict_proba(image[None])).max() > PIECE_READS_AS_DIGIT
            ),
            return_kinds=True,
        )
        several = np.array([kind == "digit_group" for kind in kinds])
        rendered_labels = np.where(several, SEVERAL_DIGITS, NOT_DIGIT).astype(np.int64)
        parts["rendered not-a-digit"] = (rendered, rendered_labels)
    fit_x, fit_y = [images], [labels.astype(np.int64)]
    held: dict[str, tuple[NDArray[np.uint8], NDArray[np.int64]]] = {}
    for key, (x, y) in parts.items():
        order = rng.permutation(len(y))
        cut = int(round(real.holdout * len(y)))
        held[key] = (x[order[:cut]], y[order[:cut]])
        fit_x.append(x[order[cut:]])
        fit_y.append(y[order[cut:]])
    x_all, y_all = np.concatenate(fit_x), np.concatenate(fit_y)
    start = time.perf_counter()
    for i, net in enumerate(nets):
        say(f"network {i + 1} of {len(nets)}: {epochs} epochs on {len(y_all)} images")
        if isinstance(net, ConvNetClassifier):
            net.set_params(
                warm_start=True, epochs=epochs, learning_rate=learning_rate, random_state=seed + i
            )
        else:  # an MLP is fitted anew with its own learning rate
            net.set_params(epochs=epochs, random_state=seed + i)
        net.fit(x_all, y_all, on_epoch=on_epoch)
    seconds = time.perf_counter() - start
    model = AveragedConvNets.of_fitted(nets) if len(nets) > 1 else nets[0]
    test_report, _ = evaluate(model, test_images, test_labels)
    metrics: dict[str, Any] = {"mnist_test": test_report.to_dict()}
    for key, (x, y) in held.items():
        report, predicted = evaluate(model, x, y)
        metrics[f"held_out {key}"] = {
            "n": report.n,
            "accuracy": round(report.accuracy, 4),
            "not_a_digit_called_digit": int(np.sum((y >= NOT_DIGIT) & (predicted < NOT_DIGIT))),
            "digit_called_not_a_digit": int(np.sum((y < NOT_DIGIT) & (predicted >= NOT_DIGIT))),
        }
    card = {
        "training": {
            "command": command,
            "code_commit": commit,
            "method": "each network of the base model trained on from its weights "
            "(warm start), a 'not a digit' output added"
            if isinstance(nets[0], ConvNetClassifier)
            else "fitted anew with the base model's settings",
            "base": str(base),
            "base_card": loaded.card_.get("training"),
            "epochs": epochs,
            "learning_rate": learning_rate,
            "seed": seed,
            "seconds": round(seconds, 1),
            "sources": {key: int(len(y)) for key, (_, y) in parts.items()},
            "fonts": [f.name for f in find_fonts()] if real.rejects else [],
            "histories": [[asdict(h) for h in net.history_] for net in nets],
        },
        "data": {
            "train": [_data_file(f) for f in train_files],
            "test": [_data_file(f) for f in test_files],
            "real": [str(real.pen_digits), *map(str, real.crops)],
        },
        "preprocessing": loaded.card_.get("preprocessing"),
        "classes": [*range(10), "not a digit", "several digits"][: len(model.classes_)],
        "metrics": metrics,
    }
    card_path = save_model(model, out_dir, name, card)
    return AverageResult(card_path, test_report, None)


def code_commit(package_dir: Path | None = None) -> str | None:
    """The git commit the running digitscan code comes from, for a model card.

    ``"<short hash>"``, with ``"-dirty"`` when the package's tracked files differ from it;
    None when the package is not tracked by git (installed from a wheel or an sdist, or git
    missing): the card then names the digitscan version only.

    Args:
        package_dir: The package folder (default: this package's).
    """
    where = Path(package_dir or Path(__file__).resolve().parent)

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(where), *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout.strip()

    try:
        # A copy installed into a virtual environment inside a checkout is not the checkout.
        git("ls-files", "--error-unmatch", "--", "__init__.py")
        head = git("rev-parse", "--short", "HEAD")
        changed = git("status", "--porcelain", "--untracked-files=no", "--", ".")
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("-dirty" if changed else "")


def _member_card(card: dict[str, Any]) -> dict[str, Any]:
    """What an averaged model's card keeps of one member network's card."""
    return {
        "weights": card["weights"],
        "sha256": card["sha256"],
        "created": card.get("created"),
        "training": card.get("training"),
        "metrics": card.get("metrics"),
    }


def evaluate_photos(
    model: Classifier, images: NDArray[Any], labels: NDArray[Any], photos: int, seed: int
) -> dict[str, Any]:
    """Accuracy on the pipeline's crops of ``photos`` photos rendered from the given digits.

    Returns:
        :meth:`EvalReport.to_dict` plus ``photos``, ``seed`` and ``matched`` (the fraction of
        rendered digits the pipeline cut out as one crop).
    """
    crops = photo_crops(images, labels, photos, seed=seed, jobs=-1)
    report, _ = evaluate(model, crops.images, crops.labels)
    return {
        "photos": photos,
        "seed": seed,
        "matched": round(len(crops.labels) / max(1, crops.digits), 4),
        **report.to_dict(),
    }


def _photos_card(crops: PhotoCrops | None, seed: int) -> dict[str, Any] | None:
    if crops is None:
        return None
    return {
        "photos": crops.photos,
        "seed": seed,
        "digits_rendered": crops.digits,
        "crops_added": len(crops.labels),
        "source": "digitscan.photocrops: digitscan.synth photos of the training digits "
        "(validation digits excluded), cut out by the pipeline's segmentation",
    }


def _data_file(source: DataFile) -> dict[str, Any]:
    return {"file": source.path.name, "md5": source.md5, "official_mnist": source.official}


def _jsonable_params(model: Any) -> dict[str, Any]:
    return {k: list(v) for k, v in model.get_params().items() if isinstance(v, tuple)}
