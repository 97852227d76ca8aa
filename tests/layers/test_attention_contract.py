"""The call contract every attention layer of the zoo keeps, on whatever backend runs."""

import keras
import numpy as np
import pytest
from helpers import to_numpy

from zoo.layers import (
    BahdanauAttention,
    LocationSensitiveAttention,
    LuongAttention,
    SelfAttention,
    StructuredSelfAttention,
)

# Layers taking [query, value]: name -> factory.
CROSS_ATTENTION = {
    "bahdanau": lambda: BahdanauAttention(units=5),
    "bahdanau_normed": lambda: BahdanauAttention(units=5, normalize=True),
    "luong_dot": lambda: LuongAttention("dot"),
    "luong_general_scaled": lambda: LuongAttention("general", scale=True),
    "luong_concat": lambda: LuongAttention("concat", units=3),
    "luong_local": lambda: LuongAttention("general", window=2),
    "location_sensitive": lambda: LocationSensitiveAttention(units=5, filters=2, kernel_size=3),
}
ALL = {
    **CROSS_ATTENTION,
    "self_additive": lambda: SelfAttention("additive"),
    "self_general_causal": lambda: SelfAttention("general", causal=True),
    "structured": lambda: StructuredSelfAttention(units=3, heads=2, penalty=0.5),
}

rng = np.random.default_rng(0)
QUERY = rng.normal(size=(2, 3, 4)).astype("float32")
VALUE = rng.normal(size=(2, 5, 4)).astype("float32")
QUERY_MASK = np.array([[True, True, False], [True, True, True]])
VALUE_MASK = np.array([[True, True, True, False, False], [False] * 5])


def call_layer(name, layer, **kwargs):
    """Calls the layer the way its kind expects; returns (output, weights)."""
    if name in CROSS_ATTENTION:
        return layer([QUERY, VALUE], return_attention_scores=True, **kwargs)
    mask = kwargs.pop("mask", None)
    return layer(VALUE, mask=None if mask is None else mask[1], return_attention_scores=True)


@pytest.mark.parametrize("name", sorted(CROSS_ATTENTION))
def test_weights_sum_to_one_and_are_zero_where_masked(name):
    _, weights = call_layer(name, CROSS_ATTENTION[name](), mask=[QUERY_MASK, VALUE_MASK])
    w = to_numpy(weights)
    assert w.shape == (2, 3, 5)
    assert np.all(np.isfinite(w))
    np.testing.assert_allclose(w[0, :2].sum(-1), 1.0, rtol=1e-5)
    assert np.all(w[0, :, 3:] == 0.0)  # masked values: exactly 0
    assert np.all(w[0, 2] == 0.0)  # masked query: zeros
    assert np.all(w[1] == 0.0)  # fully masked values: zeros, not NaN


@pytest.mark.parametrize("name", sorted(CROSS_ATTENTION))
def test_masked_values_do_not_change_the_context(name):
    layer = CROSS_ATTENTION[name]()
    mask = [None, np.array([[True, True, True, False, False]] * 2)]
    context, _ = layer([QUERY, VALUE], mask=mask, return_attention_scores=True)
    noisy = VALUE.copy()
    noisy[:, 3:] = 1e3
    noisy_context, _ = layer([QUERY, noisy], mask=mask, return_attention_scores=True)
    np.testing.assert_allclose(to_numpy(context), to_numpy(noisy_context), rtol=1e-5)


@pytest.mark.parametrize("name", sorted(CROSS_ATTENTION))
def test_two_dimensional_query_is_one_decoder_step(name):
    layer = CROSS_ATTENTION[name]()
    context, weights = layer([QUERY, VALUE], mask=[None, VALUE_MASK], return_attention_scores=True)
    step_context, step_weights = layer(
        [QUERY[:, 1], VALUE], mask=[None, VALUE_MASK], return_attention_scores=True
    )
    assert tuple(step_context.shape) == (2, 4) and tuple(step_weights.shape) == (2, 5)
    np.testing.assert_allclose(to_numpy(step_weights), to_numpy(weights)[:, 1], rtol=1e-5)
    np.testing.assert_allclose(to_numpy(step_context), to_numpy(context)[:, 1], rtol=1e-5)


