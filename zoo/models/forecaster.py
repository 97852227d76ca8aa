"""Multi-horizon LSTM forecasters: a plain encoder-decoder and the dual-stage attention RNN.

Both read a window of `lookback` past steps (`history [batch, lookback, features]`: the target,
the covariates and calendar features, scaled) and the covariates known over the horizon
(`future [batch, horizon, known]`), and forecast every horizon step at once as quantiles
`[batch, horizon, len(quantiles)]`, ordered by construction (the lowest quantile plus positive
increments), so an interval never crosses itself.

- `lstm_forecaster`: LSTM encoder over the history, LSTM decoder over the known future
  initialized with the encoder's final state, a dense head per step.
- `lstm_attention_forecaster`: DA-RNN (Qin et al. 2017). The encoder's *input attention*
  weights each driving series at every step from the encoder's previous state and the whole
  window of that series (the target's own history enters unweighted); the decoder's
  *temporal attention* (`BahdanauAttention`) reads the encoder states from the decoder's
  previous state, and its context enters the next step and the output head. Both attentions
  return their weights for plots.

With `instance_norm` (on in both registered entries) the target's history is normalized per
window and the forecast mapped back (RevIN), so both forecast relative to the recent level.
With `relative_to_naive` (also on in both) the last known input is a seasonal naive forecast,
and the model forecasts a correction to it, starting from none: an untrained model forecasts
the naive forecast exactly, so training can only move it away where that pays.
"""

from __future__ import annotations

import keras
from keras import ops

from zoo.layers import BahdanauAttention
from zoo.layers.base_attention import check_positive_int
from zoo.models.recurrence import scan_outputs


