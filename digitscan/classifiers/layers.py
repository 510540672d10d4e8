"""Forward and backward passes of the convnet's layers, in plain NumPy.

Layout is NHWC (batch, height, width, channels) so that a convolution is one matrix product of
an im2col view with the kernel, which BLAS runs at close to peak speed. Every ``*_forward``
returns its output and a cache; the matching ``*_backward`` takes the upstream gradient and that
cache. Functions work in the dtype they are given (float32 for training, float64 for the
finite-difference gradient check) and never write into their inputs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

Array = NDArray[np.floating[Any]]

BN_EPS = 1e-5


def im2col(x: Array, k: int) -> Array:
    """Patches of a 'same'-padded convolution.

    Args:
        x: ``(N, H, W, C)``.
        k: Odd kernel size.

    Returns:
        ``(N, H, W, k*k*C)``: for each output pixel, its k x k neighbourhood (zero-padded),
        ordered by kernel row, kernel column, then channel.
    """
    n, h, w, c = x.shape
    p = k // 2
    padded = np.zeros((n, h + 2 * p, w + 2 * p, c), x.dtype)
    padded[:, p : p + h, p : p + w] = x
    # One strided view and one copy: faster than k*k slice copies, above all for C = 1.
    windows = sliding_window_view(padded, (k, k), axis=(1, 2))  # (N, H, W, C, k, k)
    return np.ascontiguousarray(windows.transpose(0, 1, 2, 4, 5, 3)).reshape(n, h, w, k * k * c)


def col2im(cols: Array, k: int, c: int) -> Array:
    """Adjoint of :func:`im2col`: sum each patch gradient back onto the input pixels."""
    n, h, w, _ = cols.shape
    p = k // 2
    padded = np.zeros((n, h + 2 * p, w + 2 * p, c), cols.dtype)
    for i in range(k):
        for j in range(k):
            start = (i * k + j) * c
            padded[:, i : i + h, j : j + w] += cols[..., start : start + c]
    return padded[:, p : p + h, p : p + w]


def conv_forward(x: Array, weight: Array, k: int) -> tuple[Array, Array]:
    """'Same' convolution with stride 1 and no bias (batch norm follows it).

    Args:
        x: ``(N, H, W, C)``.
        weight: ``(k*k*C, F)``.
        k: Kernel size.

    Returns:
        ``(N, H, W, F)`` and the im2col patches (the cache).
    """
    cols = im2col(x, k)
    n, h, w, kkc = cols.shape
    return (cols.reshape(-1, kkc) @ weight).reshape(n, h, w, -1), cols


def conv_backward(
    dout: Array, cols: Array, weight: Array, k: int, need_dx: bool = True
) -> tuple[Array | None, Array]:
    """Gradients of :func:`conv_forward` with respect to its input and weight."""
    n, h, w, kkc = cols.shape
    dout2 = dout.reshape(-1, dout.shape[-1])
    dweight = cols.reshape(-1, kkc).T @ dout2
    if not need_dx:
        return None, dweight
    dcols = (dout2 @ weight.T).reshape(n, h, w, kkc)
    return col2im(dcols, k, kkc // (k * k)), dweight


def batchnorm_forward(
    x: Array, gamma: Array, beta: Array
) -> tuple[Array, tuple[Array, Array, Array, Array]]:
    """Training-mode batch norm over every axis but the last.

    Returns:
        The output and ``(x_hat, inv_std, mean, var)``; the mean and variance update the
        running statistics.
    """
    axes = tuple(range(x.ndim - 1))
    mean = x.mean(axis=axes)
    var = x.var(axis=axes)
    inv_std = 1.0 / np.sqrt(var + BN_EPS)
    x_hat = (x - mean) * inv_std
    return x_hat * gamma + beta, (x_hat, inv_std, mean, var)


def batchnorm_backward(
    dout: Array, cache: tuple[Array, Array, Array, Array], gamma: Array
) -> tuple[Array, Array, Array]:
    """Gradients of :func:`batchnorm_forward`: ``(dx, dgamma, dbeta)``."""
    x_hat, inv_std, _, _ = cache
    axes = tuple(range(dout.ndim - 1))
    m = dout.size // dout.shape[-1]
    dbeta = dout.sum(axis=axes)
    dgamma = (dout * x_hat).sum(axis=axes)
    dx = (gamma * inv_std / m) * (m * dout - dbeta - x_hat * dgamma)
    return dx, dgamma, dbeta


def relu_forward(x: Array) -> Array:
    """max(x, 0)."""
    return np.maximum(x, 0)


def relu_backward(dout: Array, out: Array) -> Array:
    """Gradient of ReLU given its output."""
    return dout * (out > 0)


def maxpool_forward(x: Array) -> tuple[Array, Array]:
    """2x2 max pooling with stride 2; odd sizes are zero-padded at the bottom/right.

    Zero padding is neutral because pooling follows a ReLU (all values >= 0).

    Returns:
        ``(N, ceil(H/2), ceil(W/2), C)`` and a mask of the winning positions.
    """
    n, h, w, c = x.shape
    if h % 2 or w % 2:
        padded = np.zeros((n, h + h % 2, w + w % 2, c), x.dtype)
        padded[:, :h, :w] = x
        x = padded
    blocks = x.reshape(n, x.shape[1] // 2, 2, x.shape[2] // 2, 2, c)
    out = blocks.max(axis=(2, 4))
    # Ties send the gradient to every winner; pooling follows a ReLU, whose backward pass zeroes
    # the only common tie (all zeros), and exact ties of positive floats do not happen in practice.
    mask = blocks == out[:, :, None, :, None, :]
    return out, mask


def maxpool_backward(dout: Array, mask: Array, in_shape: tuple[int, ...]) -> Array:
    """Gradient of :func:`maxpool_forward`."""
    n, h2, _, w2, _, c = mask.shape
    dx = (mask * dout[:, :, None, :, None, :]).reshape(n, h2 * 2, w2 * 2, c)
    return dx[:, : in_shape[1], : in_shape[2]]


def softmax(logits: Array) -> Array:
    """Row-wise softmax, stable for large logits."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def cross_entropy(logits: Array, labels: NDArray[np.int64]) -> tuple[float, Array]:
    """Mean softmax cross-entropy and its gradient with respect to the logits."""
    probs = softmax(logits)
    n = len(labels)
    loss = -np.log(np.maximum(probs[np.arange(n), labels], 1e-12)).mean()
    dlogits = probs.copy()
    dlogits[np.arange(n), labels] -= 1
    return float(loss), dlogits / n


def maxpool_infer(x: Array) -> Array:
    """2x2 max pooling for inference: no mask, odd sizes padded with -inf.

    Padding with -inf (not 0) lets inference pool *before* adding the bias and applying ReLU,
    on a tensor four times smaller: both are monotonic, so the result is the same.
    """
    n, h, w, c = x.shape
    if h % 2 or w % 2:
        padded = np.full((n, h + h % 2, w + w % 2, c), -np.inf, x.dtype)
        padded[:, :h, :w] = x
        x = padded
    out = np.maximum(x[:, 0::2, 0::2], x[:, 1::2, 0::2])
    np.maximum(out, x[:, 0::2, 1::2], out=out)
    np.maximum(out, x[:, 1::2, 1::2], out=out)
    return out
