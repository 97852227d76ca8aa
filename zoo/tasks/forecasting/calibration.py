"""Calibration on the validation part after training: how much of the model's correction of
the seasonal naive forecast to keep, and prediction intervals that cover what they claim
(conformalized quantile regression).
"""

from __future__ import annotations

import math

import keras
import numpy as np

from zoo.data.panels import per_row, series_of_rows, series_scales
from zoo.data.seasonality import seasonal_naive
from zoo.tasks.forecasting.pipeline import ForecastPipeline, raw_windows
from zoo.tasks.forecasting.predictor import ForecastPredictor

# Shares of the correction tried (0: the naive forecast itself).
CORRECTION_WEIGHTS = tuple(i / 10 for i in range(11))


def calibrate_correction(model: keras.Model, pipeline: ForecastPipeline, corpus) -> float:
    """Sets `pipeline.correction_weight` to the share of the model's correction of the naive
    forecast kept (`one_standard_error_weight` over blocks of validation forecasts): a model
    that learned nothing useful, overfitted, or whose gain on validation is within its noise
    falls back towards the seasonal naive forecast instead of below it."""
    pipeline.correction_weight = 1.0
    if not pipeline.naive_period or not corpus.validation:
        return 1.0
    predictor = ForecastPredictor(model, pipeline)
    origins = np.asarray(corpus.validation)
    raw = raw_windows(corpus.series, origins, pipeline.lookback, pipeline.horizon)
    forecast = predictor.forecast(raw["history"], raw["future"], raw["forecast_start"])["forecast"]
    naive = seasonal_naive(corpus.series.values[:, 0], origins, pipeline.horizon,
                           pipeline.naive_period)  # fmt: skip

    # In a panel each series weighs alike (errors in its own scale).
    scale = row_scales(pipeline, corpus)[origins][:, None]
    weights = np.asarray(CORRECTION_WEIGHTS)[:, None, None]
    errors = np.abs(naive + weights * (forecast - naive) - raw["actual"]) / scale
    blocks = origin_blocks(corpus.series, origins, pipeline.horizon)
    by_block = np.stack([errors[:, blocks == b].mean(axis=(1, 2)) for b in np.unique(blocks)], 1)
    pipeline.correction_weight = CORRECTION_WEIGHTS[one_standard_error_weight(by_block)]
    return pipeline.correction_weight


def one_standard_error_weight(errors: np.ndarray) -> int:
    """The index of the smallest correction weight whose mean error is within one standard
    error of the best weight's (the one-standard-error rule of Breiman et al., 1984), from
    `errors [weights, blocks]`, weights in increasing order. The standard error is that of the
    blocks' paired differences from the best weight; with fewer than two blocks there is none,
    and the best weight is kept. A correction that changes no error (beyond float32 rounding)
    is all kept (a tie goes to the model)."""
    means = errors.mean(axis=1)
    best = max(np.flatnonzero(means == means.min()))
    if errors.shape[1] < 2 or np.allclose(errors, errors[best], rtol=1e-5, atol=0.0):
        return int(best)
    differences = errors - errors[best]
    standard_error = differences.std(axis=1, ddof=1) / math.sqrt(errors.shape[1])
    return int(np.flatnonzero(means - means[best] <= standard_error)[0])


def origin_blocks(series, origins: np.ndarray, horizon: int) -> np.ndarray:
    """`[origins]`: a block number for each forecast origin, so that forecasts whose target
    times overlap (origins closer than a horizon apart) fall in one block and blocks are
    nearly independent: consecutive origin times, `ceil(horizon / stride)` of them a block.
    A panel's series share the blocks of their common times."""
    origins = np.asarray(origins)
    _, rank = np.unique(series.times[origins], return_inverse=True)
    of_series = series_of_rows(series)[origins]
    first = np.sort(origins[of_series == of_series[0]])
    stride = int(np.median(np.diff(first))) if len(first) > 1 else horizon
    return rank // max(1, math.ceil(horizon / max(stride, 1)))


def calibrate_interval(model: keras.Model, pipeline: ForecastPipeline, corpus) -> list[float]:
    """Sets `pipeline.interval_widening` so the outermost quantiles cover their nominal share
    of the validation part at every lead time (conformalized quantile regression, Romano et
    al. 2019, one lead time at a time): the conformity score of each validation value is how
    far it lies outside the interval (negative inside), and the widening of each lead time is
    their finite-sample-corrected quantile over the validation forecasts."""
    pipeline.interval_widening = 0.0
    predictor = ForecastPredictor(model, pipeline)
    levels = predictor.levels
    if len(levels) < 3 or not corpus.validation:
        return [0.0]
    raw = raw_windows(corpus.series, corpus.validation, pipeline.lookback, pipeline.horizon)
    out = predictor.forecast(raw["history"], raw["future"], raw["forecast_start"])
    coverage = levels[-1] - levels[0]
    if pipeline.series_id:  # in units of each window's spread (`ForecastPipeline.widen`)
        target = (raw["history"][..., 0] - pipeline.mean[0]) / pipeline.std[0]
        spread = np.sqrt(target.var(axis=1) + 1e-5)[:, None, None] * pipeline.std[0]
        widening = conformal_widening(
            out["quantiles"] / spread, raw["actual"] / spread[..., 0], coverage
        )
    else:
        widening = conformal_widening(out["quantiles"], raw["actual"], coverage) / pipeline.std[0]
    pipeline.interval_widening = [float(w) for w in widening]
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


def conformal_widening(quantiles: np.ndarray, actual: np.ndarray, coverage: float) -> np.ndarray:
    """`[horizon]`: what to add below the lowest quantile and above the highest of `quantiles
    [origins, horizon, Q]`, lead time by lead time, for them to cover `coverage` of `actual
    [origins, horizon]`: at each lead, the finite-sample-corrected quantile over the origins of
    how far each value lies outside the interval (negative inside). Per lead time because
    errors grow with it, and because the steps of one forecast are not exchangeable: pooling
    them would count one bad day as many independent misses and under-cover."""
    low, high = quantiles[..., 0], quantiles[..., -1]
    scores = np.maximum(low - actual, actual - high)
    count = len(scores)
    rank = min(1.0, math.ceil((count + 1) * coverage) / count)
    return np.quantile(scores, rank, axis=0, method="higher")
