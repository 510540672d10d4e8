from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from digitscan import ModelError, load_model
from digitscan.classifiers.convnet import ConvNetClassifier
from digitscan.classifiers.mlp import MLPDigitClassifier
from digitscan.classifiers.store import save_model

REQUIRED_CARD_FIELDS = {
    "format_version",
    "kind",
    "weights",
    "sha256",
    "created",
    "versions",
    "training",
    "data",
    "preprocessing",
    "classes",
    "metrics",
}


@pytest.fixture(scope="module")
def saved(tmp_path_factory, tiny_train) -> Path:
    folder = tmp_path_factory.mktemp("model")
    net = ConvNetClassifier(channels=(4, 8), kernels=(3, 3), hidden=16, epochs=1, augment=False)
    net.fit(*tiny_train)
    save_model(net, folder, "small", {"note": "test"})
    return folder


def test_round_trip_predicts_the_same(saved: Path, tiny_test) -> None:
    X, _ = tiny_test
    first = load_model(saved / "small.json")
    weights = next(saved.glob("small-*.npz"))
    by_weights = load_model(weights)
    by_folder = load_model(saved)
    np.testing.assert_array_equal(first.predict_proba(X), by_weights.predict_proba(X))
    np.testing.assert_array_equal(first.predict_proba(X), by_folder.predict_proba(X))
    assert first.card_["note"] == "test" and first.card_["kind"] == "convnet"
    assert weights.name == first.card_["weights"] and first.card_["sha256"][:8] in weights.name


def copy_of(saved: Path, tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "copy"
    shutil.copytree(saved, folder)
    return folder / "small.json", next(folder.glob("small-*.npz"))


def test_damaged_weights_fail_the_checksum(saved: Path, tmp_path: Path) -> None:
    card, weights = copy_of(saved, tmp_path)
    data = bytearray(weights.read_bytes())
    data[100] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="does not match the card") as info:
        load_model(card)
    assert weights.name in str(info.value)


def test_missing_weights(saved: Path, tmp_path: Path) -> None:
    card, weights = copy_of(saved, tmp_path)
    weights.unlink()
    with pytest.raises(ModelError, match="missing"):
        load_model(card)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda c: c.update(format_version=99), "newer than this digitscan"),
        (lambda c: c.pop("sha256"), "'sha256' missing"),
        (lambda c: c.update(kind="svm"), "unknown model kind"),
        (lambda c: c.update(weights="../elsewhere.npz"), "file name in the card's folder"),
    ],
)
def test_bad_cards(saved: Path, tmp_path: Path, edit, message: str) -> None:
    card, _ = copy_of(saved, tmp_path)
    content = json.loads(card.read_text())
    edit(content)
    card.write_text(json.dumps(content))
    with pytest.raises(ModelError, match=message):
        load_model(card)


def test_card_not_json(tmp_path: Path) -> None:
    (tmp_path / "m.json").write_text("{not json")
    with pytest.raises(ModelError, match="not valid JSON"):
        load_model(tmp_path / "m.json")


