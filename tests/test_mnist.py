from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest

from digitscan import DataError, load_mnist
from digitscan.errors import ConfigError
from digitscan.mnist import load_mnist_with_sources, read_idx, write_idx


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_round_trip(tmp_path: Path, suffix: str) -> None:
    array = np.random.default_rng(0).integers(0, 256, (5, 28, 28), dtype=np.uint8)
    path = tmp_path / f"images{suffix}"
    write_idx(path, array)
    np.testing.assert_array_equal(read_idx(path), array)


def test_idx_header_is_big_endian(tmp_path: Path) -> None:
    write_idx(tmp_path / "labels", np.array([3, 1, 4], np.uint8))
    raw = (tmp_path / "labels").read_bytes()
    assert raw == bytes([0, 0, 8, 1, 0, 0, 0, 3, 3, 1, 4])


def test_gzip_detected_by_content_not_name(tmp_path: Path) -> None:
    write_idx(tmp_path / "a.gz", np.arange(4, dtype=np.uint8))
    shutil.copy(tmp_path / "a.gz", tmp_path / "renamed")
    np.testing.assert_array_equal(read_idx(tmp_path / "renamed"), np.arange(4))


def test_write_rejects_non_uint8(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="uint8"):
        write_idx(tmp_path / "x", np.zeros(3, np.float32))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "too short"),
        (b"\x00\x00\x08", "too short"),
        (b"\x01\x02\x08\x01\x00\x00\x00\x01\x00", "bad magic"),
        (b"\x00\x00\x0d\x01\x00\x00\x00\x01\x00\x00\x00\x00", "not unsigned bytes"),
        (b"\x00\x00\x08\x03\x00\x00\x00\x02", "truncated IDX header"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x05\x01\x02", "truncated: header says"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x01\x01\x02", "trailing bytes"),
        (b"\x1f\x8b\x08\x00garbage", "corrupt or truncated gzip"),
    ],
)
def test_bad_idx_files_name_the_file_and_reason(tmp_path: Path, content: bytes, message: str):
    path = tmp_path / "bad-idx"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message) as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_truncated_gzip(tmp_path: Path) -> None:
    write_idx(tmp_path / "full.gz", np.zeros((100, 28, 28), np.uint8) + 7)
    data = (tmp_path / "full.gz").read_bytes()
    (tmp_path / "cut.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="gzip"):
        read_idx(tmp_path / "cut.gz")


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        read_idx(tmp_path / "nothing")
    with pytest.raises(DataError, match="not a folder"):
        load_mnist(tmp_path / "nowhere")
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte"):
        load_mnist(tmp_path, "test")


def test_load_tiny_fixture(tiny_dir: Path) -> None:
    images, labels = load_mnist(tiny_dir, "test")
    assert images.shape == (200, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (200,) and set(np.unique(labels)) == set(range(10))
    # MNIST convention: dark background, bright ink.
    assert images[:, 0, 0].max() == 0 and images.max() == 255
    _, _, sources = load_mnist_with_sources(tiny_dir, "test")
    assert not any(s.official for s in sources)


def test_tiny_fixture_is_not_official(tiny_dir: Path) -> None:
    with pytest.raises(DataError, match="not an official MNIST file"):
        load_mnist(tiny_dir, "test", require_official=True)


def test_count_mismatch(tmp_path: Path) -> None:
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((3, 28, 28), np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(4, np.uint8))
    with pytest.raises(DataError, match="4 labels for 3 images"):
        load_mnist(tmp_path, "test")


def test_images_and_labels_swapped(tmp_path: Path) -> None:
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros(4, np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros((4, 28, 28), np.uint8))
    with pytest.raises(DataError, match=r"shape \(N, 28, 28\)"):
        load_mnist(tmp_path, "test")


def test_labels_out_of_range(tmp_path: Path) -> None:
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((2, 28, 28), np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.array([1, 12], np.uint8))
    with pytest.raises(DataError, match="found 12"):
        load_mnist(tmp_path, "test")


def test_official_size_with_wrong_content_is_a_checksum_error(tmp_path: Path) -> None:
    # Same name and byte size as the official test labels, one label changed: corrupt.
    labels = np.zeros(10_000, np.uint8)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", labels)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((10_000, 28, 28), np.uint8))
    with pytest.raises(DataError, match="checksum mismatch"):
        load_mnist(tmp_path, "test")


def test_official_files_verify(shared_mnist: Path) -> None:
    images, labels, sources = load_mnist_with_sources(shared_mnist, "test", require_official=True)
    assert images.shape == (10_000, 28, 28) and labels.shape == (10_000,)
    assert all(s.official for s in sources)
    assert np.bincount(labels).tolist()[:2] == [980, 1135]  # published class counts


def test_uncompressed_official_files_verify(shared_mnist: Path, tmp_path: Path) -> None:
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        with gzip.open(shared_mnist / f"{name}.gz") as src:
            (tmp_path / name).write_bytes(src.read())
    _, _, sources = load_mnist_with_sources(tmp_path, "test", require_official=True)
    assert all(s.official for s in sources)


def test_bad_split_name(tiny_dir: Path) -> None:
    with pytest.raises(ConfigError, match="split"):
        load_mnist(tiny_dir, "validation")  # type: ignore[arg-type]


def test_download_verifies_checksums(shared_mnist: Path, tmp_path: Path) -> None:
    from digitscan.mnist import download_mnist

    good, bad = tmp_path / "good", tmp_path / "bad"
    good.mkdir()
    bad.mkdir()
    for gz in shared_mnist.glob("*.gz"):
        shutil.copy(gz, good / gz.name)
        (bad / gz.name).write_bytes(gz.read_bytes()[:-10])  # a damaged mirror
    # A file:// mirror stands in for the network: the same code path, no internet needed.
    with pytest.raises(DataError, match="checksum mismatch"):
        download_mnist(tmp_path / "out1", mirrors=(f"file://{bad}/",))
    assert not list((tmp_path / "out1").glob("*.gz"))  # nothing half-written is left
    paths = download_mnist(tmp_path / "out2", mirrors=(f"file://{bad}/", f"file://{good}/"))
    assert len(paths) == 4
    images, labels = load_mnist(tmp_path / "out2", "test", require_official=True)
    assert images.shape == (10_000, 28, 28)
