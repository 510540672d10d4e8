from __future__ import annotations

import numpy as np
import pytest

from digitscan.classifiers import layers
from digitscan.classifiers.convnet import ConvNetClassifier
from digitscan.errors import ConfigError, NotFittedError


def small_net(**kwargs) -> ConvNetClassifier:
    settings = dict(
        channels=(8, 16),
        kernels=(3, 3),
        hidden=32,
        dropout=0.0,
        epochs=3,
        batch_size=32,
        augment=False,
        random_state=0,
    )
    settings.update(kwargs)
    return ConvNetClassifier(**settings)


@pytest.mark.parametrize("seed", [0, 1])
def test_gradients_match_finite_differences(seed: int) -> None:
    net = ConvNetClassifier(channels=(2, 3), kernels=(3, 5), hidden=6, dropout=0.0)
    rng = np.random.default_rng(seed)
    net.params_, net.buffers_ = net._init_params(rng, np.float64)
    x = rng.random((5, 28, 28))
    y = rng.integers(0, 10, 5)
    _, grads, _ = net._loss_and_grads(x, y, rng, update_buffers=False)
    eps = 1e-6
    for name, param in net.params_.items():
        for _ in range(3):
            idx = tuple(int(rng.integers(0, s)) for s in param.shape)
            old = param[idx]
            param[idx] = old + eps
            plus, _, _ = net._loss_and_grads(x, y, rng, update_buffers=False)
            param[idx] = old - eps
            minus, _, _ = net._loss_and_grads(x, y, rng, update_buffers=False)
            param[idx] = old
            numeric = (plus - minus) / (2 * eps)
            assert grads[name][idx] == pytest.approx(numeric, rel=1e-4, abs=1e-8), name


def test_input_gradient_of_conv_is_the_adjoint() -> None:
    rng = np.random.default_rng(3)
    x = rng.random((2, 5, 6, 3))
    cols = layers.im2col(x, 3)
    upstream = rng.random(cols.shape)
    # <im2col(x), u> == <x, col2im(u)> for any x, u.
    assert (cols * upstream).sum() == pytest.approx((x * layers.col2im(upstream, 3, 3)).sum())


def test_inference_path_equals_training_layers() -> None:
    """predict() folds batch norm and pools before ReLU; it must equal the plain layers."""
    net = small_net(channels=(3, 5, 4), kernels=(3, 3, 3))
    rng = np.random.default_rng(0)
    net.params_, net.buffers_ = net._init_params(rng, np.float32)
    for name in net.buffers_:
        net.buffers_[name] = rng.uniform(0.5, 1.5, net.buffers_[name].shape).astype(np.float32)
    net.classes_ = np.arange(10)
    x = rng.random((6, 28, 28)).astype(np.float32)
    h = x[..., None]
    for i, k in enumerate(net.kernels):
        z, _ = layers.conv_forward(h, net.params_[f"conv{i}.w"], k)
        z = (z - net.buffers_[f"bn{i}.mean"]) / np.sqrt(net.buffers_[f"bn{i}.var"] + 1e-5)
        z = z * net.params_[f"bn{i}.gamma"] + net.params_[f"bn{i}.beta"]
        h, _ = layers.maxpool_forward(layers.relu_forward(z))
    a0 = np.maximum(h.reshape(6, -1) @ net.params_["fc0.w"] + net.params_["fc0.b"], 0)
    expected = layers.softmax(a0 @ net.params_["fc1.w"] + net.params_["fc1.b"])
    np.testing.assert_allclose(net.predict_proba(x), expected, rtol=1e-4, atol=1e-6)


def test_fit_learns_and_loss_falls(tiny_train, tiny_test) -> None:
    (X, y), (Xt, yt) = tiny_train, tiny_test
    net = small_net(epochs=10).fit(X, y)
    losses = [h.loss for h in net.history_]
    assert losses[-1] < losses[0] * 0.5
    assert net.score(X, y) > 0.9
    assert net.score(Xt, yt) > 0.7  # 300 training digits, a tiny net: far above chance (0.1)


def test_same_seed_same_weights(tiny_train) -> None:
    X, y = tiny_train
    a = small_net(epochs=1, augment=True).fit(X[:100], y[:100])
    b = small_net(epochs=1, augment=True).fit(X[:100], y[:100])
    c = small_net(epochs=1, augment=True, random_state=1).fit(X[:100], y[:100])
    for name in a.params_:
        np.testing.assert_array_equal(a.params_[name], b.params_[name])
    assert any((a.params_[n] != c.params_[n]).any() for n in a.params_)


def test_eval_set_and_callback(tiny_train, tiny_test) -> None:
    seen = []
    small_net(epochs=2).fit(*tiny_train, eval_set=tiny_test, on_epoch=seen.append)
    assert [r.epoch for r in seen] == [1, 2]
    assert all(0 <= r.val_accuracy <= 1 for r in seen)


