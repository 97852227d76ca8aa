import keras
import numpy as np
import pytest
from helpers import set_weights, softmax, to_numpy

from zoo.layers import BahdanauAttention, LocationSensitiveAttention


def test_hand_computed_location_term():
    # units=1, one filter of width 3 [1, 0, 0] reads the previous weight one position back
    # (cross-correlation with "same" zero padding: f_j = w_{j-1}), U = 4.
    layer = LocationSensitiveAttention(units=1, filters=1, kernel_size=3)
    query = np.array([[1.0]], "float32")  # one decoder step
    value = np.array([[[0.0], [0.0], [0.0]]], "float32")
    layer.build([query.shape, value.shape])
    set_weights(
        layer,
        query_kernel=[[0.5]],
        key_kernel=[[1.0]],
        bias=[0.0],
        score_vector=[2.0],
        location_kernel=[[[1.0]], [[0.0]], [[0.0]]],
        location_projection=[[4.0]],
    )
    previous = np.array([[0.0, 1.0, 0.0]], "float32")  # last step looked at position 1
    _, weights = layer([query, value], previous_weights=previous, return_attention_scores=True)
    f = np.array([0.0, 0.0, 1.0])  # position 2 follows the previous focus
    expected = softmax(2 * np.tanh(0.5 + 4 * f))
    np.testing.assert_allclose(to_numpy(weights)[0], expected, rtol=1e-5)
    assert np.argmax(to_numpy(weights)[0]) == 2


def test_without_previous_weights_it_is_bahdanau():
    rng = np.random.default_rng(3)
    q, v = (
        rng.normal(size=(2, 3, 4)).astype("float32"),
        rng.normal(size=(2, 6, 5)).astype("float32"),
    )
    location = LocationSensitiveAttention(units=7, filters=2, kernel_size=3)
    additive = BahdanauAttention(units=7)
    location.build([q.shape, v.shape])
    additive.build([q.shape, v.shape])
    for w in additive.weights:
        w.assign(next(x for x in location.weights if x.name == w.name))
    expected = to_numpy(additive([q, v], return_attention_scores=True)[1])
    got = to_numpy(location([q, v], return_attention_scores=True)[1])
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    zeros = np.zeros((2, 6), "float32")  # all-zero previous weights: no location features
    got = location([q, v], previous_weights=zeros, return_attention_scores=True)[1]
    np.testing.assert_allclose(to_numpy(got), expected, rtol=1e-5, atol=1e-6)


def test_matches_numpy_reference_per_query_previous_weights():
    rng = np.random.default_rng(4)
    q, v = (
        rng.normal(size=(2, 3, 4)).astype("float32"),
        rng.normal(size=(2, 6, 5)).astype("float32"),
    )
    previous = softmax(rng.normal(size=(2, 3, 6))).astype("float32")
    layer = LocationSensitiveAttention(units=4, filters=3, kernel_size=5)
    context, weights = layer([q, v], previous_weights=previous, return_attention_scores=True)
    w = {x.name: to_numpy(x) for x in layer.weights}
    padded = np.pad(previous, ((0, 0), (0, 0), (2, 2)))
    conv = np.stack(
        [padded[:, :, j : j + 5] @ w["location_kernel"][:, 0, :] for j in range(6)], axis=2
    )  # [B, Tq, Tv, filters]
    hidden = np.tanh(
        (q @ w["query_kernel"])[:, :, None]
        + (v @ w["key_kernel"])[:, None]
        + w["bias"]
        + conv @ w["location_projection"]
    )
    expected = softmax(hidden @ w["score_vector"])
    np.testing.assert_allclose(to_numpy(weights), expected, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(to_numpy(context), expected @ v, rtol=1e-4, atol=1e-5)


def test_masked_positions_stay_zero_with_location_features():
    rng = np.random.default_rng(5)
    q, v = rng.normal(size=(1, 4)).astype("float32"), rng.normal(size=(1, 5, 3)).astype("float32")
    previous = np.array([[0.0, 0.0, 0.0, 0.5, 0.5]], "float32")
    mask = [None, np.array([[True, True, True, False, False]])]
    layer = LocationSensitiveAttention(units=3, filters=2, kernel_size=3)
    _, weights = layer([q, v], mask=mask, previous_weights=previous, return_attention_scores=True)
    w = to_numpy(weights)
    assert np.all(w[0, 3:] == 0.0)
    np.testing.assert_allclose(w.sum(), 1.0, rtol=1e-5)


def test_config_round_trip_and_arguments():
    layer = LocationSensitiveAttention(units=6, filters=4, kernel_size=7, normalize=True)
    clone = LocationSensitiveAttention.from_config(layer.get_config())
    assert (clone.units, clone.filters, clone.kernel_size, clone.normalize) == (6, 4, 7, True)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert isinstance(restored, LocationSensitiveAttention)
    for bad in ({"filters": 0}, {"kernel_size": -1}, {"filters": 2.5}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            LocationSensitiveAttention(units=3, **bad)


def test_previous_weights_of_wrong_rank_are_refused():
    layer = LocationSensitiveAttention(units=3, filters=2, kernel_size=3)
    q, v = np.zeros((1, 4), "float32"), np.zeros((1, 5, 3), "float32")
    with pytest.raises(ValueError, match="previous_weights"):
        layer([q, v], previous_weights=np.zeros((1, 1, 1, 5), "float32"))
