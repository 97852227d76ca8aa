import keras
import numpy as np
import pytest
from helpers import softmax, to_numpy

from zoo.models.forecaster import Forecaster

LOOKBACK, FEATURES, KNOWN, HORIZON = 6, 4, 2, 5
VARIANTS = {
    "plain": {},
    "input": {"input_attention": True},
    "temporal": {"temporal_attention": True},
    "dual-stage": {"input_attention": True, "temporal_attention": True},
    "dual-stage, instance norm": {
        "input_attention": True,
        "temporal_attention": True,
        "instance_norm": True,
    },
    "relative to naive, instance norm": {"relative_to_naive": True, "instance_norm": True},
    "dual-stage, relative to naive": {
        "input_attention": True,
        "temporal_attention": True,
        "relative_to_naive": True,
    },
}
RELATIVE = sorted(name for name in VARIANTS if "relative" in name)


def randomize_head(model, seed=3):
    """A relative model's correction starts at zero (its output then ignores the network):
    give its output layer weights, as training would."""
    kernel = model.head_output.kernel
    kernel.assign(np.random.default_rng(seed).normal(0, 0.5, kernel.shape).astype("float32"))
    return model


def tiny(**kwargs):
    config = {
        "num_features": FEATURES,
        "num_known": KNOWN,
        "lookback": LOOKBACK,
        "units": 8,
        "attention_units": 5,
        "head_units": 8,
        # The rest stated too: the class has no defaults of its own.
        "input_attention": False,
        "temporal_attention": False,
        "dropout": 0.1,
        "instance_norm": False,
        "quantiles": (0.1, 0.5, 0.9),
        "relative_to_naive": False,
        **kwargs,
    }
    return Forecaster(**config)


def batch(seed=0, size=3):
    rng = np.random.default_rng(seed)
    history = rng.normal(size=(size, LOOKBACK, FEATURES)).astype("float32")
    future = rng.normal(size=(size, HORIZON, KNOWN)).astype("float32")
    return history, future


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_quantiles_are_ordered_whatever_the_weights(name):
    model = tiny(quantiles=[0.05, 0.1, 0.5, 0.9, 0.95], **VARIANTS[name])
    rng = np.random.default_rng(1)
    for weight in model.weights:  # large random weights: the head's raw outputs cross
        weight.assign(rng.normal(0, 2, size=weight.shape).astype("float32"))
    history, future = batch()
    quantiles = to_numpy(model((history, future)))
    assert quantiles.shape == (3, HORIZON, 5)
    assert np.all(np.diff(quantiles, axis=-1) >= 0)  # never crossing (softplus may reach 0)
    raw = to_numpy(model.head_output.kernel)
    assert not np.all(np.diff(raw, axis=-1) >= 0)  # while the raw outputs are not ordered
    np.testing.assert_array_equal(to_numpy(model.point_forecast(quantiles)), quantiles[..., 2])


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_attention_weights_are_distributions_or_zeros(name):
    model = tiny(**VARIANTS[name])
    _, input_weights, temporal_weights = model.forecast_with_attention(*batch())
    input_weights, temporal_weights = to_numpy(input_weights), to_numpy(temporal_weights)
    assert input_weights.shape == (3, LOOKBACK, FEATURES - 1)  # the driving series
    assert temporal_weights.shape == (3, HORIZON, LOOKBACK)
    if model.input_attention:  # over the driving series, at every history step
        np.testing.assert_allclose(input_weights.sum(-1), 1.0, rtol=1e-5)
    else:
        assert not input_weights.any()
    if model.temporal_attention:  # over the history, at every forecast step
        np.testing.assert_allclose(temporal_weights.sum(-1), 1.0, rtol=1e-5)
    else:
        assert not temporal_weights.any()


def test_first_input_attention_step_by_hand():
    """At step 1 the encoder state is zero: e_k = v^T tanh(U x^k + b) over each series'
    whole window x^k (Qin et al. 2017, eq. 8), and alpha = softmax(e)."""
    model = tiny(input_attention=True)
    layer = model.input_attention_layer
    history, future = batch()
    _, input_weights, _ = model.forecast_with_attention(history, future)
    U = to_numpy(layer.key_kernel)  # [lookback, units]
    b, v = to_numpy(layer.bias), to_numpy(layer.score_vector)
    series = history[..., 1:].transpose(0, 2, 1)  # [B, driving series, lookback]
    scores = np.tanh(series @ U + b) @ v
    np.testing.assert_allclose(to_numpy(input_weights)[:, 0], softmax(scores), rtol=1e-5)


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_a_forecast_step_does_not_see_later_covariates(name):
    model = tiny(**VARIANTS[name])
    history, future = batch()
    changed = future.copy()
    changed[:, 3:] += 5.0
    before, after = to_numpy(model((history, future))), to_numpy(model((history, changed)))
    np.testing.assert_allclose(after[:, :3], before[:, :3], rtol=1e-6)
    assert not np.allclose(after[:, 3:], before[:, 3:])


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_any_horizon_length_and_dropout_only_in_training(name):
    model = randomize_head(tiny(dropout=0.5, **VARIANTS[name]))
    history, future = batch()
    assert tuple(model((history, future[:, :2])).shape) == (3, 2, 3)
    inference = [to_numpy(model((history, future))) for _ in range(2)]
    np.testing.assert_array_equal(inference[0], inference[1])
    training = to_numpy(model((history, future), training=True))
    assert not np.allclose(training, inference[0])


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_instance_norm_forecasts_relative_to_the_window(name):
    """With instance normalization, a target history moved to a * y + c (a > 0) gives the
    quantiles a * q + c: the model sees the same normalized window. Without it, it does not."""
    history, future = batch()
    moved = history.copy()
    moved[..., 0] = 2.5 * history[..., 0] + 3.0
    moved_future = future.copy()
    if VARIANTS[name].get("relative_to_naive"):  # the naive forecast is moved with the target
        moved_future[..., -1] = 2.5 * future[..., -1] + 3.0
    for instance_norm in (True, False):
        model = randomize_head(tiny(**{**VARIANTS[name], "instance_norm": instance_norm}))
        before = to_numpy(model((history, future)))
        after = to_numpy(model((moved, moved_future)))
        if instance_norm:
            np.testing.assert_allclose(after, 2.5 * before + 3.0, rtol=1e-5, atol=5e-5)
        else:
            assert not np.allclose(after, 2.5 * before + 3.0, atol=1e-2)


