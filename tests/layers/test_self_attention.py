import numpy as np
import pytest
from helpers import softmax, to_numpy

from zoo.layers import SelfAttention

X = np.array([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]], "float32")


def test_dot_self_attention_by_hand():
    outputs, weights = SelfAttention("dot")(X, return_attention_scores=True)
    expected = softmax(X[0] @ X[0].T)
    np.testing.assert_allclose(to_numpy(weights)[0], expected, rtol=1e-6)
    np.testing.assert_allclose(to_numpy(outputs)[0], expected @ X[0], rtol=1e-6)


def test_causal_hides_the_future():
    _, weights = SelfAttention("dot", causal=True)(X, return_attention_scores=True)
    scores = X[0] @ X[0].T
    expected = np.zeros((3, 3))
    for i in range(3):
        expected[i, : i + 1] = softmax(scores[i, : i + 1])
    np.testing.assert_allclose(to_numpy(weights)[0], expected, rtol=1e-6, atol=1e-8)


def test_causal_and_padding_together():
    mask = np.array([[False, True, True]])
    _, weights = SelfAttention("dot", causal=True)(X, mask=mask, return_attention_scores=True)
    w = to_numpy(weights)[0]
    np.testing.assert_array_equal(w[0], 0.0)  # masked query: zeros, not NaN
    np.testing.assert_allclose(w[1], [0.0, 1.0, 0.0], atol=1e-7)
    np.testing.assert_allclose(w[2, 1:], softmax((X[0] @ X[0].T)[2, 1:]), rtol=1e-6)
    assert w[2, 0] == 0.0


@pytest.mark.parametrize("score", ["additive", "dot", "general"])
def test_output_is_a_sequence_and_keeps_the_mask(score):
    import keras

    inputs = keras.Input((None, 4))
    masked = keras.layers.Masking()(inputs)
    outputs = SelfAttention(score)(masked)
    assert outputs.shape == (None, None, 4)
    model = keras.Model(inputs, outputs)
    x = np.ones((2, 3, 4), "float32")
    assert to_numpy(model(x)).shape == (2, 3, 4)


def test_bad_arguments():
    with pytest.raises(ValueError, match="score"):
        SelfAttention("cosine")
    with pytest.raises(ValueError, match="rank 3"):
        SelfAttention()(np.zeros((2, 4), "float32"))
