import numpy as np
import pytest
from helpers import set_weights, softmax, to_numpy

from zoo.layers import LuongAttention

QUERY = np.array([[[1.0, 2.0]]], "float32")  # [1, 1, 2]
VALUE = np.array([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]], "float32")  # [1, 3, 2]


def test_dot_score_by_hand():
    _, weights = LuongAttention("dot")([QUERY, VALUE], return_attention_scores=True)
    np.testing.assert_allclose(
        to_numpy(weights)[0, 0], softmax(np.array([1.0, 2.0, 3.0])), rtol=1e-6
    )


def test_general_score_by_hand():
    layer = LuongAttention("general")
    layer.build([QUERY.shape, VALUE.shape])
    set_weights(layer, kernel=[[2.0, 0.0], [0.0, -1.0]])  # q W k = 2 q0 k0 - q1 k1
    _, weights = layer([QUERY, VALUE], return_attention_scores=True)
    np.testing.assert_allclose(
        to_numpy(weights)[0, 0], softmax(np.array([2.0, -2.0, 0.0])), rtol=1e-6
    )


def test_concat_score_by_hand():
    layer = LuongAttention("concat", units=1)
    layer.build([QUERY.shape, VALUE.shape])
    set_weights(layer, query_kernel=[[1.0], [0.0]], key_kernel=[[0.0], [1.0]], score_vector=[3.0])
    _, weights = layer([QUERY, VALUE], return_attention_scores=True)
    scores = 3 * np.tanh(1.0 + np.array([0.0, 1.0, 1.0]))
    np.testing.assert_allclose(to_numpy(weights)[0, 0], softmax(scores), rtol=1e-6)


def test_scale_multiplies_scores():
    layer = LuongAttention("dot", scale=True)
    layer.build([QUERY.shape, VALUE.shape])
    set_weights(layer, score_gain=0.5)
    _, weights = layer([QUERY, VALUE], return_attention_scores=True)
    np.testing.assert_allclose(
        to_numpy(weights)[0, 0], softmax(0.5 * np.array([1.0, 2.0, 3.0])), rtol=1e-6
    )


def test_local_p_window_by_hand():
    # 6 source positions of which 5 are unmasked (S = 5). With v_p = 0 the predicted position
    # is p = S * sigmoid(0) = 2.5; window D = 2 keeps |s - 2.5| <= 2, i.e. s = 1..4, and adds
    # the Gaussian log -(s - p)^2 / (2 sigma^2), sigma = 1.
    value = np.zeros((1, 6, 2), "float32")  # dot scores all 0: the weights are the Gaussian
    value_mask = np.array([[True] * 5 + [False]])
    layer = LuongAttention("dot", window=2)
    layer.build([QUERY.shape, value.shape])
    set_weights(layer, position_vector=[0.0, 0.0])
    _, weights = layer([QUERY, value], mask=[None, value_mask], return_attention_scores=True)
    s = np.arange(6.0)
    logits = -((s - 2.5) ** 2) / 2.0
    keep = (np.abs(s - 2.5) <= 2) & value_mask[0]
    expected = np.where(keep, np.exp(logits), 0.0)
    expected /= expected.sum()
    np.testing.assert_allclose(to_numpy(weights)[0, 0], expected, rtol=1e-5, atol=1e-7)
    assert to_numpy(weights)[0, 0, 0] == 0.0 and to_numpy(weights)[0, 0, 5] == 0.0


def test_local_p_position_follows_the_query():
    layer = LuongAttention("dot", window=1, units=2)
    value = np.zeros((1, 10, 2), "float32")
    layer.build([QUERY.shape, value.shape])
    set_weights(layer, position_kernel=np.eye(2), position_vector=[50.0, 50.0])
    # sigmoid saturates to 1: p = S = 10, the window keeps s = 9 only.
    _, weights = layer([QUERY, value], return_attention_scores=True)
    np.testing.assert_allclose(to_numpy(weights)[0, 0], np.eye(10)[9], atol=1e-6)


def test_dot_needs_equal_sizes():
    with pytest.raises(ValueError, match='score="dot"'):
        LuongAttention("dot")([np.zeros((1, 2, 3)), np.zeros((1, 4, 5))])


@pytest.mark.parametrize(
    "kwargs, name",
    [({"score": "bilinear"}, "score"), ({"window": 0}, "window"), ({"units": -1}, "units")],
)
def test_bad_arguments_raise(kwargs, name):
    with pytest.raises(ValueError, match=name):
        LuongAttention(**kwargs)
