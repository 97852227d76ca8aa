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
    low, high = out["quantiles"][..., 0], out["quantiles"][..., -1]
    scores = np.maximum(low - raw["actual"], raw["actual"] - high).ravel() / pipeline.std[0]
    coverage = levels[-1] - levels[0]
    rank = min(1.0, math.ceil((len(scores) + 1) * coverage) / len(scores))
    pipeline.interval_widening = float(np.quantile(scores, rank, method="higher"))
    return pipeline.interval_widening
