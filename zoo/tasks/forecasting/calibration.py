"""Calibration on the validation part after training: how much of the model's correction of
the seasonal naive forecast to keep, and prediction intervals that cover what they claim
(conformalized quantile regression).
"""

from __future__ import annotations

import math

import keras
import numpy as np

from zoo.data.panels import per_row, series_scales
from zoo.data.seasonality import seasonal_naive
from zoo.tasks.forecasting.pipeline import ForecastPipeline, raw_windows
from zoo.tasks.forecasting.predictor import ForecastPredictor

# Shares of the correction tried (0: the naive forecast itself).
CORRECTION_WEIGHTS = tuple(i / 10 for i in range(11))


def calibrate_correction(model: keras.Model, pipeline: ForecastPipeline, corpus) -> float:
    """Sets `pipeline.correction_weight` to the share of the model's correction of the naive
    forecast that gives the lowest validation MAE: a model that learned nothing useful (or
    overfitted) falls back to the seasonal naive forecast instead of below it."""
    pipeline.correction_weight = 1.0
    if not pipeline.naive_period or not corpus.validation:
        return 1.0
    predictor = ForecastPredictor(model, pipeline)
    raw = raw_windows(corpus.series, corpus.validation, pipeline.lookback, pipeline.horizon)
    forecast = predictor.forecast(raw["history"], raw["future"], raw["forecast_start"])["forecast"]
    naive = seasonal_naive(
        corpus.series.values[:, 0], np.asarray(corpus.validation), pipeline.horizon,
        pipeline.naive_period,
    )  # fmt: skip

    # In a panel each series weighs alike (errors in its own scale).
    scale = row_scales(pipeline, corpus)[np.asarray(corpus.validation)][:, None]

    def error(weight: float) -> float:
        return float(np.mean(np.abs(naive + weight * (forecast - naive) - raw["actual"]) / scale))

    # The largest weight among the best (the model's own forecast wins a tie).
    pipeline.correction_weight = min(CORRECTION_WEIGHTS, key=lambda w: (error(w), -w))
    return pipeline.correction_weight


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
    if pipeline.series_id:  # in units of each window's spread (`ForecastPipeline.widen`)
        target = (raw["history"][..., 0] - pipeline.mean[0]) / pipeline.std[0]
        spread = np.sqrt(target.var(axis=1) + 1e-5)[:, None, None] * pipeline.std[0]
        pipeline.interval_widening = conformal_widening(
            out["quantiles"] / spread, raw["actual"] / spread[..., 0], coverage
        )
    else:
        widening = conformal_widening(out["quantiles"], raw["actual"], coverage)
        pipeline.interval_widening = widening / pipeline.std[0]
    return pipeline.interval_widening


def row_scales(pipeline: ForecastPipeline, corpus) -> np.ndarray:
    """`[rows]`: each row's series' scale on the training part (`panels.series_scales`), by
    which a panel's series are weighed alike; ones for one series."""
    if not corpus.series.is_panel:
        return np.ones(len(corpus.series))
    return per_row(corpus.series, training_scales(pipeline, corpus))


def training_scales(pipeline: ForecastPipeline, corpus) -> dict[str, float]:
    """Each series' scale on the training part, by id (`panels.series_scales`)."""
    return series_scales(corpus.series, corpus.training_rows(), pipeline.season)


def conformal_widening(quantiles: np.ndarray, actual: np.ndarray, coverage: float) -> float:
    """What to add below the lowest quantile and above the highest of `quantiles [..., Q]` for
    them to cover `coverage` of `actual [...]`: the finite-sample-corrected quantile of how far
    each value lies outside the interval (negative inside)."""
    low, high = quantiles[..., 0], quantiles[..., -1]
    scores = np.maximum(low - actual, actual - high).ravel()
    rank = min(1.0, math.ceil((len(scores) + 1) * coverage) / len(scores))
    return float(np.quantile(scores, rank, method="higher"))
