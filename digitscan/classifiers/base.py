"""What every digitscan classifier shares: input checks and the scikit-learn estimator protocol.

Input convention (MNIST's): images ``(N, 28, 28)`` or flattened ``(N, 784)``, bright ink on a
dark background, either uint8 0-255 or float 0-1. :func:`check_images` turns any of those into
float32 ``(N, 28, 28)`` in [0, 1] and rejects everything else with a :class:`ConfigError` naming
the parameter.

:class:`DigitEstimator` gives ``get_params``/``set_params``/``score`` and scikit-learn's tags
without importing scikit-learn when digitscan starts (that import alone takes about 0.7 s), so
``clone``, ``cross_val_score`` and pipelines work while ``digitscan read`` stays quick.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from digitscan.errors import ConfigError, NotFittedError

IMAGE_SHAPE = (28, 28)
N_PIXELS = IMAGE_SHAPE[0] * IMAGE_SHAPE[1]
#: The digits. A classifier trained with "not a digit" examples also has :data:`NOT_DIGIT`.
CLASSES = np.arange(10)
#: The label of everything that is not one whole digit: printed letters, pieces of digits,
#: lines, texture, specks. The reader drops what is read as this.
NOT_DIGIT = 10
#: The label of two or more whole digits in one piece (touching digits, a number joined by
#: its underline), apart from :data:`NOT_DIGIT` in a classifier trained with it: such a piece
#: is not one digit, yet the reader must not skip it as junk, but cut it.
SEVERAL_DIGITS = 11


def classes_for(labels: NDArray[np.int64]) -> NDArray[np.int64]:
    """A classifier's ``classes_`` for its training labels.

    The digits, then every label up to the largest seen (:data:`NOT_DIGIT`,
    :data:`SEVERAL_DIGITS`).
    """
    top = int(labels.max()) if labels.size else 0
    return np.arange(top + 1) if top >= NOT_DIGIT else CLASSES.copy()


def digit_proba(proba: NDArray[np.float32]) -> NDArray[np.float32]:
    """The digits' columns 0-9 of class probabilities ``(N, 10 or more)``."""
    return proba[:, : len(CLASSES)]


def digitness(proba: NDArray[np.float32]) -> NDArray[np.float32]:
    """How surely each row is one digit ``(N,)``.

    That is 1 - p(not one digit) for a classifier with that class; for one without, the most
    probable digit's probability (all it can say).
    """
    if proba.shape[1] > NOT_DIGIT:
        return 1 - not_digit_proba(proba)
    return proba.max(axis=1)


def not_digit_proba(proba: NDArray[np.float32]) -> NDArray[np.float32]:
    """The probability of "not one digit" ``(N,)``.

    Junk or several digits together; zeros for a classifier without those classes.
    """
    if proba.shape[1] > NOT_DIGIT:
        return proba[:, NOT_DIGIT:].sum(axis=1)
    return np.zeros(len(proba), np.float32)


def junk_proba(proba: NDArray[np.float32]) -> NDArray[np.float32]:
    """The probability of "no digit at all" ``(N,)``: what it costs to skip a piece.

    For a classifier with :data:`SEVERAL_DIGITS`, a piece read as several digits is not junk;
    for one without, the same as :func:`not_digit_proba`.
    """
    if proba.shape[1] > NOT_DIGIT:
        return proba[:, NOT_DIGIT]
    return np.zeros(len(proba), np.float32)


@runtime_checkable
class Classifier(Protocol):
    """The interface the reading pipeline relies on (scikit-learn's classifier protocol)."""

    classes_: NDArray[np.int64]

    def fit(self, X: ArrayLike, y: ArrayLike) -> Classifier:  # noqa: N803 (sklearn's name)
        """Train on images ``X`` and labels ``y``."""
        ...

    def predict(self, X: ArrayLike) -> NDArray[np.int64]:  # noqa: N803
        """Labels of images ``X``."""
        ...

    def predict_proba(self, X: ArrayLike) -> NDArray[np.float32]:  # noqa: N803
        """Class probabilities ``(N, len(classes_))`` of images ``X``."""
        ...


