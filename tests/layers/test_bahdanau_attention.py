import numpy as np
import pytest
from helpers import set_weights, softmax, to_numpy

from zoo.layers import BahdanauAttention


def reference_scores(q, k, wq, wk, b, v):
    hidden = np.tanh((q @ wq)[:, :, None, :] + (k @ wk)[:, None, :, :] + b)
    return hidden @ v


def test_hand_computed_scores_and_weights():
    # One query, two keys, units=1: score_j = v * tanh(wq*q + wk*k_j + b).
    layer = BahdanauAttention(units=1)
    query = np.array([[[1.0]]], "float32")
    value = np.array([[[2.0], [-1.0]]], "float32")
    layer.build([query.shape, value.shape])
    set_weights(layer, query_kernel=[[0.5]], key_kernel=[[1.0]], bias=[0.0], score_vector=[2.0])
    context, weights = layer([query, value], return_attention_scores=True)
    scores = np.array([2 * np.tanh(0.5 + 2.0), 2 * np.tanh(0.5 - 1.0)])
    expected = softmax(scores)
    np.testing.assert_allclose(to_numpy(weights)[0, 0], expected, rtol=1e-5)
    np.testing.assert_allclose(to_numpy(context)[0, 0, 0], expected @ [2.0, -1.0], rtol=1e-5)


def test_matches_numpy_reference_with_separate_key():
    rng = np.random.default_rng(1)
    q, v, k = (rng.normal(size=s).astype("float32") for s in [(2, 3, 4), (2, 5, 6), (2, 5, 3)])
    layer = BahdanauAttention(units=7)
    context, weights = layer([q, v, k], return_attention_scores=True)
    w = {x.name: to_numpy(x) for x in layer.weights}
    expected = softmax(
        reference_scores(q, k, w["query_kernel"], w["key_kernel"], w["bias"], w["score_vector"])
    )
    np.testing.assert_allclose(to_numpy(weights), expected, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(to_numpy(context), expected @ v, rtol=1e-4, atol=1e-5)


def test_normalized_variant_uses_gain_times_unit_vector():
    rng = np.random.default_rng(2)
    q, v = (
        rng.normal(size=(1, 2, 3)).astype("float32"),
        rng.normal(size=(1, 4, 3)).astype("float32"),
    )
    layer = BahdanauAttention(units=2, normalize=True)
    layer.build([q.shape, v.shape])
    assert np.isclose(to_numpy(layer.score_gain), np.sqrt(1 / 2))
    set_weights(layer, score_vector=[3.0, 4.0], score_gain=5.0)  # g * v / |v| = [3, 4]
    _, weights = layer([q, v], return_attention_scores=True)
    w = {x.name: to_numpy(x) for x in layer.weights}
    scores = reference_scores(q, v, w["query_kernel"], w["key_kernel"], w["bias"], [3.0, 4.0])
    np.testing.assert_allclose(to_numpy(weights), softmax(scores), rtol=1e-5)


@pytest.mark.parametrize("units", [0, -3, 2.5, None, True])
def test_bad_units_raise(units):
    with pytest.raises(ValueError, match="units"):
        BahdanauAttention(units=units)
