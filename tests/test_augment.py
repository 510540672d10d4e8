from __future__ import annotations

import numpy as np

from digitscan.augment import AugmentConfig, add_bars, add_flags, augment_batch


def test_batch_shape_dtype_and_input_untouched(tiny_train) -> None:
    images, labels = tiny_train
    before = images.copy()
    out = augment_batch(images, labels, np.random.default_rng(0), AugmentConfig())
    assert out.shape == images.shape and out.dtype == np.uint8
    np.testing.assert_array_equal(images, before)
    assert (out != images).any(axis=(1, 2)).mean() > 0.8  # most digits changed


def test_same_seed_same_batch(tiny_train) -> None:
    images, labels = tiny_train
    a = augment_batch(images, labels, np.random.default_rng(7), AugmentConfig())
    b = augment_batch(images, labels, np.random.default_rng(7), AugmentConfig())
    c = augment_batch(images, labels, np.random.default_rng(8), AugmentConfig())
    np.testing.assert_array_equal(a, b)
    assert (a != c).any()


def test_flags_add_ink_up_left_of_a_one(tiny_train) -> None:
    images, labels = tiny_train
    ones = images[labels == 1]
    flagged = add_flags(ones, np.random.default_rng(0))
    # A flag widens the digit to the left of its top: the upper-left quadrant gains ink.
    gain = flagged[:, :14, :14].astype(int).sum(axis=(1, 2)) - ones[:, :14, :14].sum(axis=(1, 2))
    assert (gain > 0).mean() > 0.8


def test_bars_add_ink_in_the_middle_rows_of_a_seven(tiny_train) -> None:
    images, labels = tiny_train
    sevens = images[labels == 7]
    crossed = add_bars(sevens, np.random.default_rng(0))
    width = lambda batch: (batch[:, 12:18] > 128).sum(axis=2).max(axis=1)  # noqa: E731
    assert (width(crossed) > width(sevens)).mean() > 0.8
