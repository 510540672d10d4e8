"""digitscan's own convolutional network, in NumPy, with scikit-learn's estimator interface.

Architecture (defaults): for each of ``channels``: 'same' convolution (``kernels``) -> batch
norm -> ReLU -> 2x2 max pool; then a dense layer of ``hidden`` units with ReLU and dropout,
then one logit per class and softmax: the ten digits, and "not a digit" (:data:`NOT_DIGIT`)
when the training labels hold it. Trained with softmax cross-entropy, AdamW (decoupled weight
decay), one warm-up epoch and a cosine learning-rate decay, and (by default) the photo
augmentation of :mod:`digitscan.augment` drawn anew every epoch. Everything random comes from one
``numpy.random.Generator`` seeded by ``random_state``, so the same seed, data and machine give
the same weights.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from digitscan.classifiers import layers
from digitscan.classifiers.base import (
    CLASSES,
    IMAGE_SHAPE,
    NOT_DIGIT,
    SEVERAL_DIGITS,
    DigitEstimator,
    EpochReport,
    TrainingData,
    check_images,
    classes_for,
)
from digitscan.errors import ConfigError

Params = dict[str, NDArray[np.floating[Any]]]

#: Images per matrix product at prediction time: large enough for BLAS, small enough for cache.
PREDICT_BATCH = 64
_BN_MOMENTUM = 0.1
_ADAM_BETAS = (0.9, 0.999)
_ADAM_EPS = 1e-8


class ConvNetClassifier(DigitEstimator):
    """A small convolutional network for 28x28 digits.

    Args:
        channels: Output channels of each convolution block.
        kernels: Kernel size of each convolution block (odd).
        hidden: Units in the dense layer.
        dropout: Dropout rate after the dense layer.
        epochs: Passes over the training data.
        batch_size: Images per gradient step.
        learning_rate: Peak AdamW learning rate.
        weight_decay: Decoupled weight decay of the convolution and dense weights.
        augment: Draw fresh photo augmentation (:mod:`digitscan.augment`) every epoch.
        random_state: Seed of every random choice in ``fit``.
        warm_start: Start ``fit`` from the fitted weights instead of new ones (scikit-learn's
            meaning); a net fitted on the digits alone grows a "not a digit" output when the
            new labels hold it, the other weights kept.

    Attributes:
        classes_: The labels, ``array([0, ..., 9])``, with 10 (not a digit) if trained on it.
        params_: Weights by name (``conv0.w``, ``bn0.gamma``, ..., ``fc1.b``).
        buffers_: Batch-norm running means and variances.
        history_: One :class:`EpochReport` per epoch of the last ``fit``.

    Example:
        >>> from digitscan import load_mnist
        >>> X, y = load_mnist("tests/resources/mnist-tiny", "train")
        >>> net = ConvNetClassifier(channels=(8, 16), kernels=(3, 3), hidden=32, epochs=2,
        ...                         augment=False).fit(X, y)
        >>> net.predict_proba(X[:3]).shape
        (3, 10)
    """

    def __init__(
        self,
        *,
        channels: Sequence[int] = (16, 32, 96),
        kernels: Sequence[int] = (3, 3, 3),
        hidden: int = 128,
        dropout: float = 0.3,
        epochs: int = 20,
        batch_size: int = 128,
        learning_rate: float = 3e-3,
        weight_decay: float = 0.01,
        augment: bool = True,
        random_state: int = 0,
        warm_start: bool = False,
    ) -> None:
        self.channels = channels
        self.kernels = kernels
        self.hidden = hidden
        self.dropout = dropout
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.augment = augment
        self.random_state = random_state
        self.warm_start = warm_start

    # ------------------------------------------------------------------ training

    def fit(
        self,
        X: ArrayLike,  # noqa: N803 (scikit-learn's name)
        y: ArrayLike,
        *,
        eval_set: tuple[ArrayLike, ArrayLike] | None = None,
        on_epoch: Callable[[EpochReport], None] | None = None,
    ) -> ConvNetClassifier:
        """Train from scratch (or, with ``warm_start``, on from the fitted weights).

        Args:
            X: Images ``(N, 28, 28)`` or ``(N, 784)``, uint8 or float in [0, 1], bright ink.
            y: Labels 0-9.
            eval_set: Optional ``(X_val, y_val)`` measured after every epoch.
            on_epoch: Called with an :class:`EpochReport` after every epoch (progress bars).

        Returns:
            self, fitted.

        Raises:
            ConfigError: Bad shapes, dtypes, labels or hyper-parameters.
        """
        self._check_hyperparameters()
        data = TrainingData.check(X, y, eval_set)
        images, labels = data.images, data.labels
        rng = np.random.default_rng(self.random_state)
        classes = classes_for(labels)
        if self.warm_start and self.__sklearn_is_fitted__():
            # A fitted net keeps its classes (taught on data without "several digits", it
            # still has that output) and grows those its new labels add.
            classes = np.arange(max(len(classes), len(self.classes_)))
            self._grow_outputs(len(classes), rng)
        else:
            self.params_, self.buffers_ = self._init_params(rng, np.float32, len(classes))
        self.classes_ = classes
        self.history_: list[EpochReport] = []
        optimizer = _AdamW(self.params_, self.weight_decay)
        steps_per_epoch = math.ceil(len(images) / self.batch_size)
        total_steps = self.epochs * steps_per_epoch
        step = 0
        for epoch in range(self.epochs):
            start = time.perf_counter()
            epoch_x = data.for_epoch(rng, self.augment)
            order = rng.permutation(len(images))
            loss_sum, correct = 0.0, 0
            for first in range(0, len(order), self.batch_size):
                idx = order[first : first + self.batch_size]
                lr = _learning_rate(step, total_steps, steps_per_epoch, self.learning_rate)
                loss, grads, logits = self._loss_and_grads(epoch_x[idx], labels[idx], rng)
                optimizer.step(self.params_, grads, lr)
                loss_sum += loss * len(idx)
                correct += int((logits.argmax(axis=1) == labels[idx]).sum())
                step += 1
            val_accuracy = data.val_accuracy(self)
            report = EpochReport(
                epoch=epoch + 1,
                epochs=self.epochs,
                loss=loss_sum / len(images),
                train_accuracy=correct / len(images),
                val_accuracy=val_accuracy,
                seconds=time.perf_counter() - start,
                learning_rate=lr,
            )
            self.history_.append(report)
            if on_epoch is not None:
                on_epoch(report)
        return self

    def _check_hyperparameters(self) -> None:
        if len(self.channels) != len(self.kernels) or not self.channels:
            raise ConfigError("`channels` and `kernels` must be non-empty and of equal length")
        if any(k % 2 == 0 or k < 1 for k in self.kernels):
            raise ConfigError(f"`kernels` must be odd sizes, got {tuple(self.kernels)}")
        if not 0 <= self.dropout < 1:
            raise ConfigError(f"`dropout` must be in [0, 1), got {self.dropout}")
        if self.epochs < 1 or self.batch_size < 1 or self.hidden < 1:
            raise ConfigError("`epochs`, `batch_size` and `hidden` must be at least 1")

    def _grow_outputs(self, n_out: int, rng: np.random.Generator) -> None:
        """Add output units (new classes) to a fitted net, small random weights, zero bias."""
        w, b = self.params_["fc1.w"], self.params_["fc1.b"]
        if n_out < w.shape[1]:
            raise ConfigError(
                f"warm start: the labels hold {n_out} classes, the fitted net {w.shape[1]}"
            )
        extra = n_out - w.shape[1]
        new_w = rng.normal(0, 0.1 * float(w.std()), (w.shape[0], extra)).astype(w.dtype)
        self.params_ = {
            **self.params_,
            "fc1.w": np.concatenate([w, new_w], axis=1),
            "fc1.b": np.concatenate([b, np.zeros(extra, b.dtype)]),
        }

    def _init_params(
        self, rng: np.random.Generator, dtype: type, n_out: int = len(CLASSES)
    ) -> tuple[Params, Params]:
        """He-initialised weights, unit batch-norm scales, zero biases; ``n_out`` classes."""
        params: Params = {}
        buffers: Params = {}
        in_channels = 1
        size = IMAGE_SHAPE[0]
        for i, (out_channels, k) in enumerate(zip(self.channels, self.kernels, strict=True)):
            fan_in = k * k * in_channels
            params[f"conv{i}.w"] = rng.normal(
                0, math.sqrt(2 / fan_in), (fan_in, out_channels)
            ).astype(dtype)
            params[f"bn{i}.gamma"] = np.ones(out_channels, dtype)
            params[f"bn{i}.beta"] = np.zeros(out_channels, dtype)
            buffers[f"bn{i}.mean"] = np.zeros(out_channels, dtype)
            buffers[f"bn{i}.var"] = np.ones(out_channels, dtype)
            in_channels = out_channels
            size = (size + 1) // 2
        flat = size * size * in_channels
        params["fc0.w"] = rng.normal(0, math.sqrt(2 / flat), (flat, self.hidden)).astype(dtype)
        params["fc0.b"] = np.zeros(self.hidden, dtype)
        params["fc1.w"] = rng.normal(0, math.sqrt(1 / self.hidden), (self.hidden, n_out)).astype(
            dtype
        )
        params["fc1.b"] = np.zeros(n_out, dtype)
        return params, buffers

    def _loss_and_grads(
        self,
        x: NDArray[np.floating[Any]],
        labels: NDArray[np.int64],
        rng: np.random.Generator,
        params: Params | None = None,
        update_buffers: bool = True,
    ) -> tuple[float, Params, NDArray[np.floating[Any]]]:
        """One training-mode forward and backward pass: ``(loss, grads, logits)``."""
        params = self.params_ if params is None else params
        h = x[..., None]
        blocks = []
        for i, k in enumerate(self.kernels):
            z, cols = layers.conv_forward(h, params[f"conv{i}.w"], k)
            bn_out, bn_cache = layers.batchnorm_forward(
                z, params[f"bn{i}.gamma"], params[f"bn{i}.beta"]
            )
            if update_buffers:
                _, _, mean, var = bn_cache
                for name, value in ((f"bn{i}.mean", mean), (f"bn{i}.var", var)):
                    self.buffers_[name] = (
                        (1 - _BN_MOMENTUM) * self.buffers_[name] + _BN_MOMENTUM * value
                    ).astype(self.buffers_[name].dtype)
            a = layers.relu_forward(bn_out)
            pooled, mask = layers.maxpool_forward(a)
            blocks.append((h.shape, cols, bn_cache, a, mask))
            h = pooled
        flat = h.reshape(len(x), -1)
        z0 = flat @ params["fc0.w"] + params["fc0.b"]
        a0 = layers.relu_forward(z0)
        keep = None
        if self.dropout > 0:
            keep = (rng.random(a0.shape) >= self.dropout).astype(a0.dtype) / (1 - self.dropout)
            a0 = a0 * keep
        logits = a0 @ params["fc1.w"] + params["fc1.b"]
        loss, dlogits = layers.cross_entropy(logits, labels)

        grads: Params = {}
        grads["fc1.w"] = a0.T @ dlogits
        grads["fc1.b"] = dlogits.sum(axis=0)
        da0 = dlogits @ params["fc1.w"].T
        if keep is not None:
            da0 = da0 * keep
        dz0 = da0 * (z0 > 0)
        grads["fc0.w"] = flat.T @ dz0
        grads["fc0.b"] = dz0.sum(axis=0)
        dh = (dz0 @ params["fc0.w"].T).reshape(h.shape)
        for i in reversed(range(len(self.kernels))):
            in_shape, cols, bn_cache, a, mask = blocks[i]
            da = layers.maxpool_backward(dh, mask, a.shape)
            dbn = layers.relu_backward(da, a)
            dz, grads[f"bn{i}.gamma"], grads[f"bn{i}.beta"] = layers.batchnorm_backward(
                dbn, bn_cache, params[f"bn{i}.gamma"]
            )
            dx, grads[f"conv{i}.w"] = layers.conv_backward(
                dz, cols, params[f"conv{i}.w"], self.kernels[i], need_dx=i > 0
            )
            if dx is not None:
                dh = dx
        return loss, grads, logits

    # ------------------------------------------------------------------ inference

    def predict_proba(self, X: ArrayLike) -> NDArray[np.float32]:  # noqa: N803
        """Class probabilities.

        Args:
            X: Images ``(N, 28, 28)`` or ``(N, 784)``, uint8 or float in [0, 1], bright ink.

        Returns:
            float32 ``(N, len(classes_))``, rows summing to 1, columns in the order of
            ``classes_`` (the digits, then "not a digit" if the net has that class).

        Raises:
            ConfigError: Bad shape or dtype. NotFittedError: not trained or loaded.
        """
        self.check_fitted()
        images = check_images(X)
        folded = self._folded_params()
        out = np.empty((len(images), len(self.classes_)), np.float32)
        for first in range(0, len(images), PREDICT_BATCH):
            chunk = images[first : first + PREDICT_BATCH]
            out[first : first + len(chunk)] = layers.softmax(self._logits(chunk, folded))
        return out

    def predict(self, X: ArrayLike) -> NDArray[np.int64]:  # noqa: N803
        """Most probable label of each image (see :meth:`predict_proba`)."""
        proba = self.predict_proba(X)  # checks fitted-ness before classes_ is read
        return self.classes_[proba.argmax(axis=1)]

    def _folded_params(self) -> list[tuple[NDArray[np.float32], NDArray[np.float32]]]:
        """Batch norm folded into each convolution: ``(weight, bias)`` per block."""
        folded = []
        for i in range(len(self.kernels)):
            scale = self.params_[f"bn{i}.gamma"] / np.sqrt(
                self.buffers_[f"bn{i}.var"] + layers.BN_EPS
            )
            shift = self.params_[f"bn{i}.beta"] - self.buffers_[f"bn{i}.mean"] * scale
            folded.append(
                ((self.params_[f"conv{i}.w"] * scale).astype(np.float32), shift.astype(np.float32))
            )
        return folded

    def _logits(
        self, x: NDArray[np.float32], folded: list[tuple[NDArray[np.float32], NDArray[np.float32]]]
    ) -> NDArray[np.float32]:
        h = x[..., None]
        for (weight, bias), k in zip(folded, self.kernels, strict=True):
            z, _ = layers.conv_forward(h, weight, k)
            h = layers.maxpool_infer(z)
            h += bias
            np.maximum(h, 0, out=h)
        flat = h.reshape(len(x), -1)
        a0 = np.maximum(flat @ self.params_["fc0.w"] + self.params_["fc0.b"], 0)
        return a0 @ self.params_["fc1.w"] + self.params_["fc1.b"]

    # ------------------------------------------------------------------ persistence

    def to_arrays(self) -> dict[str, NDArray[Any]]:
        """Everything needed to rebuild the fitted network, as plain arrays (for ``.npz``)."""
        self.check_fitted()
        arrays: dict[str, NDArray[Any]] = {"hyperparameters": np.array(json.dumps(self._spec()))}
        arrays.update({f"param/{k}": v for k, v in self.params_.items()})
        arrays.update({f"buffer/{k}": v for k, v in self.buffers_.items()})
        return arrays

    @classmethod
    def from_arrays(cls, arrays: dict[str, NDArray[Any]]) -> ConvNetClassifier:
        """Rebuild a fitted network from :meth:`to_arrays` output.

        Raises:
            ConfigError: Arrays missing or of the wrong shape for the stored architecture.
        """
        try:
            spec = json.loads(str(arrays["hyperparameters"]))
            net = cls(**spec)
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"not a digitscan convnet weight file ({exc})") from None
        stored = arrays.get("param/fc1.w")
        n_out = stored.shape[-1] if stored is not None else len(CLASSES)
        if n_out not in (len(CLASSES), NOT_DIGIT + 1, SEVERAL_DIGITS + 1):
            raise ConfigError(f"weight fc1.w: {n_out} outputs, expected 10, 11 or 12")
        expected_params, expected_buffers = net._init_params(
            np.random.default_rng(0), np.float32, n_out
        )
        net.params_, net.buffers_ = {}, {}
        for prefix, expected, target in (
            ("param/", expected_params, net.params_),
            ("buffer/", expected_buffers, net.buffers_),
        ):
            for name, like in expected.items():
                value = arrays.get(prefix + name)
                if value is None or value.shape != like.shape:
                    got = "missing" if value is None else f"shape {value.shape}"
                    raise ConfigError(f"weight {name}: expected shape {like.shape}, {got}")
                target[name] = value.astype(np.float32)
        net.classes_ = np.arange(n_out)
        net.history_ = []
        return net

    def _spec(self) -> dict[str, Any]:
        spec = self.get_params()
        del spec["warm_start"]  # how the net was trained, not what it is
        spec["channels"] = list(spec["channels"])
        spec["kernels"] = list(spec["kernels"])
        return spec


class _AdamW:
    """Adam with decoupled weight decay (Loshchilov & Hutter) on the ``.w`` weights."""

    def __init__(self, params: Params, weight_decay: float) -> None:
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}
        self.t = 0
        self.weight_decay = weight_decay

    def step(self, params: Params, grads: Params, lr: float) -> None:
        self.t += 1
        beta1, beta2 = _ADAM_BETAS
        correction = math.sqrt(1 - beta2**self.t) / (1 - beta1**self.t)
        for name, grad in grads.items():
            m, v = self.m[name], self.v[name]
            m *= beta1
            m += (1 - beta1) * grad
            v *= beta2
            v += (1 - beta2) * grad * grad
            if name.endswith(".w"):
                params[name] *= 1 - lr * self.weight_decay
            params[name] -= (lr * correction) * m / (np.sqrt(v) + _ADAM_EPS)


def _learning_rate(step: int, total: int, warmup: int, peak: float) -> float:
    """Linear warm-up over the first epoch, then cosine decay to 1% of the peak."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return peak * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * progress)))
