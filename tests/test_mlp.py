from __future__ import annotations

import numpy as np

from digitscan.classifiers.mlp import MLPDigitClassifier


def test_mlp_fit_predict_and_clone(tiny_train, tiny_test) -> None:
    from sklearn.base import clone

    (X, y), (Xt, yt) = tiny_train, tiny_test
    mlp = MLPDigitClassifier(hidden_layer_sizes=(64,), epochs=15, batch_size=32, augment=False)
    mlp.fit(X, y, eval_set=(Xt, yt))
    assert len(mlp.history_) == 15 and mlp.history_[-1].loss < mlp.history_[0].loss
    assert mlp.score(X, y) > 0.9 and mlp.score(Xt, yt) > 0.6
    proba = mlp.predict_proba(Xt.reshape(len(Xt), 784))
    assert proba.shape == (200, 10) and proba.dtype == np.float32
    np.testing.assert_array_equal(mlp.classes_, np.arange(10))
    assert clone(mlp).get_params() == mlp.get_params()


def test_mlp_learning_rate_steps_down() -> None:
    mlp = MLPDigitClassifier(epochs=30, learning_rate=1e-3)
    rates = [mlp._learning_rate(e) for e in range(30)]
    assert rates[0] == 1e-3 and rates[20] == 1e-4 and rates[-1] == 1e-5
