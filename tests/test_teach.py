"""digitscan teach: a fitted classifier trained on with real crops and "not a digit"."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from digitscan.classifiers.convnet import ConvNetClassifier
from digitscan.classifiers.mlp import MLPDigitClassifier
from digitscan.classifiers.store import load_model, save_model
from digitscan.mnist import load_mnist
from digitscan.training import RealData, teach_real

TINY = Path(__file__).parent / "resources" / "mnist-tiny"


def _crops(tmp_path: Path) -> Path:
    """Stand-in harvested crops: digits of the tiny set, and level dashes as not digits."""
    x, y = load_mnist(TINY, "train")
    dashes = np.zeros((40, 28, 28), np.uint8)
    dashes[:, 12:16, 3:25] = 255
    path = tmp_path / "crops.npz"
    np.savez(
        path,
        images=np.concatenate([x[:60], dashes]),
        labels=np.concatenate([y[:60], np.full(40, 10)]),
    )
    return path


def test_teach_grows_the_not_one_digit_classes_and_records_them(tmp_path: Path) -> None:
    x, y = load_mnist(TINY, "train")
    net = ConvNetClassifier(
        channels=(4, 8), kernels=(3, 3), hidden=16, epochs=2, augment=False
    ).fit(x, y)
    base = save_model(net, tmp_path / "base", "convnet", {"training": {"command": "test"}})
    real = RealData(pen_digits=None, crops=(_crops(tmp_path),), rejects=60, holdout=0.2)
    result = teach_real(base, TINY, real, tmp_path / "out", epochs=1, seed=3)
    taught = load_model(result.card_path)
    # "Not a digit", and "several digits" for the rendered touching digits.
    assert list(taught.classes_) == list(range(12))
    card = json.loads(result.card_path.read_text())
    assert card["classes"][-2:] == ["not a digit", "several digits"]
    assert card["training"]["sources"] == {"crops crops.npz": 100, "rendered not-a-digit": 60}
    held = card["metrics"]["held_out crops crops.npz"]
    assert held["n"] == 20 and 0 <= held["accuracy"] <= 1
    assert taught.predict_proba(x[:2]).shape == (2, 12)


def test_teach_fits_an_mlp_anew_with_the_class(tmp_path: Path) -> None:
    x, y = load_mnist(TINY, "train")
    mlp = MLPDigitClassifier(hidden_layer_sizes=(16,), epochs=2, augment=False).fit(x, y)
    base = save_model(mlp, tmp_path / "base", "mlp", {"training": {"command": "test"}})
    real = RealData(pen_digits=None, crops=(_crops(tmp_path),), rejects=30)
    result = teach_real(base, TINY, real, tmp_path / "out", epochs=2, name="mlp")
    assert list(load_model(result.card_path).classes_) == list(range(12))


def test_harvested_not_digits_are_capped_in_all_and_vetoed_by_the_base(tmp_path: Path) -> None:
    x, _ = load_mnist(TINY, "train")
    net = load_model("convnet")  # the shipped model: it reads the tiny set's digits surely
    one = _crops(tmp_path)  # 60 digits, 40 dashes labelled "not a digit"
    # A second harvest whose "not a digit" crops are digits (another row's number).
    two = tmp_path / "digits-as-junk.npz"
    np.savez(two, images=x[100:140], labels=np.full(40, 10))
    real = RealData(pen_digits=None, crops=(one, two), rejects=0, max_not_digit_crops=30)
    result = teach_real("convnet", TINY, real, tmp_path / "out", epochs=1, seed=3)
    sources = json.loads(result.card_path.read_text())["training"]["sources"]
    vetoed = int(np.sum(net.predict_proba(x[100:140])[:, :10].max(axis=1) >= 0.2))
    assert vetoed >= 30  # the base reads most of those digits as digits
    left = 40 - vetoed
    # Of the 40 + left "not a digit" crops, 30 are kept, the same share of each file.
    assert sources["crops crops.npz"] + sources["crops digits-as-junk.npz"] == 60 + 30
    assert abs(sources["crops digits-as-junk.npz"] - round(30 * left / (40 + left))) <= 1
