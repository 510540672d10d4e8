"""MNIST-format data: read and write IDX files, load a data set folder, download with checksums.

IDX layout (LeCun's format): a big-endian 4-byte magic ``0x0000TTDD`` (TT = type code, 0x08 for
uint8; DD = number of dimensions), one big-endian uint32 per dimension, then the raw data in C
order. Files may be gzip-compressed; a ``.gz`` suffix or the gzip magic bytes say so.

Images come back as uint8 ``(N, 28, 28)`` arrays in MNIST's convention (0 = background,
255 = ink) and labels as uint8 ``(N,)`` arrays.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from digitscan.errors import ConfigError, DataError, read_bytes

log = logging.getLogger(__name__)

Split = Literal["train", "test"]

IDX_UINT8 = 0x08
_GZIP_MAGIC = b"\x1f\x8b"

#: File names of the official MNIST distribution, by split and kind.
FILE_NAMES: dict[tuple[Split, str], str] = {
    ("train", "images"): "train-images-idx3-ubyte",
    ("train", "labels"): "train-labels-idx1-ubyte",
    ("test", "images"): "t10k-images-idx3-ubyte",
    ("test", "labels"): "t10k-labels-idx1-ubyte",
}

#: md5 of the official files: compressed (as distributed) and uncompressed.
OFFICIAL_MD5: dict[str, str] = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}

#: Byte sizes of the official files: a file of that size under an official name must match.
OFFICIAL_SIZE: dict[str, int] = {
    "train-images-idx3-ubyte.gz": 9_912_422,
    "train-labels-idx1-ubyte.gz": 28_881,
    "t10k-images-idx3-ubyte.gz": 1_648_877,
    "t10k-labels-idx1-ubyte.gz": 4_542,
    "train-images-idx3-ubyte": 47_040_016,
    "train-labels-idx1-ubyte": 60_008,
    "t10k-images-idx3-ubyte": 7_840_016,
    "t10k-labels-idx1-ubyte": 10_008,
}

#: Mirrors for :func:`download_mnist`, tried in order; every file is checked against OFFICIAL_MD5.
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)


@dataclass(frozen=True, slots=True)
class DataFile:
    """Where one IDX file of a data set came from.

    Attributes:
        path: The file read.
        md5: md5 of the file's bytes as stored (compressed if it is gzip).
        official: True when the file is one of the official MNIST files, checked by md5.
    """

    path: Path
    md5: str
    official: bool


def read_idx(path: Path | str) -> NDArray[np.uint8]:
    """Read one IDX file of unsigned bytes (gzip or raw).

    Args:
        path: The file.

    Returns:
        A uint8 array with the shape the header gives.

    Raises:
        DataError: The file is missing, truncated, not IDX, or not of uint8 data.
    """
    path = Path(path)
    raw = _read_bytes(path)
    return _parse_idx(raw, path)


def write_idx(path: Path | str, array: NDArray[np.uint8]) -> None:
    """Write a uint8 array as an IDX file, gzip-compressed when the name ends in ``.gz``.

    Args:
        path: Where to write.
        array: A uint8 array of 1 to 255 dimensions.

    Raises:
        ConfigError: The array is not uint8 or has no dimensions.
    """
    array = np.asarray(array)
    if array.ndim == 0 or array.ndim > 255:
        raise ConfigError(f"`array` must have 1 to 255 dimensions, got {array.ndim}")
    if array.dtype != np.uint8:
        raise ConfigError(f"`array` must be uint8, got {array.dtype}")
    header = bytes([0, 0, IDX_UINT8, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    data = header + np.ascontiguousarray(array).tobytes()
    path = Path(path)
    if path.suffix == ".gz":
        # mtime=0 keeps the bytes (and so the checksum) the same for the same data.
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)


def find_idx(folder: Path | str, split: Split, kind: str) -> Path:
    """Find the IDX file of one split and kind in a folder, compressed or not.

    Args:
        folder: The data folder.
        split: ``"train"`` or ``"test"``.
        kind: ``"images"`` or ``"labels"``.

    Returns:
        The path of the file (``NAME.gz`` is preferred over ``NAME``).

    Raises:
        DataError: Neither file exists.
    """
    folder = Path(folder)
    name = FILE_NAMES[(split, kind)]
    for candidate in (folder / f"{name}.gz", folder / name):
        if candidate.is_file():
            return candidate
    if not folder.is_dir():
        raise DataError("not a folder", path=folder)
    raise DataError(f"no {name}.gz or {name} here (the MNIST {split} {kind})", path=folder)


def load_mnist(
    folder: Path | str, split: Split = "train", *, require_official: bool = False
) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
    """Load the images and labels of one split from a folder of IDX files.

    Files under an official MNIST name whose size is the official size are checked against the
    official md5; any mismatch is an error. Other files (a subset, another data set in MNIST
    format) are read as they are unless ``require_official`` is set.

    Args:
        folder: A folder holding the four MNIST files (gzip or raw).
        split: ``"train"`` or ``"test"``.
        require_official: Raise unless both files are the official MNIST files.

    Returns:
        ``(images, labels)``: uint8 ``(N, 28, 28)`` with 255 = ink, and uint8 ``(N,)`` in 0-9.

    Raises:
        DataError: A file is missing, truncated, corrupt, of the wrong kind, or the two files
            disagree on the number of items.

    Example:
        >>> images, labels = load_mnist("tests/resources/mnist-tiny", "test")
        >>> images.shape[1:], images.dtype.name
        ((28, 28), 'uint8')
    """
    images, labels, _ = load_mnist_with_sources(folder, split, require_official=require_official)
    return images, labels


def load_mnist_with_sources(
    folder: Path | str, split: Split = "train", *, require_official: bool = False
) -> tuple[NDArray[np.uint8], NDArray[np.uint8], tuple[DataFile, DataFile]]:
    """Same as :func:`load_mnist`, also returning where each file came from (for model cards)."""
    if split not in ("train", "test"):
        raise ConfigError(f"`split` must be 'train' or 'test', got {split!r}")
    image_path = find_idx(folder, split, "images")
    label_path = find_idx(folder, split, "labels")
    image_raw, image_src = _read_checked(image_path, require_official)
    label_raw, label_src = _read_checked(label_path, require_official)
    images = _parse_idx(image_raw, image_path)
    labels = _parse_idx(label_raw, label_path)
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DataError(
            f"expected images of shape (N, 28, 28), got {images.shape}", path=image_path
        )
    if labels.ndim != 1:
        raise DataError(f"expected a 1-D label array, got shape {labels.shape}", path=label_path)
    if len(images) != len(labels):
        raise DataError(
            f"{len(labels)} labels for {len(images)} images in {image_path.name}", path=label_path
        )
    if labels.size and labels.max() > 9:
        raise DataError(f"labels must be digits 0-9, found {int(labels.max())}", path=label_path)
    log.debug("loaded %d %s digits from %s", len(images), split, folder)
    return images, labels, (image_src, label_src)


def download_mnist(folder: Path | str, *, mirrors: tuple[str, ...] = MIRRORS) -> list[Path]:
    """Download the four official MNIST files into a folder, verifying each md5.

    Files already present with the right checksum are kept. A file is written under a temporary
    name and moved into place only once its checksum matches.

    Args:
        folder: Where to put the files (created if needed).
        mirrors: Base URLs to try in order.

    Returns:
        The paths of the four files.

    Raises:
        DataError: No mirror gave a file with the right checksum.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in FILE_NAMES.values():
        gz_name = f"{name}.gz"
        target = folder / gz_name
        if target.is_file() and _md5(target.read_bytes()) == OFFICIAL_MD5[gz_name]:
            paths.append(target)
            continue
        reasons = []
        for base in mirrors:
            try:
                with urllib.request.urlopen(base + gz_name, timeout=60) as response:  # noqa: S310
                    data = response.read()
            except OSError as exc:
                reasons.append(f"{base}: {exc}")
                continue
            if _md5(data) != OFFICIAL_MD5[gz_name]:
                reasons.append(f"{base}: checksum mismatch")
                continue
            partial = target.with_suffix(".gz.part")
            partial.write_bytes(data)
            partial.replace(target)
            break
        else:
            raise DataError("download failed; tried " + "; ".join(reasons), path=target)
        paths.append(target)
    return paths


