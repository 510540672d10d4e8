"""The string scorer: which of a page's strings are its reading (digitscan.stringscore)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import digitscan
from digitscan import stringscore
from digitscan.errors import ModelError
from digitscan.stringscore import FEATURES, features, labels_from_boxes, labels_from_text
from digitscan.types import BBox, Digit

RESOURCES = Path(__file__).parent / "resources"
MODELS = Path(__file__).resolve().parent.parent / "models"


def _digit(box: tuple[int, int, int, int], label: int = 4, sure: float = 0.99) -> Digit:
    proba = np.full(10, (1 - sure) / 9, np.float32)
    proba[label] = sure
    return Digit(BBox(*box), label, proba, np.zeros((28, 28), np.uint8))


def test_a_crops_label_says_which_strings_belong_when_only_one_choice_gives_it() -> None:
    assert labels_from_text(["13", "1", "1"], "13") == [1, 0, 0]
    assert labels_from_text(["1934", "59", "1044"], "59") == [0, 1, 0]
    assert labels_from_text(["2", "120", "15"], "215") == [1, 0, 1]
    assert labels_from_text(["49", "49"], "49") is None  # either one: nothing to learn
    assert labels_from_text(["47", "117"], "48") is None
    assert labels_from_text([], "48") is None


def test_a_rendered_string_belongs_when_its_digits_are_written_ones() -> None:
    written = [BBox(100, 100, 30, 50), BBox(140, 100, 30, 50)]
    number = [_digit((102, 98, 28, 52)), _digit((141, 101, 30, 48))]
    half = [_digit((100, 100, 30, 50)), _digit((600, 300, 30, 50))]
    edge = [_digit((5, 0, 8, 400), label=1)]
    assert labels_from_boxes([number, half, edge], written) == [1, 1, 0]


def test_features_describe_each_string_against_the_page() -> None:
    number = [_digit((500 + 50 * i, 400, 40, 60)) for i in range(3)]
    cut = [_digit((0, 0, 30, 20), label=1, sure=0.6)]  # a short unsure 1 in the corner
    x = features([number, cut], (1280, 960))
    assert x.shape == (2, len(FEATURES)) and x.dtype == np.float32
    row = dict(zip(FEATURES, x[1], strict=True))
    assert row["digits"] == 1 and row["all_ones"] == 1 and row["border_gap"] == 0
    assert row["height_to_main"] == pytest.approx(20 / 60)
    assert row["confidence_mean"] == pytest.approx(0.6, abs=1e-6)
    assert dict(zip(FEATURES, x[0], strict=True))["is_tallest"] == 1


def _fixtures(folder: str) -> list[tuple[Path, str]]:
    with (RESOURCES / folder / "labels.csv").open() as f:
        return [(RESOURCES / folder / r["filename"], r["label"]) for r in csv.DictReader(f)]


def test_other_rows_numbers_and_headings_in_a_register_crop_are_not_read() -> None:
    # Real register crops (resources/other-rows, validation split) whose column crop also
    # holds a neighbouring row's number cut by its edge, a year heading or a stray 1: the
    # height rules read those too; the scorer keeps the row's own number.
    fixtures = _fixtures("other-rows")
    got = [digitscan.read(path).text.replace("\n", "") for path, _ in fixtures]
    assert got == [label for _, label in fixtures]


def test_most_register_numbers_read_exactly() -> None:
    # The 30 register validation crops of resources/registers, read whole: bounded accuracy,
    # not one string per crop pinned.
    fixtures = _fixtures("registers")
    right = sum(digitscan.read(p).text.replace("\n", "") == label for p, label in fixtures)
    assert right >= 0.8 * len(fixtures)


def test_a_damaged_or_wrong_scorer_is_a_model_error(tmp_path: Path) -> None:
    card = json.loads((MODELS / "strings.json").read_text())
    shutil.copy(MODELS / card["weights"], tmp_path / card["weights"])
    (tmp_path / "strings.json").write_text(json.dumps(card))
    assert stringscore.load_scorer.__wrapped__(tmp_path / "strings.json").card["sha256"]
    with (tmp_path / card["weights"]).open("ab") as f:
        f.write(b"\0")
    with pytest.raises(ModelError, match="sha256"):
        stringscore.load_scorer.__wrapped__(tmp_path / "strings.json")
    with pytest.raises(ModelError, match="not a string scorer"):
        stringscore.load_scorer.__wrapped__(MODELS / "mlp.json")


def test_the_trees_walked_with_numpy_score_as_scikit_learn_does() -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, len(FEATURES))).astype(np.float32)
    y = (x[:, 1] + 0.5 * x[:, 4] * x[:, 9] + 0.3 * rng.normal(size=600) > 0).astype(int)
    fitted = HistGradientBoostingClassifier(max_iter=30, max_leaf_nodes=7).fit(x, y)
    scorer = stringscore.StringScorer.from_sklearn(fitted)
    again = stringscore.StringScorer(scorer.to_arrays())
    proba = 1 / (1 + np.exp(-again.decision(x)))
    np.testing.assert_allclose(proba, fitted.predict_proba(x)[:, 1], atol=1e-9)


def test_the_scorer_is_no_digit_classifier() -> None:
    from digitscan.classifiers.store import load_model

    with pytest.raises(ModelError, match="not a digit classifier"):
        load_model(MODELS / "strings.json")
