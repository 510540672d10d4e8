"""The light alternative: scikit-learn's ``MLPClassifier`` behind digitscan's interface.

It takes the same inputs as the convnet (MNIST-normalised 28x28 digits, uint8 or float, bright
ink) and is trained on the same kind of augmented data: every epoch is one ``partial_fit`` pass
over a freshly augmented copy of the training set, with the learning rate stepped down over the
last epochs. It is about 3x smaller and faster to train than the convnet, and less accurate.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from digitscan.classifiers.base import (
    N_PIXELS,
    DigitEstimator,
    EpochReport,
    TrainingData,
    check_images,
    classes_for,
)
from digitscan.errors import ConfigError


class MLPDigitClassifier(DigitEstimator):
    """A multi-layer perceptron (scikit-learn) for 28x28 digits.

    Args:
        hidden_layer_sizes: Units per hidden layer.
        alpha: L2 penalty.
        epochs: Passes over the (augmented) training data.
        batch_size: Images per gradient step.
        learning_rate: Initial Adam learning rate; divided by 10 for the last third of epochs.
        augment: Draw fresh photo augmentation every epoch.
        random_state: Seed of every random choice in ``fit``.

    Attributes:
        classes_: ``array([0, ..., 9])``, with 10 (not a digit) if trained on it.
        mlp_: The fitted ``sklearn.neural_network.MLPClassifier``.
        history_: One :class:`EpochReport` per epoch.
    """

    def __init__(
        self,
        *,
        hidden_layer_sizes: Sequence[int] = (512, 256),
        alpha: float = 1e-4,
        epochs: int = 40,
        batch_size: int = 128,
        learning_rate: float = 1e-3,
        augment: bool = True,
        random_state: int = 0,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.alpha = alpha
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.augment = augment
        self.random_state = random_state

    def fit(
        self,
        X: ArrayLike,  # noqa: N803 (scikit-learn's name)
        y: ArrayLike,
        *,
        eval_set: tuple[ArrayLike, ArrayLike] | None = None,
        on_epoch: Callable[[EpochReport], None] | None = None,
    ) -> MLPDigitClassifier:
        """Train from scratch (same arguments as :meth:`ConvNetClassifier.fit`)."""
        from sklearn.neural_network import MLPClassifier

        if self.epochs < 1:
            raise ConfigError(f"`epochs` must be at least 1, got {self.epochs}")
        data = TrainingData.check(X, y, eval_set)
        labels = data.labels
        rng = np.random.default_rng(self.random_state)
        mlp = MLPClassifier(
            hidden_layer_sizes=tuple(self.hidden_layer_sizes),
            alpha=self.alpha,
            batch_size=self.batch_size,
            learning_rate_init=self.learning_rate,
            random_state=int(rng.integers(2**31 - 1)),
            shuffle=True,
        )
        self.classes_ = classes_for(labels)
        self.history_: list[EpochReport] = []
        for epoch in range(self.epochs):
            start = time.perf_counter()
            epoch_images = data.for_epoch(rng, self.augment)
            x = epoch_images.reshape(len(epoch_images), N_PIXELS)
            lr = self._learning_rate(epoch)
            mlp.learning_rate_init = lr
            if hasattr(mlp, "_optimizer"):
                # partial_fit keeps its Adam state; its step size is read from here each step.
                mlp._optimizer.learning_rate_init = lr
            mlp.partial_fit(x, labels, classes=self.classes_)
            self.mlp_ = mlp
            val_accuracy = data.val_accuracy(self)
            report = EpochReport(
                epoch=epoch + 1,
                epochs=self.epochs,
                loss=float(mlp.loss_),
                train_accuracy=float("nan"),
                val_accuracy=val_accuracy,
                seconds=time.perf_counter() - start,
                learning_rate=lr,
            )
            self.history_.append(report)
            if on_epoch is not None:
                on_epoch(report)
        # Adam's two moment arrays per weight triple the saved file and serve only training.
        if hasattr(mlp, "_optimizer"):
            del mlp._optimizer
        return self

    def _learning_rate(self, epoch: int) -> float:
        """Step schedule: full rate, then /10 for the last third, /100 for the last tenth."""
        if epoch >= self.epochs - max(1, self.epochs // 10):
            return self.learning_rate / 100
        if epoch >= self.epochs - self.epochs // 3:
            return self.learning_rate / 10
        return self.learning_rate

    def predict_proba(self, X: ArrayLike) -> NDArray[np.float32]:  # noqa: N803
        """Class probabilities ``(N, len(classes_))``, float32 (same inputs as the convnet)."""
        self.check_fitted()
        images = check_images(X)
        if len(images) == 0:
            return np.zeros((0, len(self.classes_)), np.float32)
        return self.mlp_.predict_proba(images.reshape(len(images), N_PIXELS)).astype(np.float32)

    def predict(self, X: ArrayLike) -> NDArray[np.int64]:  # noqa: N803
        """Most probable label of each image."""
        proba = self.predict_proba(X)  # checks fitted-ness before classes_ is read
        return self.classes_[proba.argmax(axis=1)]

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "mlp_")