def _read_bytes(path: Path) -> bytes:
    return read_bytes(path, DataError)


def _read_checked(path: Path, require_official: bool) -> tuple[bytes, DataFile]:
    raw = _read_bytes(path)
    digest = _md5(raw)
    name = path.name
    expected = OFFICIAL_MD5.get(name)
    official = expected is not None and digest == expected
    if expected is not None and not official and len(raw) == OFFICIAL_SIZE[name]:
        raise DataError(
            f"checksum mismatch: md5 {digest}, the official file has {expected}; "
            "the file is corrupt: download it again",
            path=path,
        )
    if require_official and not official:
        raise DataError("not an official MNIST file (checksum does not match)", path=path)
    return raw, DataFile(path=path, md5=digest, official=official)


def _parse_idx(raw: bytes, path: Path) -> NDArray[np.uint8]:
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise DataError(f"corrupt or truncated gzip data ({exc})", path=path) from None
    if len(raw) < 4:
        raise DataError(f"too short for an IDX header ({len(raw)} bytes)", path=path)
    if raw[0] != 0 or raw[1] != 0:
        raise DataError("not an IDX file (bad magic number)", path=path)
    if raw[2] != IDX_UINT8:
        raise DataError(f"IDX data type 0x{raw[2]:02x} is not unsigned bytes (0x08)", path=path)
    ndim = raw[3]
    header_len = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header_len:
        raise DataError("truncated IDX header", path=path)
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    expected = int(np.prod(shape, dtype=np.int64))
    got = len(raw) - header_len
    if got != expected:
        what = "truncated" if got < expected else "has trailing bytes"
        raise DataError(
            f"{what}: header says {shape} = {expected} bytes of data, file has {got}", path=path
        )
    return np.frombuffer(raw, np.uint8, offset=header_len).reshape(shape).copy()


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()