def test_input_forms_agree(tiny_train) -> None:
    X, y = tiny_train
    net = small_net(epochs=1).fit(X, y)
    u8 = net.predict_proba(X[:20])
    as_float = net.predict_proba(X[:20].astype(np.float64) / 255)
    flat = net.predict_proba(X[:20].reshape(20, 784))
    np.testing.assert_allclose(u8, as_float, atol=1e-6)
    np.testing.assert_allclose(u8, flat, atol=1e-6)
    assert u8.dtype == np.float32 and np.allclose(u8.sum(axis=1), 1, atol=1e-5)
    assert net.predict_proba(X[:0]).shape == (0, 10)


@pytest.mark.parametrize(
    ("X", "message"),
    [
        (np.zeros((28, 28), np.uint8), "2 dimensions|784 columns"),
        (np.zeros((2, 28, 27), np.uint8), "must be 28x28"),
        (np.zeros((2, 783)), "784 columns"),
        (np.zeros((2, 1, 28, 28)), "4 dimensions"),
        (np.full((2, 28, 28), 255.0), r"\[0, 1\]"),
        (np.full((2, 28, 28), np.nan), "NaN"),
        (np.array([["a"] * 784]), "dtype"),
    ],
)
def test_bad_input_is_a_clear_error(X: np.ndarray, message: str, tiny_train) -> None:
    net = small_net(epochs=1).fit(tiny_train[0][:50], tiny_train[1][:50])
    with pytest.raises(ConfigError, match=message):
        net.predict(X)


def test_not_fitted() -> None:
    with pytest.raises(NotFittedError, match="not fitted"):
        small_net().predict(np.zeros((1, 28, 28), np.uint8))


def test_bad_labels_and_hyperparameters(tiny_train) -> None:
    X, y = tiny_train
    with pytest.raises(ConfigError, match="digits 0-9"):
        small_net().fit(X[:3], np.array([1, 2, 12]))
    with pytest.raises(ConfigError, match="3 labels"):
        small_net().fit(X[:3], y[:2])
    with pytest.raises(ConfigError, match="odd"):
        small_net(kernels=(4, 3)).fit(X[:3], y[:3])


def test_scikit_learn_compatibility(tiny_train) -> None:
    from sklearn.base import clone, is_classifier
    from sklearn.model_selection import cross_val_score

    X, y = tiny_train
    net = small_net(epochs=2)
    assert is_classifier(net)
    twin = clone(net)
    assert twin.get_params() == net.get_params() and twin is not net
    twin.set_params(hidden=8)
    assert twin.hidden == 8 and net.hidden == 32
    with pytest.raises(ConfigError, match="no parameter"):
        twin.set_params(hiden=8)
    scores = cross_val_score(net, X, y, cv=2)
    assert scores.shape == (2,) and (scores > 0.2).all()  # chance is 0.1
    assert "hidden=32" in repr(net)


def test_a_not_a_digit_class_is_learned_when_the_labels_hold_it(tiny_train) -> None:
    X, y = tiny_train
    blank_bars = np.zeros((60, 28, 28), np.uint8)
    blank_bars[:, 12:16, 2:26] = 255  # a level dash: not a digit
    net = small_net(epochs=4).fit(
        np.concatenate([X, blank_bars]), np.concatenate([y, np.full(60, 10)])
    )
    assert list(net.classes_) == list(range(11))
    proba = net.predict_proba(blank_bars[:5])
    assert proba.shape == (5, 11)
    assert (net.predict(blank_bars[:5]) == 10).all()


def test_warm_start_grows_a_not_a_digit_output_and_keeps_the_digits(tiny_train, tiny_test) -> None:
    X, y = tiny_train
    net = small_net(epochs=4).fit(X, y)
    before = net.score(*tiny_test)
    conv0 = net.params_["conv0.w"].copy()
    dashes = np.zeros((40, 28, 28), np.uint8)
    dashes[:, 12:16, 2:26] = 255
    net.set_params(warm_start=True, epochs=1, learning_rate=1e-3)
    net.fit(np.concatenate([X, dashes]), np.concatenate([y, np.full(40, 10)]))
    assert net.params_["fc1.w"].shape[1] == 11
    assert not np.array_equal(net.params_["conv0.w"], conv0)  # trained on, not replaced
    assert np.abs(net.params_["conv0.w"] - conv0).max() < np.abs(conv0).max()
    assert net.score(*tiny_test) >= before - 0.1
    again = ConvNetClassifier.from_arrays(net.to_arrays())
    assert list(again.classes_) == list(range(11))
    np.testing.assert_allclose(
        again.predict_proba(dashes[:3]), net.predict_proba(dashes[:3]), atol=1e-5
    )
