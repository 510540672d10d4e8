"""Several convnets read together: their class probabilities averaged.

Networks trained alike with different seeds make different mistakes on the digits a person
would also hesitate over (a 7 with a short bar, a 4 left open at the top); averaging their
probabilities corrects some of each one's mistakes. Measured on the pipeline's crops of
14,654 digits from rendered photos of MNIST's test digits: 129 errors for either of the
first two shipped networks alone, 122 for the two together; the third alone 114, the three
together (shipped now) 115.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from digitscan.classifiers.base import DigitEstimator
from digitscan.classifiers.convnet import ConvNetClassifier
from digitscan.errors import ConfigError


class AveragedConvNets(DigitEstimator):
    """Convnets whose class probabilities are averaged (scikit-learn's soft voting).

    Args:
        estimators: The member networks (fitted, or fitted by :meth:`fit`).

    Attributes:
        classes_: The members' classes: ``array([0, ..., 9])``, with 10 (not a digit) if
            trained on it.
        estimators_: The fitted members.

    Example:
        >>> from digitscan import load_mnist
        >>> X, y = load_mnist("tests/resources/mnist-tiny", "train")
        >>> nets = [ConvNetClassifier(channels=(8,), kernels=(3,), hidden=16, epochs=1,
        ...                           augment=False, random_state=s) for s in (1, 2)]
        >>> AveragedConvNets(nets).fit(X, y).predict_proba(X[:3]).shape
        (3, 10)
    """

    def __init__(self, estimators: Sequence[ConvNetClassifier] = ()) -> None:
        self.estimators = estimators

    def fit(self, X: ArrayLike, y: ArrayLike) -> AveragedConvNets:  # noqa: N803
        """Fit every member on the same data (each with its own ``random_state``)."""
        self._check_members()
        self.estimators_ = [net.fit(X, y) for net in self.estimators]
        self.classes_ = self.estimators_[0].classes_.copy()
        return self

    def predict_proba(self, X: ArrayLike) -> NDArray[np.float32]:  # noqa: N803
        """The members' class probabilities ``(N, len(classes_))``, averaged."""
        self.check_fitted()
        X = np.asarray(X)  # noqa: N806 (each member checks and converts it)
        proba = sum(net.predict_proba(X) for net in self.estimators_)
        return np.asarray(proba / len(self.estimators_), np.float32)

    def predict(self, X: ArrayLike) -> NDArray[np.int64]:  # noqa: N803
        """Most probable label of each image."""
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    @classmethod
    def of_fitted(cls, nets: Sequence[ConvNetClassifier]) -> AveragedConvNets:
        """Average networks that are already fitted (no training)."""
        model = cls(list(nets))
        model._check_members()
        for net in nets:
            net.check_fitted()
        if len({len(net.classes_) for net in nets}) > 1:
            raise ConfigError("the networks to average must have the same classes")
        model.estimators_ = list(nets)
        model.classes_ = nets[0].classes_.copy()
        return model

    def to_arrays(self) -> dict[str, NDArray[Any]]:
        """Every member's arrays (:meth:`ConvNetClassifier.to_arrays`) under ``<i>/``."""
        self.check_fitted()
        return {
            f"{i}/{key}": value
            for i, net in enumerate(self.estimators_)
            for key, value in net.to_arrays().items()
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, NDArray[Any]]) -> AveragedConvNets:
        """Rebuild from :meth:`to_arrays` output.

        Raises:
            ConfigError: No members, or a member's arrays do not make a network.
        """
        members: dict[int, dict[str, NDArray[Any]]] = {}
        for key, value in arrays.items():
            index, _, rest = key.partition("/")
            if not index.isdigit() or not rest:
                raise ConfigError(f"not a digitscan averaged-convnets file (array {key!r})")
            members.setdefault(int(index), {})[rest] = value
        if not members or sorted(members) != list(range(len(members))):
            raise ConfigError("not a digitscan averaged-convnets file (members 0, 1, ...)")
        return cls.of_fitted([ConvNetClassifier.from_arrays(members[i]) for i in sorted(members)])

    def _check_members(self) -> None:
        if not self.estimators or not all(
            isinstance(net, ConvNetClassifier) for net in self.estimators
        ):
            raise ConfigError("`estimators` must be one or more ConvNetClassifier")
