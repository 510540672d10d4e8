"""digitscan: read handwritten digits from phone photos and scans.

The public API:

- :func:`read` reads the handwritten digit strings in a photo or scan (a path or an array)
  and returns a :class:`~digitscan.types.Reading` (``.text``, ``.lines``).
- :func:`read_many` reads many files in parallel (local processes or a Dask cluster) and
  yields a :class:`~digitscan.types.FileResult` per file as each finishes; :func:`run_batch`
  does what ``digitscan batch`` does: a folder into a resumable CSV/JSONL results table.
- :func:`load_model` returns a fitted classifier (``"convnet"``, ``"mlp"`` or a path) with
  scikit-learn's ``predict``/``predict_proba``/``classes_``.
- :func:`load_mnist` reads MNIST-format IDX files from a folder.
- :class:`DigitscanError` is the base of every error the library raises.

Example:
    >>> import digitscan
    >>> digitscan.read("samples/sticky-04.jpg").text  # doctest: +SKIP
    '60517'
    >>> model = digitscan.load_model("convnet")
    >>> images, labels = digitscan.load_mnist("tests/resources/mnist-tiny", "test")
    >>> (model.predict(images) == labels).mean() > 0.9
    True
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from digitscan.api import read
from digitscan.batch import read_many, run_batch
from digitscan.classifiers.store import load_model
from digitscan.config import ScanConfig
from digitscan.errors import (
    ConfigError,
    DataError,
    DigitscanError,
    ExitCode,
    InputError,
    ModelError,
    NotFittedError,
)
from digitscan.mnist import load_mnist
from digitscan.types import BBox, Digit, FileResult, Line, Reading

try:
    __version__ = version("digitscan")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "BBox",
    "Digit",
    "FileResult",
    "Line",
    "Reading",
    "ScanConfig",
    "ConfigError",
    "DataError",
    "DigitscanError",
    "ExitCode",
    "InputError",
    "ModelError",
    "NotFittedError",
    "__version__",
    "load_mnist",
    "load_model",
    "read",
    "read_many",
    "run_batch",
]
