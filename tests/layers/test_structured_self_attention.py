import keras
import numpy as np
import pytest
from helpers import set_weights, softmax, to_numpy

from zoo.layers import StructuredSelfAttention


def test_weights_and_pooling_by_hand():
    h = np.array([[[1.0, 0.0], [0.0, 1.0], [2.0, 2.0]]], "float32")
    layer = StructuredSelfAttention(units=2, heads=2)
    layer.build(h.shape)
    w1, w2 = np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([[1.0, -1.0], [0.0, 2.0]])
    set_weights(layer, hidden_kernel=w1, head_kernel=w2)
    pooled, weights = layer(h, return_attention_scores=True)
    expected = softmax((np.tanh(h[0] @ w1) @ w2).T)  # [heads, T]
    np.testing.assert_allclose(to_numpy(weights)[0], expected, rtol=1e-6)
    np.testing.assert_allclose(to_numpy(pooled)[0], expected @ h[0], rtol=1e-6)


def test_penalty_value_is_added_as_a_loss():
    h = np.random.default_rng(0).normal(size=(3, 5, 4)).astype("float32")
    layer = StructuredSelfAttention(units=3, heads=2, penalty=0.3)
    _, weights = layer(h, return_attention_scores=True)
    a = to_numpy(weights)
    gram = a @ a.transpose(0, 2, 1)
    expected = 0.3 * np.mean(np.sum((gram - np.eye(2)) ** 2, axis=(1, 2)))
    assert len(layer.losses) == 1
    np.testing.assert_allclose(to_numpy(layer.losses[0]), expected, rtol=1e-5)


def test_no_penalty_no_loss():
    layer = StructuredSelfAttention(units=3)
    layer(np.ones((1, 2, 3), "float32"))
    assert layer.losses == []


def test_penalty_reaches_the_model_loss():
    inputs = keras.Input((5, 4))
    pooled = StructuredSelfAttention(units=3, heads=2, penalty=1.0)(inputs)
    model = keras.Model(inputs, keras.layers.Flatten()(pooled))
    model.compile(loss="mse")
    x = np.random.default_rng(1).normal(size=(4, 5, 4)).astype("float32")
    y = to_numpy(model(x))
    assert model.evaluate(x, y, verbose=0) > 0.0  # zero MSE, so the loss is the penalty


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"units": 0}, "units"),
        ({"units": 2, "heads": 0}, "heads"),
        ({"units": 2, "penalty": -1}, "penalty"),
    ],
)
def test_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        StructuredSelfAttention(**kwargs)


def test_rank_2_input_raises():
    with pytest.raises(ValueError, match="rank 3"):
        StructuredSelfAttention(units=2)(np.zeros((2, 4), "float32"))
