"""Real handwriting loaders and the harvest of labelled crops (digitscan.realdata)."""

from __future__ import annotations

import csv
import tarfile
from functools import partial
from pathlib import Path

import numpy as np
import pytest

import digitscan
from digitscan.config import ScanConfig
from digitscan.errors import DataError
from digitscan.pipeline import score_image
from digitscan.realdata import (
    NOT_DIGIT,
    SEVERAL_DIGITS,
    harvest_registers,
    is_bar,
    register_crops,
)

REGISTERS = Path(__file__).parent / "resources" / "registers"


def test_a_bar_at_any_slant_is_not_a_not_a_digit_example() -> None:
    upright = np.zeros((28, 28), np.uint8)
    upright[4:24, 13:16] = 255
    slanted = np.zeros((28, 28), np.uint8)
    for y in range(4, 24):
        slanted[y, 8 + y // 2 : 11 + y // 2] = 255
    corner = np.zeros((28, 28), np.uint8)
    corner[4:24, 4:7] = 255
    corner[21:24, 4:24] = 255
    assert is_bar(upright) and is_bar(slanted)
    assert not is_bar(corner)
    assert not is_bar(np.zeros((28, 28), np.uint8))


def _tar_of_fixtures(tmp_path: Path) -> Path:
    tar_path = tmp_path / "validation.tar"
    with tarfile.open(tar_path, "w") as tar:
        for path in sorted(REGISTERS.iterdir()):
            tar.add(path, arcname=f"validation/{path.name}")
    return tar_path


def test_register_crops_reads_a_split_in_place(tmp_path: Path) -> None:
    tar_path = _tar_of_fixtures(tmp_path)
    crops = list(register_crops(tar_path))
    with (REGISTERS / "labels.csv").open() as f:
        labels = {row["filename"]: row["label"] for row in csv.DictReader(f)}
    assert len(crops) == len(labels) == 30
    for name, image, label in crops:
        assert labels[name] == label and label.isdigit()
        assert image.ndim == 3 and image.shape[0] >= 100
    assert [c[0] for c in register_crops(tar_path, limit=5)] == [c[0] for c in crops[::6]]


def test_register_crops_names_a_missing_split(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="missing.tar"):
        list(register_crops(tmp_path / "missing.tar"))


def test_harvest_labels_real_crops_from_the_truth(tmp_path: Path) -> None:
    """Scanned register numbers (fixtures: 30 validation crops) lined up by the shipped model."""
    config = ScanConfig()
    model = digitscan.api.get_model("convnet")
    score = partial(score_image, config=config, model=model)
    harvest = harvest_registers(_tar_of_fixtures(tmp_path), score)
    assert harvest.images_read == 30
    assert 20 <= harvest.aligned <= 30
    assert harvest.images.shape == (len(harvest.labels), 28, 28)
    digits = harvest.labels < NOT_DIGIT
    with (REGISTERS / "labels.csv").open() as f:
        written = "".join(row["label"] for row in csv.DictReader(f))
    assert 2 * len(written) // 3 <= digits.sum() <= len(written)
    # Labelled from the truth: mostly what the model reads, but not only (its misreads).
    read = model.predict(harvest.images[digits])
    agree = float(np.mean(read == harvest.labels[digits]))
    assert 0.8 <= agree < 1.0
    assert not any(is_bar(img) for img in harvest.images[~digits])
    # Groups holding two label digits or more are "several digits", apart from junk.
    several = harvest.labels == SEVERAL_DIGITS
    assert several.any()
    fewer = harvest_registers(_tar_of_fixtures(tmp_path), score, negatives_per_crop=0)
    assert (fewer.labels == SEVERAL_DIGITS).sum() == 0
    assert (fewer.labels == NOT_DIGIT).sum() == (harvest.labels == NOT_DIGIT).sum()
    assert (fewer.labels < NOT_DIGIT).sum() == digits.sum()
