"""Prediction intervals that cover what they claim: conformalized quantile regression on the
validation part.
"""

from __future__ import annotations

import math

import keras
import numpy as np

from zoo.tasks.forecasting.pipeline import ForecastPipeline, raw_windows
from zoo.tasks.forecasting.predictor import ForecastPredictor


def calibrate_interval(model: keras.Model, pipeline: ForecastPipeline, corpus) -> float:
    """Sets `pipeline.interval_widening` so the outermost quantiles cover their nominal share
    of the validation part (conformalized quantile regression, Romano et al. 2019): the
    conformity score of each validation value is how far it lies outside the interval
    (negative inside), and the widening is their finite-sample-corrected quantile."""
    pipeline.interval_widening = 0.0
    predictor = ForecastPredictor(model, pipeline)
    levels = predictor.levels
    if len(levels) < 3 or not corpus.validation:
        return 0.0
    raw = raw_windows(corpus.series, corpus.validation, pipeline.lookback, pipeline.horizon)
    out = predictor.forecast(raw["history"], raw["future"], raw["forecast_start"])
    coverage = levels[-1] - levels[0]
    widening = conformal_widening(out["quantiles"], raw["actual"], coverage)
    pipeline.interval_widening = widening / pipeline.std[0]
    return pipeline.interval_widening


def conformal_widening(quantiles: np.ndarray, actual: np.ndarray, coverage: float) -> float:
    """What to add below the lowest quantile and above the highest of `quantiles [..., Q]` for
    them to cover `coverage` of `actual [...]`: the finite-sample-corrected quantile of how far
    each value lies outside the interval (negative inside)."""
    low, high = quantiles[..., 0], quantiles[..., -1]
    scores = np.maximum(low - actual, actual - high).ravel()
    rank = min(1.0, math.ceil((len(scores) + 1) * coverage) / len(scores))
    return float(np.quantile(scores, rank, method="higher"))