def check_images(X: ArrayLike, name: str = "X") -> NDArray[np.float32]:  # noqa: N803
    """Validate digit images and convert them to float32 ``(N, 28, 28)`` in [0, 1].

    Args:
        X: ``(N, 28, 28)`` or ``(N, 784)``; uint8 0-255, or float 0-1; bright ink.
        name: The parameter name used in error messages.

    Returns:
        float32 ``(N, 28, 28)`` in [0, 1] (a new array; the input is never modified).

    Raises:
        ConfigError: Wrong number of dimensions, wrong shape, dtype, or value range.
    """
    X = np.asarray(X)  # noqa: N806 (scikit-learn naming)
    if X.ndim not in (2, 3):
        raise ConfigError(
            f"`{name}` must be (N, 28, 28) or (N, 784) images, got {X.ndim} dimensions "
            f"(shape {X.shape}); for one image use X[None]"
        )
    if X.ndim == 2 and X.shape[1] != N_PIXELS:
        raise ConfigError(f"`{name}` must have 784 columns (28x28 pixels), got shape {X.shape}")
    if X.ndim == 3 and X.shape[1:] != IMAGE_SHAPE:
        raise ConfigError(f"`{name}` images must be 28x28, got shape {X.shape}")
    if X.dtype == np.uint8:
        return (X.reshape(-1, *IMAGE_SHAPE).astype(np.float32) / np.float32(255)).reshape(
            -1, *IMAGE_SHAPE
        )
    if X.dtype.kind not in "fiub":
        raise ConfigError(f"`{name}` must be uint8 or float, got dtype {X.dtype}")
    out = X.astype(np.float32).reshape(-1, *IMAGE_SHAPE)
    if out.size and not np.isfinite(out).all():
        raise ConfigError(f"`{name}` contains NaN or infinity")
    if out.size and (out.min() < 0 or out.max() > 1):
        raise ConfigError(
            f"`{name}` values must be in [0, 1] for a float array (uint8 for 0-255), "
            f"got [{out.min():g}, {out.max():g}]"
        )
    return out


def check_labels(y: ArrayLike, n: int, name: str = "y") -> NDArray[np.int64]:
    """Validate labels: ``(n,)`` integers, digits 0-9, :data:`NOT_DIGIT` or :data:`SEVERAL_DIGITS`.

    Raises:
        ConfigError: Wrong shape or values outside 0-11.
    """
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != n:
        raise ConfigError(f"`{name}` must be a 1-D array of {n} labels, got shape {y.shape}")
    if y.dtype.kind not in "iu" and not (y.dtype.kind == "f" and np.all(y == np.round(y))):
        raise ConfigError(f"`{name}` must hold integer digit labels, got dtype {y.dtype}")
    labels = y.astype(np.int64)
    if labels.size and (labels.min() < 0 or labels.max() > SEVERAL_DIGITS):
        raise ConfigError(
            f"`{name}` labels must be digits 0-9, {NOT_DIGIT} (not a digit) or "
            f"{SEVERAL_DIGITS} (several digits), got {labels.min()}..{labels.max()}"
        )
    return labels


@dataclass(frozen=True, slots=True)
class EpochReport:
    """What one training epoch measured (passed to ``fit``'s ``on_epoch`` callback)."""

    epoch: int
    epochs: int
    loss: float
    train_accuracy: float
    val_accuracy: float | None
    seconds: float
    learning_rate: float