@keras.saving.register_keras_serializable(package="lstm_zoo")
class Forecaster(keras.Model):
    """LSTM encoder-decoder forecaster with optional input and temporal attention.

    Args:
        num_features: Features per history step (target first).
        num_known: Features per horizon step (covariates known in advance).
        lookback: History length; fixed when `input_attention` is on (the input attention
            projects each series' whole window, as in DA-RNN).
        units: LSTM units of encoder and decoder.
        input_attention: Whether the encoder weights its driving series (DA-RNN stage 1).
        temporal_attention: Whether the decoder attends over the encoder states (stage 2).
        attention_units: Hidden size of both attention scores.
        head_units: Hidden size of the output head.
        dropout: Dropout rate before the output head.
        instance_norm: Whether each window's target is normalized by the mean and standard
            deviation of its own history before encoding, and the forecast mapped back with
            them (reversible instance normalization, Kim et al. 2022): the model forecasts
            relative to the recent level, which carries a level shift the training data never
            showed (a holiday week) into the forecast.
        quantiles: Increasing probabilities in (0, 1), including 0.5 (the point forecast).
        relative_to_naive: Whether `future[..., -1]` is a seasonal naive forecast (scaled as
            the target) that the median forecast is a correction of. The correction's output
            layer starts at zero, so an untrained model's median is the naive forecast;
            the other quantiles start `log 2` (scaled units, times the window's spread with
            `instance_norm`) apart.
        **kwargs: `keras.Model` arguments (`name`, `dtype`).

    Call arguments:
        inputs: Tuple `(history, future)`, float `[batch, lookback, num_features]` and
            `[batch, horizon, num_known]`.
        training: Whether dropout is active.

    Returns:
        Quantile forecasts `[batch, horizon, len(quantiles)]` (scaled target units).
        `forecast_with_attention` also returns the input attention over the driving series
        `[batch, lookback, num_features - 1]` and the temporal attention `[batch, horizon,
        lookback]` (zeros where a stage is off).

    Example:

    >>> model = Forecaster(num_features=4, num_known=2, lookback=12, units=8,
    ...                    input_attention=True, temporal_attention=True, attention_units=8,
    ...                    head_units=8, dropout=0.1, instance_norm=True,
    ...                    quantiles=(0.1, 0.5, 0.9), relative_to_naive=True)
    >>> history = keras.random.normal((3, 12, 4))
    >>> future = keras.random.normal((3, 6, 2))
    >>> tuple(model((history, future)).shape)
    (3, 6, 3)

    Reference:
        - [Qin et al., 2017](https://arxiv.org/abs/1704.02971), "A Dual-Stage Attention-Based
          Recurrent Neural Network for Time Series Prediction".
        - [Kim et al., 2022](https://openreview.net/forum?id=cGDAkQo1C0p), "Reversible
          Instance Normalization for Accurate Time-Series Forecasting against Distribution
          Shift" (`instance_norm`).
    """

    def __init__(
        self,
        num_features,
        num_known,
        lookback,
        units,
        input_attention,
        temporal_attention,
        attention_units,
        head_units,
        dropout,
        instance_norm,
        quantiles,
        relative_to_naive,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if relative_to_naive and not (isinstance(num_known, int) and num_known >= 1):
            raise ValueError(
                "`relative_to_naive` reads the naive forecast from the last known input: "
                f"`num_known` must be >= 1, received num_known={num_known!r}."
            )
        if input_attention and (isinstance(num_features, int) and num_features < 2):
            raise ValueError(
                "Input attention weighs driving series besides the target: `num_features` "
                f"must be >= 2, received num_features={num_features!r}."
            )
        for key, value in (
            ("num_features", num_features),
            ("lookback", lookback),
            ("units", units),
            ("head_units", head_units),
        ):
            check_positive_int(key, value)
        if input_attention or temporal_attention:  # None otherwise: there is no attention
            check_positive_int("attention_units", attention_units)
        if isinstance(num_known, bool) or not isinstance(num_known, int) or num_known < 0:
            raise ValueError(f"`num_known` must be an integer >= 0, received {num_known!r}.")
        if not 0 <= dropout < 1:
            raise ValueError(f"`dropout` must be in [0, 1), received dropout={dropout!r}.")
        quantiles = tuple(float(q) for q in quantiles)
        if (
            not quantiles
            or any(not 0 < q < 1 for q in quantiles)
            or list(quantiles) != sorted(set(quantiles))
            or 0.5 not in quantiles
        ):
            raise ValueError(
                "`quantiles` must be increasing probabilities in (0, 1) that include 0.5, "
                f"received quantiles={quantiles!r}."
            )
        self.num_features = num_features
        self.num_known = num_known
        self.lookback = lookback
        self.units = units
        self.input_attention = bool(input_attention)
        self.temporal_attention = bool(temporal_attention)
        self.attention_units = attention_units
        self.head_units = head_units
        self.dropout = float(dropout)
        self.instance_norm = bool(instance_norm)
        self.quantiles = quantiles
        self.median_index = quantiles.index(0.5)
        self.relative_to_naive = bool(relative_to_naive)

        policy = self.dtype_policy
        self.encoder = keras.layers.LSTM(
            units, return_sequences=True, return_state=True, name="encoder", dtype=policy
        )
        self.decoder = keras.layers.LSTM(units, return_sequences=True, name="decoder", dtype=policy)
        self.input_attention_layer = None
        if self.input_attention:
            # The keys are the series' windows [B, features, lookback]; the query the
            # encoder's previous (h, c).
            self.input_attention_layer = BahdanauAttention(
                attention_units, name="input_attention", dtype=policy
            )
        self.temporal_attention_layer = None
        if self.temporal_attention:
            self.temporal_attention_layer = BahdanauAttention(
                attention_units, name="temporal_attention", dtype=policy
            )
        self.head_dropout = keras.layers.Dropout(dropout, name="head_dropout", dtype=policy)
        self.head_hidden = keras.layers.Dense(
            head_units, activation="relu", name="head_hidden", dtype=policy
        )
        # Relative to the naive forecast, the correction starts at zero.
        start = "zeros" if self.relative_to_naive else "glorot_uniform"
        self.head_output = keras.layers.Dense(
            len(quantiles), kernel_initializer=start, name="head_output", dtype=policy
        )
        self.build()

    @property
    def attention(self):
        """The attention it uses, as the registry names it (`None` without attention)."""
        stages = (self.input_attention, self.temporal_attention)
        return {(True, True): "dual-stage", (True, False): "input", (False, True): "temporal"}.get(
            stages
        )

    def build(self, input_shape=None):
        # Sublayers are built here, outside the recurrence loops (no variables inside them).
        if self.built:
            return
        self.encoder.build((None, None, self.num_features))
        decoder_input = self.num_known + (self.units if self.temporal_attention else 0)
        self.decoder.build((None, None, decoder_input))
        if self.input_attention:
            self.input_attention_layer.build(
                [
                    (None, 2 * self.units),
                    (None, self.num_features - 1, 1),
                    (None, None, self.lookback),
                ]
            )
        head_input = self.units
        if self.temporal_attention:
            memory = (None, None, self.units)
            self.temporal_attention_layer.build([(None, 2 * self.units), memory])
            head_input += self.units
        self.head_hidden.build((None, None, head_input))
        self.head_output.build((None, None, self.head_units))
        self.built = True

    # -- encoder ---------------------------------------------------------------------------

    def _encode(self, history, training):
        """`(states [B, L, units], (h, c), input weights [B, L, F - 1])`.

        As in DA-RNN, the input attention weighs the driving (exogenous) series; the
        target's own history (feature 0) enters the encoder unweighted (the paper feeds it to
        the decoder, which here runs over the horizon instead).
        """
        if not self.input_attention:
            states, h, c = self.encoder(history, training=training)
            return states, (h, c), ops.zeros_like(history[..., 1:])
        series = ops.transpose(history[..., 1:], (0, 2, 1))  # [B, F - 1, L]: one key per series
        keys = self.input_attention_layer.prepare_keys(series)
        batch = ops.shape(history)[0]
        zeros = ops.zeros((batch, self.units), dtype=self.compute_dtype)

        def step(state, x_t):
            h, c = state
            target, driving = x_t[:, :1], x_t[:, 1:]
            _, weights = self.input_attention_layer(
                [ops.concatenate([h, c], axis=-1), ops.expand_dims(driving, -1), keys],
                return_attention_scores=True,
                keys_prepared=True,
            )
            x = ops.concatenate([target, weights * driving], axis=-1)
            h, (h, c) = self.encoder.cell(x, [h, c], training=training)
            return (h, c), (h, c, weights)

        dtype = self.compute_dtype
        states, cells, weights = scan_outputs(
            step, (zeros, zeros), ops.transpose(history, (1, 0, 2)), dtypes=(dtype,) * 3
        )
        final = (states[-1], cells[-1])
        return ops.transpose(states, (1, 0, 2)), final, ops.transpose(weights, (1, 0, 2))

    # -- decoder ---------------------------------------------------------------------------

    def _decode(self, future, memory, state, training):
        """`(outputs [B, H, head input], temporal weights [B, H, L])`."""
        if not self.temporal_attention:
            outputs = self.decoder(future, initial_state=list(state), training=training)
            weights = ops.zeros_like(ops.cast(future[:, :, :1], outputs.dtype))
            steps = ops.shape(memory)[1]
            return outputs, ops.repeat(weights, steps, axis=2)
        keys = self.temporal_attention_layer.prepare_keys(memory)

        def step(state, known_t):
            h, c = state
            context, weights = self.temporal_attention_layer(
                [ops.concatenate([h, c], axis=-1), memory, keys],
                return_attention_scores=True,
                keys_prepared=True,
            )
            x = ops.concatenate([known_t, context], axis=-1)
            h, (h, c) = self.decoder.cell(x, [h, c], training=training)
            return (h, c), (ops.concatenate([h, context], axis=-1), weights)

        dtype = self.compute_dtype
        outputs, weights = scan_outputs(
            step, tuple(state), ops.transpose(future, (1, 0, 2)), dtypes=(dtype, dtype)
        )
        return ops.transpose(outputs, (1, 0, 2)), ops.transpose(weights, (1, 0, 2))

    def _quantiles(self, outputs, training):
        raw = self.head_output(self.head_hidden(self.head_dropout(outputs, training=training)))
        raw = ops.cast(raw, "float32")
        if not self.relative_to_naive:
            # The lowest quantile, then positive steps up: ordered whatever the weights.
            steps = ops.softplus(raw[..., 1:])
            return ops.concatenate([raw[..., :1], raw[..., :1] + ops.cumsum(steps, -1)], -1)
        # The median, then positive steps away from it on both sides (so that a zero output
        # is a zero median correction).
        m = self.median_index
        median = raw[..., m : m + 1]
        below = ops.flip(ops.cumsum(ops.flip(ops.softplus(raw[..., :m]), -1), -1), -1)
        above = ops.cumsum(ops.softplus(raw[..., m + 1 :]), -1)
        return ops.concatenate([median - below, median, median + above], -1)

    def _window_statistics(self, history):
        """Mean and standard deviation `[B, 1, 1]` of each window's target history (float32)."""
        target = ops.cast(history[..., :1], "float32")
        level = ops.mean(target, axis=1, keepdims=True)
        spread = ops.sqrt(ops.var(target, axis=1, keepdims=True) + 1e-5)
        return level, spread

    def forecast_with_attention(self, history, future, training=False):
        """`(quantiles [B, H, Q], input weights [B, L, F - 1], temporal weights [B, H, L])`."""
        naive = ops.cast(future[..., -1:], "float32") if self.relative_to_naive else None
        if self.instance_norm:
            level, spread = self._window_statistics(history)
            target = ops.cast(
                (ops.cast(history[..., :1], "float32") - level) / spread, history.dtype
            )
            history = ops.concatenate([target, history[..., 1:]], axis=-1)
            if naive is not None:  # normalized as the history it was read from
                normalized = ops.cast((naive - level) / spread, future.dtype)
                future = ops.concatenate([future[..., :-1], normalized], axis=-1)
        memory, state, input_weights = self._encode(history, training)
        outputs, temporal_weights = self._decode(future, memory, state, training)
        quantiles = self._quantiles(outputs, training)
        # A positive scale keeps the quantiles ordered.
        if naive is not None:
            quantiles = naive + (quantiles * spread if self.instance_norm else quantiles)
        elif self.instance_norm:
            quantiles = quantiles * spread + level
        return quantiles, input_weights, temporal_weights

    def call(self, inputs, training=False):
        history, future = inputs
        return self.forecast_with_attention(history, future, training=training)[0]

    def point_forecast(self, quantiles):
        """The median of `quantiles [..., Q]`."""
        return quantiles[..., self.median_index]

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_features": self.num_features,
                "num_known": self.num_known,
                "lookback": self.lookback,
                "units": self.units,
                "input_attention": self.input_attention,
                "temporal_attention": self.temporal_attention,
                "attention_units": self.attention_units,
                "head_units": self.head_units,
                "dropout": self.dropout,
                "instance_norm": self.instance_norm,
                "quantiles": list(self.quantiles),
                "relative_to_naive": self.relative_to_naive,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        # Models saved before `relative_to_naive` existed forecast absolute values.
        return cls(**{"relative_to_naive": False, **config})