def test_unknown_name_or_path(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no such model"):
        load_model("svm")
    with pytest.raises(ModelError, match="no model card"):
        (tmp_path / "lonely.npz").write_bytes(b"x")
        load_model(tmp_path / "lonely.npz")


def test_env_folder_without_model_falls_through_to_shipped(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("DIGITSCAN_MODEL_DIR", str(tmp_path))
    assert load_model("convnet").card_["name"] == "convnet"


def test_env_folder_takes_precedence(monkeypatch, saved: Path, tmp_path: Path) -> None:
    card, _ = copy_of(saved, tmp_path)
    content = json.loads(card.read_text())
    content["name"] = "convnet"
    (card.parent / "convnet.json").write_text(json.dumps(content))
    monkeypatch.setenv("DIGITSCAN_MODEL_DIR", str(card.parent))
    assert load_model("convnet").card_["note"] == "test"


def test_mlp_round_trip(tmp_path: Path, tiny_train, tiny_test) -> None:
    mlp = MLPDigitClassifier(hidden_layer_sizes=(32,), epochs=2, augment=False).fit(*tiny_train)
    save_model(mlp, tmp_path, "tinymlp", {})
    loaded = load_model(tmp_path / "tinymlp.json")
    assert isinstance(loaded, MLPDigitClassifier)
    np.testing.assert_array_equal(loaded.predict(tiny_test[0]), mlp.predict(tiny_test[0]))


def test_joblib_file_holding_something_else(tmp_path: Path) -> None:
    import hashlib

    import joblib

    joblib.dump({"not": "a model"}, tmp_path / "x.joblib")
    digest = hashlib.sha256((tmp_path / "x.joblib").read_bytes()).hexdigest()
    (tmp_path / "x.json").write_text(
        json.dumps({"format_version": 1, "kind": "mlp", "weights": "x.joblib", "sha256": digest})
    )
    with pytest.raises(ModelError, match="not an MLP digit model"):
        load_model(tmp_path / "x.json")


@pytest.mark.parametrize("name", ["convnet", "mlp"])
def test_shipped_models(name: str, tiny_test) -> None:
    model = load_model(name)
    card = model.card_
    assert card.keys() >= REQUIRED_CARD_FIELDS
    X, y = tiny_test
    assert model.score(X, y) >= 0.97
    assert card["metrics"]["mnist_test"]["n"] == 10_000
    assert all(entry["official_mnist"] for entry in card["data"]["train"])


def test_shipped_model_files_are_small() -> None:
    folder = Path(__file__).resolve().parents[1] / "models"
    for card in folder.glob("*.json"):
        weights = folder / json.loads(card.read_text())["weights"]
        assert weights.stat().st_size < 5 * 1024 * 1024, weights


# Read as "not a digit" counts as wrong: the convnet's digits alone read 99.69%.
@pytest.mark.parametrize(("name", "minimum"), [("convnet", 0.994), ("mlp", 0.985)])
def test_shipped_accuracy_on_full_mnist(name: str, minimum: float, shared_mnist: Path) -> None:
    from digitscan import load_mnist

    X, y = load_mnist(shared_mnist, "test", require_official=True)
    model = load_model(name)
    accuracy = model.score(X, y)
    assert accuracy >= minimum
    assert accuracy == pytest.approx(model.card_["metrics"]["mnist_test"]["accuracy"], abs=1e-9)


def _members(training: dict) -> list[dict]:
    """The averaged networks' cards, down the chain of models taught on from one another."""
    while "members" not in training:
        training = training["base_card"]
    return training["members"]


def test_shipped_convnet_learnt_from_photo_crops(shared_mnist: Path) -> None:
    # The card says how many photos' crops each of its networks was trained with and how the
    # average did on crops of photos of the test digits; a fresh handful of such photos agrees.
    from digitscan import load_mnist
    from digitscan.photocrops import photo_crops

    model = load_model("convnet")
    card = model.card_
    # Trained on from an earlier release's two nets (each trained with photos' crops) ...
    members = _members(card["training"])
    assert len(members) == len(model.estimators_) == 2
    assert all(member["training"]["photos"]["photos"] >= 1000 for member in members)
    # ... with more photos' crops among its sources (made by tools/render_photo_crops.py;
    # the card names each file), held out in part and measured.
    photo_sources = [key for key in card["metrics"] if key.startswith("held_out crops photo")]
    assert photo_sources, "no photo crops among the card's held-out sources"
    measured = card["metrics"][photo_sources[0]]
    assert measured["n"] >= 1000 and measured["accuracy"] >= 0.98
    crops = photo_crops(*load_mnist(shared_mnist, "test"), 30, seed=12345, jobs=2)
    assert model.score(crops.images, crops.labels) >= measured["accuracy"] - 0.02


def test_averaged_convnets_round_trip_and_average_their_members(
    saved, tmp_path, tiny_train, tiny_test
) -> None:
    from digitscan.classifiers.ensemble import AveragedConvNets

    X, _ = tiny_test
    first = load_model(saved)
    second = ConvNetClassifier(
        channels=(4, 8), kernels=(3, 3), hidden=16, epochs=1, augment=False, random_state=7
    ).fit(*tiny_train)
    pair = AveragedConvNets.of_fitted([first, second])
    mean = (first.predict_proba(X) + second.predict_proba(X)) / 2
    np.testing.assert_allclose(pair.predict_proba(X), mean, rtol=1e-6)
    card = save_model(pair, tmp_path, "pair", {"note": "two"})
    loaded = load_model(card)
    assert loaded.card_["kind"] == "averaged-convnets" and len(loaded.estimators_) == 2
    np.testing.assert_array_equal(loaded.predict_proba(X), pair.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), mean.argmax(axis=1))


def test_a_damaged_averaged_convnets_file_is_a_model_error(tmp_path, saved) -> None:
    # Weights whose arrays are not numbered members (a single convnet's file under the
    # averaged kind) fail with a message, not a traceback.
    card_path, weights = copy_of(saved, tmp_path)
    card = json.loads(card_path.read_text())
    card["kind"] = "averaged-convnets"
    card_path.write_text(json.dumps(card))
    with pytest.raises(ModelError, match="not a digitscan averaged-convnets file"):
        load_model(card_path)


def test_shipped_convnet_is_two_networks_averaged(tiny_test) -> None:
    from digitscan.classifiers.ensemble import AveragedConvNets

    X, _ = tiny_test
    model = load_model("convnet")
    assert isinstance(model, AveragedConvNets) and len(model.estimators_) == 2
    mean = sum(net.predict_proba(X) for net in model.estimators_) / 2
    np.testing.assert_allclose(model.predict_proba(X), mean, rtol=1e-5)
    members = _members(model.card_["training"])
    seeds = [m["training"]["seed"] for m in members]
    assert len(set(seeds)) == 2  # trained alike with different seeds
