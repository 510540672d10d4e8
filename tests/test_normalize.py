from __future__ import annotations

import numpy as np
import pytest

from digitscan.errors import ConfigError
from digitscan.normalize import centre_of_mass, to_mnist


def random_blob(seed: int) -> np.ndarray:
    """A random stroke-like crop of random size and aspect, ink bright."""
    import cv2

    rng = np.random.default_rng(seed)
    h, w = rng.integers(8, 300, 2)
    crop = np.zeros((h, w), np.uint8)
    points = np.column_stack([rng.integers(0, w, 5), rng.integers(0, h, 5)]).astype(np.int32)
    cv2.polylines(crop, [points], False, 255, int(rng.integers(1, max(2, min(h, w) // 6))))
    return crop


@pytest.mark.parametrize("seed", range(25))
def test_mnist_properties(seed: int) -> None:
    crop = random_blob(seed)
    before = crop.copy()
    digit = to_mnist(crop)
    np.testing.assert_array_equal(crop, before)  # input untouched
    assert digit.shape == (28, 28) and digit.dtype == np.uint8
    rows = np.nonzero(digit.any(axis=1))[0]
    cols = np.nonzero(digit.any(axis=0))[0]
    longest = max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1)
    assert 19 <= longest <= 20
    cy, cx = centre_of_mass(digit)
    clipped = rows[0] == 0 or cols[0] == 0 or rows[-1] == 27 or cols[-1] == 27
    if not clipped:
        assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5
    np.testing.assert_array_equal(to_mnist(digit), digit)  # stable: normalising twice is a no-op


def test_exact_small_case() -> None:
    bar = np.zeros((7, 7), np.uint8)
    bar[1:6, 3] = 255  # a 1 px wide, 5 px tall "1"
    digit = to_mnist(bar)
    rows = np.nonzero(digit.any(axis=1))[0]
    assert rows[0] == 4 and rows[-1] == 23  # 20 rows centred on 14
    assert centre_of_mass(digit) == pytest.approx((14.0, 14.0), abs=0.5)


def test_blank_crop_gives_zeros() -> None:
    assert not to_mnist(np.zeros((10, 30), np.uint8)).any()


@pytest.mark.parametrize(
    ("crop", "message"),
    [(np.zeros((4, 4, 3), np.uint8), "2-D"), (np.zeros((4, 4), np.float32), "uint8")],
)
def test_rejects_bad_input(crop: np.ndarray, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        to_mnist(crop)


def test_mnist_digits_are_already_normalised(tiny_test) -> None:
    images, _ = tiny_test
    # MNIST was made with this recipe: re-normalising moves most digits by at most a pixel.
    same_box = [
        abs(int(to_mnist(im).astype(bool).sum()) - int(im.astype(bool).sum())) <= 12
        for im in images
    ]
    assert np.mean(same_box) > 0.8