def test_instance_norm_by_hand():
    """The window statistics are the target history's mean and (population) standard
    deviation, and the network's output is mapped back with them."""
    model = tiny(instance_norm=True)
    history, future = batch()
    level, spread = (to_numpy(v) for v in model._window_statistics(history))
    target = history[..., :1]
    np.testing.assert_allclose(level, target.mean(axis=1, keepdims=True), rtol=1e-5)
    np.testing.assert_allclose(spread, np.sqrt(target.var(axis=1, keepdims=True) + 1e-5), rtol=1e-5)
    plain = tiny(instance_norm=False)
    plain.set_weights(model.get_weights())  # the same network without the normalization
    normalized = history.copy()
    normalized[..., :1] = (target - level) / spread
    expected = to_numpy(plain((normalized, future))) * spread + level
    np.testing.assert_allclose(to_numpy(model((history, future))), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", RELATIVE)
def test_an_untrained_relative_model_forecasts_the_naive_forecast(name):
    """The correction starts at zero: the median is the last known input, exactly; the other
    quantiles lie log 2 (times the window's spread) on either side of it."""
    model = tiny(quantiles=[0.1, 0.25, 0.5, 0.75, 0.9], **VARIANTS[name])
    history, future = batch(seed=4)
    quantiles = to_numpy(model((history, future)))
    naive = future[..., -1]
    np.testing.assert_allclose(quantiles[..., 2], naive, rtol=1e-6, atol=1e-6)
    spread = 1.0
    if VARIANTS[name].get("instance_norm"):
        spread = np.sqrt(history[..., :1].var(axis=1) + 1e-5)  # [B, 1]
    step = np.broadcast_to(np.log(2.0) * spread, naive.shape)
    np.testing.assert_allclose(quantiles[..., 3] - naive, step, rtol=1e-5)
    np.testing.assert_allclose(quantiles[..., 4] - naive, 2 * step, rtol=1e-5)
    np.testing.assert_allclose(naive - quantiles[..., 1], step, rtol=1e-5)
    np.testing.assert_allclose(naive - quantiles[..., 0], 2 * step, rtol=1e-5)


def test_a_relative_model_learns_a_correction_of_the_naive_forecast():
    """Target = naive + 1: a few steps move the median from the naive forecast toward it."""
    model = tiny(relative_to_naive=True)
    history, future = batch(seed=5, size=64)
    target = future[..., -1] + 1.0
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mae")
    before = np.mean(np.abs(to_numpy(model((history, future)))[..., 1] - target))
    model.fit((history, future), np.repeat(target[..., None], 3, -1), epochs=30, verbose=0)
    after = np.mean(np.abs(to_numpy(model((history, future)))[..., 1] - target))
    assert before == pytest.approx(1.0, abs=1e-5) and after < 0.3


def test_relative_to_naive_needs_a_known_input():
    with pytest.raises(ValueError, match="num_known"):
        tiny(relative_to_naive=True, num_known=0)


def test_config_round_trip(tmp_path):
    model = tiny(
        input_attention=True,
        temporal_attention=True,
        instance_norm=True,
        relative_to_naive=True,
        quantiles=[0.2, 0.5, 0.8],
    )
    clone = Forecaster.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    path = tmp_path / "forecaster.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)
    np.testing.assert_allclose(to_numpy(reloaded(batch())), to_numpy(model(batch())), rtol=1e-6)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"units": 0}, "units"),
        ({"lookback": -1}, "lookback"),
        ({"num_known": -1}, "num_known"),
        ({"dropout": 1.0}, "dropout"),
        ({"quantiles": [0.1, 0.9]}, "quantiles"),
        ({"quantiles": [0.9, 0.5, 0.1]}, "quantiles"),
        ({"quantiles": [0.0, 0.5]}, "quantiles"),
    ],
)
def test_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        tiny(**kwargs)