@pytest.mark.parametrize("name", sorted(CROSS_ATTENTION))
def test_query_mask_propagates(name):
    query = keras.Input((3, 4))
    value = keras.Input((5, 4))
    masked_query = keras.layers.Masking()(query)
    context = CROSS_ATTENTION[name]()([masked_query, value])
    pooled = keras.layers.GlobalAveragePooling1D()(context)  # consumes the mask
    model = keras.Model([query, value], pooled)
    q = QUERY.copy()
    q[:, 2] = 0.0  # Masking() hides this step: the mean must be over the first two
    full = keras.Model([query, value], context)([q, VALUE])
    np.testing.assert_allclose(
        to_numpy(model([q, VALUE])), to_numpy(full)[:, :2].mean(1), rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("name", sorted(ALL))
def test_config_round_trip(name):
    layer = ALL[name]()
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config


@pytest.mark.parametrize("name", sorted(ALL))
def test_saved_model_reloads_with_identical_outputs(name, tmp_path):
    layer = ALL[name]()
    if name in CROSS_ATTENTION:
        inputs = [keras.Input((3, 4)), keras.Input((5, 4))]
        outputs = layer(inputs, return_attention_scores=True)
        data = [QUERY, VALUE]
    else:
        inputs = keras.Input((5, 4))
        outputs = layer(inputs, return_attention_scores=True)
        data = VALUE
    model = keras.Model(inputs, list(outputs))
    path = tmp_path / "model.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)
    for before, after in zip(model(data), reloaded(data), strict=True):
        np.testing.assert_allclose(to_numpy(before), to_numpy(after), rtol=1e-6)


@pytest.mark.parametrize("name", sorted(ALL))
def test_jit_compiled_model_matches_eager(name):
    if keras.backend.backend() == "torch":
        pytest.skip("torch.compile is not exercised in the test run")
    layer = ALL[name]()
    if name in CROSS_ATTENTION:
        inputs = [keras.Input((3, 4)), keras.Input((5, 4))]
        data = [QUERY, VALUE]
    else:
        inputs = keras.Input((5, 4))
        data = VALUE
    context, _ = layer(inputs, return_attention_scores=True)
    model = keras.Model(inputs, context)
    model.compile(jit_compile=True)
    np.testing.assert_allclose(
        model.predict(data, verbose=0), to_numpy(model(data)), rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
@pytest.mark.parametrize("name", sorted(ALL))
def test_mixed_precision(name, policy):
    layer = ALL[name]()
    layer.dtype_policy = keras.DTypePolicy(policy)
    mask = [QUERY_MASK, VALUE_MASK]
    if name in CROSS_ATTENTION:
        output, weights = layer([QUERY, VALUE], mask=mask, return_attention_scores=True)
    else:
        output, weights = layer(VALUE, mask=VALUE_MASK, return_attention_scores=True)
    assert keras.backend.standardize_dtype(output.dtype) == policy.split("_")[1]
    w = to_numpy(keras.ops.cast(weights, "float32"))
    assert np.all(np.isfinite(w))
    assert np.all(w[1] == 0.0)  # the fully masked example
    np.testing.assert_allclose(w[0, :2].sum(-1), 1.0, atol=2e-2)


@pytest.mark.parametrize("name", sorted(CROSS_ATTENTION))
def test_bad_inputs_raise(name):
    with pytest.raises(ValueError, match="rank"):
        CROSS_ATTENTION[name]()([np.zeros((4,), "float32"), VALUE])
    with pytest.raises(ValueError, match="batch size"):
        CROSS_ATTENTION[name]()([QUERY, np.zeros((3, 5, 4), "float32")])
    with pytest.raises(ValueError, match="list"):
        CROSS_ATTENTION[name]()(QUERY)


@pytest.mark.parametrize("name", sorted(CROSS_ATTENTION))
def test_prepared_keys_give_the_same_answer(name):
    # A decoder prepares the keys once per sequence and passes them at every step.
    layer = CROSS_ATTENTION[name]()
    mask = [None, VALUE_MASK[:1].repeat(2, axis=0)]
    context, weights = layer([QUERY, VALUE], mask=mask, return_attention_scores=True)
    keys = layer.prepare_keys(VALUE)
    for query, expected in ((QUERY, weights), (QUERY[:, 0], to_numpy(weights)[:, 0])):
        step_context, step_weights = layer(
            [query, VALUE, keys], mask=mask, return_attention_scores=True, keys_prepared=True
        )
        np.testing.assert_allclose(to_numpy(step_weights), to_numpy(expected), atol=1e-5)
    np.testing.assert_allclose(
        to_numpy(layer([QUERY, VALUE, keys], mask=mask, keys_prepared=True)),
        to_numpy(context),
        atol=1e-5,
    )
