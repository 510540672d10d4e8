"""The library API behind the ``digitscan`` command.

- :func:`read` reads the digit strings in one image (a path or an array).
- :func:`get_model` loads a classifier once per process and reuses it.

Example:
    >>> import digitscan
    >>> reading = digitscan.read("samples/sticky-04.jpg")
    >>> reading.text  # doctest: +SKIP
    '346'
"""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from digitscan.classifiers.base import Classifier
from digitscan.config import ScanConfig
from digitscan.errors import InputError
from digitscan.io import check_image_array, load_image
from digitscan.pipeline import draw_overlay, make_page, read_page
from digitscan.types import Reading

log = logging.getLogger(__name__)

ModelLike = str | Path | Classifier


def get_model(model: ModelLike = "convnet") -> Classifier:
    """A fitted classifier: ``model`` itself if it is one, else loaded (once) by name or path."""
    if isinstance(model, str | Path):
        return _load_cached(str(model))
    return model


@functools.lru_cache(maxsize=8)
def _load_cached(name: str) -> Classifier:
    from digitscan.classifiers.store import load_model

    return load_model(name)


def read(
    source: str | Path | NDArray[Any],
    *,
    config: ScanConfig | None = None,
    model: ModelLike = "convnet",
    debug_dir: str | Path | None = None,
) -> Reading:
    """Read the handwritten digit strings in an image.

    Args:
        source: An image file, or an image array (BGR or grey uint8, as OpenCV gives).
        config: Pipeline settings (default ``ScanConfig()``).
        model: ``"convnet"``, ``"mlp"``, a model path, or a fitted classifier.
        debug_dir: If given, write ``<name>-overlay.png`` and the intermediate stages there.

    Returns:
        The :class:`Reading`; ``reading.text`` holds the strings, top to bottom.

    Raises:
        InputError: The file is missing or not a readable image.
        ConfigError: The array is not an image.
        ModelError: The model is missing or damaged.
    """
    start = time.perf_counter()
    config = config or ScanConfig()
    classifier = get_model(model)
    if isinstance(source, str | Path):
        path: Path | None = Path(source)
        image = load_image(path)
    else:
        path = None
        image = check_image_array(source, "source")
    page = make_page(image, config, source=path)
    stages: dict[str, NDArray[np.uint8]] | None = {} if debug_dir is not None else None
    reading = read_page(page, config, classifier, stages)
    reading = replace(reading, seconds=time.perf_counter() - start)
    if debug_dir is not None and stages is not None:
        write_debug(Path(debug_dir), path.stem if path else "image", image, reading, stages)
    return reading


def write_debug(
    folder: Path,
    stem: str,
    image: NDArray[np.uint8],
    reading: Reading,
    stages: dict[str, NDArray[np.uint8]],
) -> list[Path]:
    """Write the overlay and every intermediate stage image as PNGs; returns their paths.

    Raises:
        InputError: The folder cannot be created or written.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create debug folder ({exc.strerror})", path=folder) from None
    written = []
    outputs = {"overlay": draw_overlay(image, reading), **stages}
    for name, picture in outputs.items():
        target = folder / f"{stem}-{name}.png"
        if not cv2.imwrite(str(target), picture):
            raise InputError("cannot write debug image", path=target)
        written.append(target)
    return written
