"""Saving and loading classifiers: weights plus a JSON model card, checked on load.

A model is two files in one folder: ``<name>.json`` (the card: what data, preprocessing,
settings and seed made it, how accurate it is, and the sha256 of its weights) and the weights
``<name>-<sha8>.npz`` (a convnet, or averaged convnets, read with ``allow_pickle=False``) or
``<name>-<sha8>.joblib`` (scikit-learn MLP). Loading checks the card's format version, the
weights' sha256 and the scikit-learn version; a missing or damaged model is always a
:class:`ModelError`, never a fallback to untrained weights.

Where ``load_model("convnet")`` looks, first match wins: ``$DIGITSCAN_MODEL_DIR``, the copy
installed inside the package, then ``models/`` of a source checkout.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from digitscan.classifiers.base import Classifier
from digitscan.errors import ModelError

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
#: The models shipped with digitscan, by name, and the kind of weights each has ("convnet" is
#: three networks averaged; "strings" is :mod:`digitscan.stringscore`'s scorer, not a
#: classifier).
SHIPPED = {"convnet": "averaged-convnets", "mlp": "mlp", "strings": "string-scorer"}
KIND_SUFFIX = {
    "convnet": ".npz",
    "averaged-convnets": ".npz",
    "mlp": ".joblib",
    "string-scorer": ".npz",
}
ENV_MODEL_DIR = "DIGITSCAN_MODEL_DIR"
_FILE_MODE = 0o644


def model_dirs() -> list[Path]:
    """The folders searched for a model given by name, in order."""
    dirs = []
    if os.environ.get(ENV_MODEL_DIR):
        dirs.append(Path(os.environ[ENV_MODEL_DIR]))
    package = Path(__file__).resolve().parent.parent
    dirs.append(package / "_models")  # installed wheel (pyproject force-include)
    dirs.append(package.parent / "models")  # source checkout / editable install
    return dirs


def find_card(name_or_path: str | Path) -> Path:
    """Resolve a model name, card, weights file or folder to its card path.

    Args:
        name_or_path: ``"convnet"``, ``"mlp"``, a ``.json`` card, a ``.npz``/``.joblib`` weights
            file (its card is the ``.json`` beside it that names it), or a folder holding one
            card.

    Returns:
        The card's path.

    Raises:
        ModelError: Nothing matches.
    """
    text = str(name_or_path)
    if text in SHIPPED and not Path(text).exists():
        for folder in model_dirs():
            card = folder / f"{text}.json"
            if card.is_file():
                return card
        searched = ", ".join(str(d) for d in model_dirs())
        raise ModelError(
            f"no model card found (searched {searched}); run `digitscan train` or pass "
            "--model PATH",
            path=f"{text}.json",
        )
    path = Path(name_or_path)
    if not path.exists():
        raise ModelError("no such model file or folder (models by name: convnet, mlp)", path=path)
    if path.is_dir():
        cards = sorted(path.glob("*.json"))
        if len(cards) != 1:
            raise ModelError(f"folder holds {len(cards)} model cards; name one", path=path)
        return cards[0]
    if path.suffix == ".json":
        return path
    for card in sorted(path.parent.glob("*.json")):
        try:
            if json.loads(card.read_text()).get("weights") == path.name:
                return card
        except (OSError, ValueError, AttributeError):
            continue
    raise ModelError("no model card (.json) beside it names this weights file", path=path)


def load_model(name_or_path: str | Path = "convnet") -> Classifier:
    """Load a fitted classifier and check it against its card.

    Args:
        name_or_path: ``"convnet"`` (default), ``"mlp"``, or a path (see :func:`find_card`).

    Returns:
        The fitted classifier; its card is in ``model.card_``.

    Raises:
        ModelError: The card or weights are missing, unreadable, of another format version,
            or the weights' sha256 differs from the card's.

    Example:
        >>> model = load_model("mlp")
        >>> model.classes_.tolist()
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    """
    card_path = find_card(name_or_path)
    card = read_card(card_path)
    model = _load_weights(card["kind"], checked_weights(card_path, card))
    model.card_ = card
    return model


def checked_weights(card_path: Path, card: dict[str, Any]) -> Path:
    """The weights file a card names, after checking that its sha256 is the card's.

    Raises:
        ModelError: The file is missing, unreadable or not the one the card describes.
    """
    weights = card_path.parent / card["weights"]
    try:
        data = weights.read_bytes()
    except FileNotFoundError:
        raise ModelError("weights file named by the card is missing", path=weights) from None
    except OSError as exc:
        raise ModelError(f"cannot read weights ({exc.strerror})", path=weights) from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != card["sha256"]:
        raise ModelError(
            f"sha256 {digest[:12]}... does not match the card's {card['sha256'][:12]}...: "
            "the file is damaged or was replaced; reinstall digitscan or retrain",
            path=weights,
        )
    return weights


def read_card(card_path: Path) -> dict[str, Any]:
    """Read and check a model card.

    Raises:
        ModelError: Unreadable, not JSON, missing fields, or a newer format version.
    """
    try:
        card = json.loads(card_path.read_text())
    except FileNotFoundError:
        raise ModelError("model card not found", path=card_path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(f"cannot read model card ({exc})", path=card_path) from None
    except ValueError as exc:
        raise ModelError(f"model card is not valid JSON ({exc})", path=card_path) from None
    if not isinstance(card, dict):
        raise ModelError("model card must be a JSON object", path=card_path)
    for field, kind in (("format_version", int), ("kind", str), ("weights", str), ("sha256", str)):
        if not isinstance(card.get(field), kind):
            raise ModelError(
                f"model card field {field!r} missing or not {kind.__name__}", path=card_path
            )
    if card["format_version"] > FORMAT_VERSION:
        raise ModelError(
            f"card format {card['format_version']} is newer than this digitscan reads "
            f"({FORMAT_VERSION}); upgrade digitscan",
            path=card_path,
        )
    if card["kind"] not in KIND_SUFFIX:
        raise ModelError(f"unknown model kind {card['kind']!r}", path=card_path)
    if Path(card["weights"]).name != card["weights"]:
        raise ModelError(
            "card field 'weights' must be a file name in the card's folder", path=card_path
        )
    return card


def save_model(model: Any, folder: Path | str, name: str, card: dict[str, Any]) -> Path:
    """Write weights and card atomically; returns the card's path.

    Args:
        model: A fitted :class:`ConvNetClassifier`, :class:`AveragedConvNets`,
            :class:`MLPDigitClassifier`, or a :class:`digitscan.stringscore.StringScorer`.
        folder: Destination folder (created if needed).
        name: Model name: files become ``<name>.json`` and ``<name>-<sha8>.<npz|joblib>``.
        card: Card fields (data, training, metrics...); format, kind, weights, sha256,
            versions and date are filled in here.
    """
    from digitscan.classifiers.convnet import ConvNetClassifier
    from digitscan.classifiers.ensemble import AveragedConvNets
    from digitscan.classifiers.mlp import MLPDigitClassifier

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    kind = "mlp" if isinstance(model, MLPDigitClassifier) else getattr(model, "KIND", "")
    if isinstance(model, ConvNetClassifier):
        kind = "convnet"
    elif isinstance(model, AveragedConvNets):
        kind = "averaged-convnets"
    with tempfile.NamedTemporaryFile(dir=folder, suffix=KIND_SUFFIX[kind], delete=False) as tmp:
        tmp_path = Path(tmp.name)
    try:
        if KIND_SUFFIX[kind] == ".npz":
            with tmp_path.open("wb") as fh:
                np.savez_compressed(fh, **model.to_arrays())
        else:
            import joblib

            joblib.dump(model, tmp_path, compress=3)
        digest = hashlib.sha256(tmp_path.read_bytes()).hexdigest()
        weights = folder / f"{name}-{digest[:8]}{KIND_SUFFIX[kind]}"
        tmp_path.chmod(_FILE_MODE)  # temporary files are private (0600); models are shared
        tmp_path.replace(weights)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    full = {
        "format_version": FORMAT_VERSION,
        "name": name,
        "kind": kind,
        "weights": weights.name,
        "sha256": digest,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": _versions(kind),
        **card,
    }
    card_path = folder / f"{name}.json"
    _write_atomic(card_path, json.dumps(full, indent=2) + "\n")
    return card_path


def _load_weights(kind: str, weights: Path) -> Any:
    if kind not in ("convnet", "averaged-convnets", "mlp"):
        raise ModelError(f"holds a {kind}, not a digit classifier", path=weights)
    if kind != "mlp":
        from digitscan.classifiers.convnet import ConvNetClassifier
        from digitscan.classifiers.ensemble import AveragedConvNets
        from digitscan.errors import ConfigError

        try:
            with np.load(weights, allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
        except (OSError, ValueError) as exc:
            raise ModelError(f"not a readable .npz weights file ({exc})", path=weights) from None
        build = ConvNetClassifier if kind == "convnet" else AveragedConvNets
        try:
            return build.from_arrays(arrays)
        except ConfigError as exc:
            raise ModelError(exc.message, path=weights) from None
    # joblib runs code from the file (it is a pickle): only files the user named or we ship.
    import joblib
    from sklearn.exceptions import InconsistentVersionWarning

    from digitscan.classifiers.mlp import MLPDigitClassifier

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", InconsistentVersionWarning)
        try:
            model = joblib.load(weights)
        except Exception as exc:  # noqa: BLE001 (unpickling raises anything)
            raise ModelError(
                f"not a readable .joblib model ({type(exc).__name__}: {exc})", path=weights
            ) from None
    for warning in caught:
        if isinstance(warning.message, InconsistentVersionWarning):
            log.warning(
                "%s: saved with scikit-learn %s, running %s; retrain with `digitscan train "
                "--model mlp` if predictions look wrong",
                weights,
                warning.message.original_sklearn_version,
                warning.message.current_sklearn_version,
            )
    if not isinstance(model, MLPDigitClassifier):
        raise ModelError(f"holds a {type(model).__name__}, not an MLP digit model", path=weights)
    return model


def _versions(kind: str) -> dict[str, str]:
    from importlib.metadata import version

    names = ["digitscan", "numpy"] + (["scikit-learn"] if KIND_SUFFIX[kind] == ".joblib" else [])
    out = {}
    for package in names:
        try:
            out[package] = version(package)
        except Exception:  # noqa: BLE001 (a source tree has no metadata)
            out[package] = "unknown"
    return out


def _write_atomic(path: Path, text: str) -> None:
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as tmp:
        tmp.write(text)
    Path(tmp.name).chmod(_FILE_MODE)
    Path(tmp.name).replace(path)