@dataclass(frozen=True, slots=True)
class TrainingData:
    """Checked training inputs, shared by every classifier's ``fit``.

    Attributes:
        images: float32 ``(N, 28, 28)`` in [0, 1].
        labels: int64 ``(N,)``.
        images_u8: The same images as uint8 (what augmentation works on).
        val: ``(images, labels)`` to measure after each epoch, or None.
    """

    images: NDArray[np.float32]
    labels: NDArray[np.int64]
    images_u8: NDArray[np.uint8]
    val: tuple[NDArray[np.float32], NDArray[np.int64]] | None

    @classmethod
    def check(
        cls,
        X: ArrayLike,  # noqa: N803
        y: ArrayLike,
        eval_set: tuple[ArrayLike, ArrayLike] | None,
    ) -> TrainingData:
        """Validate ``fit``'s arguments.

        Raises:
            ConfigError: Bad shapes, dtypes or labels, or no images.
        """
        images = check_images(X)
        labels = check_labels(y, len(images))
        if len(images) == 0:
            raise ConfigError("`X` has no images to train on")
        val = None
        if eval_set is not None:
            val_images = check_images(eval_set[0], "eval_set[0]")
            val = (val_images, check_labels(eval_set[1], len(val_images), "eval_set[1]"))
        return cls(images, labels, np.round(images * 255).astype(np.uint8), val)

    def for_epoch(self, rng: np.random.Generator, augment: bool) -> NDArray[np.float32]:
        """This epoch's images: freshly augmented (see :mod:`digitscan.augment`) or as given."""
        if not augment:
            return self.images
        from digitscan.augment import AugmentConfig, augment_batch

        batch = augment_batch(self.images_u8, self.labels, rng, AugmentConfig())
        return batch.astype(np.float32) / np.float32(255)

    def val_accuracy(self, model: Classifier) -> float | None:
        """Accuracy on the validation set, if there is one."""
        if self.val is None:
            return None
        return float(np.mean(model.predict(self.val[0]) == self.val[1]))


class DigitEstimator:
    """scikit-learn's estimator protocol for digitscan classifiers.

    Subclasses list their hyper-parameters as ``__init__`` keyword arguments stored under the
    same names (scikit-learn's rule) and set fitted attributes, ending in ``_``, only in ``fit``.
    """

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The hyper-parameters, as scikit-learn's ``BaseEstimator.get_params`` returns them."""
        del deep  # no nested estimators
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> DigitEstimator:
        """Set hyper-parameters by name.

        Raises:
            ConfigError: A name that is not a hyper-parameter.
        """
        valid = self._param_names()
        for name, value in params.items():
            if name not in valid:
                raise ConfigError(
                    f"{type(self).__name__} has no parameter {name!r}; valid: {sorted(valid)}"
                )
            setattr(self, name, value)
        return self

    def score(self, X: ArrayLike, y: ArrayLike) -> float:  # noqa: N803
        """Mean accuracy on images ``X`` with labels ``y``."""
        images = check_images(X)
        return float(np.mean(self.predict(images) == check_labels(y, len(images))))

    def check_fitted(self) -> None:
        """Raise :class:`NotFittedError` unless ``fit`` has run (or weights were loaded)."""
        if not hasattr(self, "classes_"):
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet: call fit() or use load_model()"
            )

    def __sklearn_tags__(self) -> Any:
        # Imported here: scikit-learn is needed only by code that already uses scikit-learn.
        from sklearn.base import BaseEstimator, ClassifierMixin

        class _Tags(ClassifierMixin, BaseEstimator):
            pass

        tags = _Tags().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.non_deterministic = False
        return tags

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "classes_")

    def __repr__(self) -> str:
        defaults = {
            name: p.default for name, p in inspect.signature(type(self).__init__).parameters.items()
        }
        changed = [
            f"{k}={v!r}" for k, v in self.get_params().items() if not _same(v, defaults.get(k))
        ]
        return f"{type(self).__name__}({', '.join(changed)})"

    @classmethod
    def _param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        kinds = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        return [n for n, p in signature.parameters.items() if n != "self" and p.kind in kinds]


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return a is b
