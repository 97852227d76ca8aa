"""Forecast predictors: a trained `Forecaster` with its pipeline (`ForecastPredictor`, raw
units in and out), and an exported SavedModel answering the same way (`ExportedForecaster`).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from zoo.decoding.compiled import backend_compiled
from zoo.tasks.forecasting.pipeline import ForecastPipeline


class ForecastPredictor:
    """A trained `Forecaster` with its pipeline: raw windows in, raw-unit forecasts out."""

    task_name = "forecasting"  # what `zoo.export` exports it as

    def __init__(self, model: keras.Model, pipeline: ForecastPipeline):
        self.model = model
        self.pipeline = pipeline
        self.levels = list(model.quantiles)
        self.layout = pipeline.layout()
        self.mase_scale = pipeline.mase_scale
        if keras.backend.backend() == "tensorflow":
            signature = [
                tf.TensorSpec([None, pipeline.lookback, len(pipeline.columns)], tf.float32),
                tf.TensorSpec([None, None, len(pipeline.covariates)], tf.float32),
                tf.TensorSpec([None], tf.int64),
            ]
            self._run = tf.function(self.run_raw, input_signature=signature, autograph=False)
        else:  # the model compiled by the backend between the pipeline's TF ops, run eagerly
            self._model = compiled_forecast(model)
            self._run = self._run_between

    def run_raw(self, history, future, forecast_start):
        """The graph every prediction goes through on TensorFlow (also the export's)."""
        inputs = self.pipeline.prepare(history, future, forecast_start)
        return self.finish(self.model.forecast_with_attention(*inputs), inputs)

    def _run_between(self, history, future, forecast_start):
        """`run_raw` on another backend: the same pipeline ops, the model compiled apart."""
        inputs = self.pipeline.prepare(history, future, forecast_start)
        outputs = self._model(*(np.asarray(x) for x in inputs))
        return self.finish([tf.constant(x) for x in outputs], inputs)

    def finish(self, outputs, inputs) -> dict:
        """Raw-unit quantiles (shrunk towards the naive forecast, widened as calibrated) and
        the attention weights of the model's `(scaled quantiles, input and temporal
        attention)` for `inputs`."""
        quantiles, input_weights, temporal_weights = outputs
        quantiles = tf.cast(quantiles, tf.float32)
        quantiles = self.pipeline.shrink(quantiles, inputs[1], self.model.median_index)
        quantiles = self.pipeline.widen(quantiles, self.levels, inputs[0])
        quantiles = self.pipeline.unscale_target(quantiles)
        return {
            "forecast": quantiles[..., self.model.median_index],
            "quantiles": quantiles,
            "input_attention": tf.cast(input_weights, tf.float32),
            "temporal_attention": tf.cast(temporal_weights, tf.float32),
        }

    def forecast(self, history, future, forecast_start, batch_size: int = 256) -> dict:
        """Forecasts (numpy, raw units) of raw windows, in batches."""
        history, future, forecast_start = _check_windows(
            self.layout, history, future, forecast_start
        )
        with refused_inputs_as_value_errors():
            parts = [
                self._run(
                    tf.constant(history[i : i + batch_size]),
                    tf.constant(future[i : i + batch_size]),
                    tf.constant(forecast_start[i : i + batch_size]),
                )
                for i in range(0, len(history), batch_size)
            ]
        return {key: np.concatenate([p[key].numpy() for p in parts]) for key in parts[0]}


def compiled_forecast(model: keras.Model):
    """`model.forecast_with_attention` as the JAX backend compiles it (`jax.jit`, one
    compilation per batch size) or PyTorch runs it (eagerly, without gradients): numpy
    `(history, future)` in, numpy `(quantiles, input attention, temporal attention)` out."""

    def run(history, future):
        return tuple(model.forecast_with_attention(history, future))

    run = backend_compiled(run)
    return lambda history, future: tuple(
        keras.ops.convert_to_numpy(x) for x in run(history, future)
    )


class ExportedForecaster:
    """A forecasting SavedModel queried through its signatures, answering like the predictor."""

    def __init__(self, loaded: Any, about: dict):
        self.loaded = loaded
        self.levels = about["quantiles"]
        self.layout = {key: about[key] for key in ("columns", "step", "lookback", "horizon")}
        # Recorded by exports since seasonal periods are detected (older ones lack them).
        self.layout.update(
            {
                key: about[key]
                for key in ("periods", "seen_until", "seen_sample", "series_id")
                if key in about
            }
        )
        self.mase_scale = about["mase_scale"]

    def forecast(self, history, future, forecast_start, batch_size: int = 256) -> dict:
        history, future, forecast_start = _check_windows(
            self.layout, history, future, forecast_start
        )
        signature = self.loaded.signatures["attention"]
        with refused_inputs_as_value_errors():
            out = signature(
                history=tf.constant(history),
                future=tf.constant(future),
                forecast_start=tf.constant(forecast_start),
            )
        return {key: value.numpy() for key, value in out.items()}


@contextlib.contextmanager
def refused_inputs_as_value_errors() -> Iterator[None]:
    """The graph's input checks (`pipeline.check_scale`) as the `ValueError` the library raises
    for bad input, with the check's own message."""
    try:
        yield
    except tf.errors.InvalidArgumentError as error:
        # TensorFlow wraps the check's message in its own lines ("Graph execution error" ...).
        found = re.search(r"`(history|future)` holds [^\n]*", error.message)
        raise ValueError(found.group(0) if found else error.message.strip()) from None


def _check_windows(layout: dict, history, future, forecast_start) -> tuple:
    history = np.asarray(history, dtype="float32")
    future = np.asarray(future, dtype="float32")
    forecast_start = np.asarray(forecast_start, dtype="int64").reshape(-1)
    features = len(layout["columns"])
    expected = f"[batch, {layout['lookback']}, {features}] ({', '.join(layout['columns'])})"
    if history.ndim != 3 or history.shape[1:] != (layout["lookback"], features):
        raise ValueError(f"`history` must be {expected}, received shape {history.shape}.")
    if future.ndim != 3 or future.shape[2] != features - 1 or future.shape[1] < 1:
        raise ValueError(
            f"`future` must be [batch, steps >= 1, {features - 1}] (the covariates "
            f"{layout['columns'][1:]}), received shape {future.shape}."
        )
    if not (len(history) == len(future) == len(forecast_start)):
        raise ValueError(
            f"history ({len(history)}), future ({len(future)}) and forecast_start "
            f"({len(forecast_start)}) must hold the same number of windows."
        )
    for name, values in (("history", history), ("future", future)):
        if not np.isfinite(values).all():
            raise ValueError(f"`{name}` holds NaN or infinite values; fill them first.")
    return history, future, forecast_start
