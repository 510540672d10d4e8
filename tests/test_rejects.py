from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from digitscan import rejects
from digitscan.errors import ConfigError
from digitscan.normalize import MNIST_BOX_PX, centre_of_mass
from digitscan.rejects import DIGIT_KINDS, KINDS, find_fonts, render_rejects


@pytest.fixture(scope="module")
def digits(tiny_train) -> np.ndarray:
    return tiny_train[0]


@pytest.fixture(scope="module")
def faces() -> list:
    return rejects._faces(find_fonts())


def ink_box(image: np.ndarray) -> tuple[int, int]:
    rows = np.nonzero(image.any(axis=1))[0]
    cols = np.nonzero(image.any(axis=0))[0]
    return int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)


def test_shape_dtype_range_and_every_image_has_ink(digits) -> None:
    images = render_rejects(60, np.random.default_rng(0), digits=digits)
    assert images.shape == (60, 28, 28) and images.dtype == np.uint8
    peaks = images.max(axis=(1, 2))
    assert (peaks > 0).all()  # no image is all black
    assert (peaks == 255).mean() > 0.9  # full-strength ink, as the pipeline restores it
    assert render_rejects(0, np.random.default_rng(0)).shape == (0, 28, 28)


def test_same_seed_same_images(digits) -> None:
    a = render_rejects(30, np.random.default_rng(3), digits=digits)
    b = render_rejects(30, np.random.default_rng(3), digits=digits)
    c = render_rejects(30, np.random.default_rng(4), digits=digits)
    np.testing.assert_array_equal(a, b)
    assert (a != c).any()


@pytest.mark.parametrize("kind", [k for k, _ in KINDS])
def test_every_kind_renders_normalised_ink(kind, digits, faces) -> None:
    rng = np.random.default_rng(11)
    for _ in range(8):
        image, _ = rejects._render_kind(kind, rng, faces, digits)
        assert image.shape == (28, 28) and image.max() > 0
        # MNIST normalisation: longest side 20 px, centre of mass near the middle.
        assert max(ink_box(image)) in (MNIST_BOX_PX - 1, MNIST_BOX_PX)
        cy, cx = centre_of_mass(image)
        assert abs(cy - 14) < 2.5 and abs(cx - 14) < 2.5


def test_kinds_get_their_shares() -> None:
    sequence = rejects._kind_sequence(1000, np.random.default_rng(0), with_digits=True)
    counts = Counter(sequence)
    assert len(sequence) == 1000
    assert counts == {kind: round(share * 1000) for kind, share in KINDS}
    assert sum(share for _, share in KINDS) == pytest.approx(1.0)


def test_digit_kinds_skipped_without_digits(monkeypatch) -> None:
    def fail(*args: object) -> None:
        raise AssertionError("drew from digits that were not given")

    monkeypatch.setattr(rejects, "_digit_piece", fail)
    monkeypatch.setattr(rejects, "_digit_group", fail)
    sequence = rejects._kind_sequence(101, np.random.default_rng(0), with_digits=False)
    assert len(sequence) == 101 and not set(sequence) & DIGIT_KINDS
    images = render_rejects(40, np.random.default_rng(0))
    assert images.shape == (40, 28, 28) and (images.max(axis=(1, 2)) > 0).all()
    empty = np.zeros((0, 28, 28), np.uint8)
    assert render_rejects(20, np.random.default_rng(0), digits=empty).shape == (20, 28, 28)


def test_printed_kind_without_font_files_uses_hershey() -> None:
    faces = rejects._faces([])
    assert faces and all(f.face is None and f.hershey is not None for f in faces)
    rng = np.random.default_rng(5)
    for _ in range(10):
        image, _ = rejects._render_kind("printed", rng, faces, None)
        assert max(ink_box(image)) in (MNIST_BOX_PX - 1, MNIST_BOX_PX)
    images = render_rejects(20, np.random.default_rng(5), fonts=[])
    assert (images.max(axis=(1, 2)) > 0).all()


def test_no_digit_like_glyphs_are_printed() -> None:
    digit_like = set("0123456789OoQDCcUuIlijJ|!/\\()[]{}SsZzBbGgqaTy>^")
    assert not set(rejects.PRINTED_GLYPHS) & digit_like
    assert not set("".join(rejects.RUN_LETTERS)) & set("0123456789Iilj|!")


def test_find_fonts_sorted_and_filtered(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    for name in ("b/Serif.OTF", "a.ttf", "StandardSymbolsPS.otf", "notes.txt", "D050000L.otf"):
        (tmp_path / name).write_bytes(b"")
    assert find_fonts(tmp_path) == [tmp_path / "a.ttf", tmp_path / "b" / "Serif.OTF"]
    assert find_fonts(tmp_path / "missing") == []
    assert find_fonts() == find_fonts()  # the installed fonts, in a fixed order


def test_lone_bars_and_rings_are_not_rejects() -> None:
    bar = np.zeros((28, 28), np.uint8)
    bar[4:24, 12:16] = 255
    ring = np.zeros((28, 28), np.uint8)
    ring[4:24, 6:22] = 255
    ring[8:20, 10:18] = 0
    assert not rejects._not_digit_like(bar, "lines")
    assert not rejects._not_digit_like(ring, "texture")
    assert not rejects._not_digit_like(bar, "printed")  # narrow: a 1 whatever drew it


def test_bad_arguments() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ConfigError):
        render_rejects(-1, rng)
    with pytest.raises(ConfigError):
        render_rejects(4, rng, digits=np.zeros((3, 28, 28), np.float32))
    with pytest.raises(ConfigError):
        rejects._render_kind("nonsense", rng, rejects._faces([]), None)
