"""Forecasting's pipeline: windows of a series, scaling with training statistics and calendar
features computed from the forecast's start time.

One TensorFlow function (`ForecastPipeline.prepare`) turns raw windows into model inputs in
training, in `predict` and in the exported SavedModel. The model sees scaled values;
predictors return raw units.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from zoo.data.calendar_steps import months_per_step
from zoo.data.panels import per_row, series_of_rows, series_scales, shortest_series
from zoo.data.seasonality import best_naive_period
from zoo.data.timeseries import Series, SeriesCorpus
from zoo.runs import read_json
from zoo.tasks.forecasting.calendar_features import calendar_at, calendar_for, calendar_names

PIPELINE_FILE = "series.json"
SERIES_DATASETS = ("elecdemand", "chicago-ridership")
SEEN_SAMPLE = 300  # rows of the part a run read, kept to recognize its series later


@dataclass
class ForecastPipeline:
    """Window layout, scaling statistics (training part only) and the seasonal scale."""

    columns: list[str]  # target first, then the covariates (all known over the horizon)
    step: int  # seconds between rows
    lookback: int
    horizon: int
    mean: list[float]
    std: list[float]
    mase_scale: float  # in-sample MAE of the seasonal naive forecast (MASE's denominator)
    season: int  # rows of that season
    # Added below the median and above it (scaled units), one per lead time, calibrated on the
    # validation part after training (conformalized quantile regression); 0 until then.
    interval_widening: float | list[float] = 0.0
    # The seasonal periods found in the training part, as [name, rows].
    periods: list = field(default_factory=list)
    # Rows back of the seasonal naive forecast the model gets as its last known input and
    # forecasts relative to: the period (or 1, the last value) whose naive forecast was best
    # on the training part. None in runs from before it (no such input).
    naive_period: int | None = None
    # How much of the model's correction of that naive forecast is kept (0-1), chosen on the
    # validation part after training: 0 where the naive forecast was better there.
    correction_weight: float = 1.0
    # Time (seconds) of the last row that training, early stopping or calibration read, and
    # [time, target] of a few hundred of those rows: `zoo evaluate` tells the run's own
    # series by them (and scores only what follows).
    seen_until: int | None = None
    seen_sample: list = field(default_factory=list)  # [time, value (, series id)]
    # Many series (`zoo.data.panels`): the CSV column of the series id ("" for one series);
    # the calibrated interval widening is then in units of each window's spread.
    series_id: str = ""
    # The calendar features' names (`calendar_features`); None in runs from before they were
    # chosen by the periods found (the step's defaults).
    calendar: list | None = None

    @classmethod
    def fit(
        cls, corpus: SeriesCorpus, lookback: int, horizon: int, series_id: str = ""
    ) -> ForecastPipeline:
        series = corpus.series
        rows = corpus.training_rows()
        train = series.values[rows]
        std = train.std(axis=0)
        season = _season(series, shortest_series(series) if series.is_panel else len(rows))
        scales = series_scales(series, rows, season)
        candidates = [1, *(p.rows for p in corpus.periods if p.rows <= lookback)]
        # Ranked on the validation part where it holds enough forecasts (nearest the future),
        # else on up to a few thousand training origins (evenly spread); each series weighs
        # alike (errors in its own scale).
        if len(corpus.validation) >= 30:
            ranked_on = np.asarray(corpus.validation)
        else:
            ranked_on = np.asarray(corpus.train[:: max(1, len(corpus.train) // 4000)])
        naive = best_naive_period(series.values[:, 0], ranked_on, horizon, candidates,
                                  per_row(series, scales)[ranked_on])  # fmt: skip
        validation = np.asarray(corpus.validation, dtype="int64")
        seen = rows if not len(validation) else np.flatnonzero(
            series.times <= series.times[validation + horizon - 1].max()
        )  # fmt: skip
        sample = seen[np.linspace(0, len(seen) - 1, min(SEEN_SAMPLE, len(seen))).astype(int)]
        of_row = series_of_rows(series)
        return cls(
            columns=list(series.columns),
            step=series.step,
            lookback=lookback,
            horizon=horizon,
            mean=[float(v) for v in train.mean(axis=0)],
            std=[float(v) if v > 0 else 1.0 for v in std],  # a constant column stays as is
            # One series: its own; a panel: the mean over its series (each series' forecasts
            # are scored against their own, `scoring.forecast_windows`).
            mase_scale=float(np.mean(list(scales.values()))),
            season=season,
            periods=[[p.name, p.rows] for p in corpus.periods],
            naive_period=naive,
            seen_until=int(series.times[seen].max()),
            seen_sample=[
                [
                    int(series.times[i]),
                    float(series.values[i, 0]),
                    *([series.ids[of_row[i]]] if series.is_panel else []),
                ]
                for i in sample
            ],  # fmt: skip
            series_id=series_id,
            calendar=list(calendar_for(series.step, corpus.periods)),
        )

    def save(self, directory: str | Path) -> None:
        Path(directory, PIPELINE_FILE).write_text(json.dumps(self.__dict__, indent=2))

    @classmethod
    def load(cls, directory: str | Path) -> ForecastPipeline:
        return cls(**read_json(Path(directory, PIPELINE_FILE)))

    @property
    def target(self) -> str:
        return self.columns[0]

    @property
    def covariates(self) -> list[str]:
        return self.columns[1:]

    @property
    def history_features(self) -> list[str]:
        return [*self.columns, *calendar_names(self.step, self.calendar)]

    def layout(self) -> dict[str, Any]:
        """What a caller needs to shape inputs (recorded in exports)."""
        return {
            "columns": self.columns,
            "step": self.step,
            "lookback": self.lookback,
            "horizon": self.horizon,
            "periods": self.periods,
            "seen_until": self.seen_until,
            "seen_sample": self.seen_sample,
            **({"series_id": self.series_id} if self.series_id else {}),
            **({"calendar": self.calendar} if self.calendar else {}),
        }

    # -- raw windows ---------------------------------------------------------------------

    def windows(self, series: Series, origins: Sequence[int]) -> dict[str, np.ndarray]:
        return raw_windows(series, origins, self.lookback, self.horizon)

    # -- model inputs (the same graph in training, predict and serving) ---------------------

    def prepare(self, history, future, forecast_start):
        """Scaled inputs with calendar features: `(history [B, L, F + 4], future [B, H, C + 4
        (+ 1)])`, the future ending with the seasonal naive forecast where the pipeline has
        one (`naive_period`)."""
        mean = tf.constant(self.mean, tf.float32)
        std = tf.constant(self.std, tf.float32)
        start = tf.cast(forecast_start, tf.int64)[:, None]
        steps_ahead = tf.shape(future, out_type=tf.int64)[1]
        past = tf.range(-self.lookback, 0, dtype=tf.int64)[None]
        ahead = tf.range(steps_ahead, dtype=tf.int64)[None]
        # Checked in the graph, so that the export refuses what the library refuses.
        history = check_scale((history - mean) / std, "history")
        future = check_scale((future - mean[1:]) / std[1:], "future")
        names = calendar_names(self.step, self.calendar)
        known = [future, calendar_at(start, ahead, self.step, names)]
        if self.naive_period:
            known.append(self.naive_forecast(history[..., 0], steps_ahead)[..., None])
        history = tf.concat([history, calendar_at(start, past, self.step, names)], axis=-1)
        return history, tf.concat(known, axis=-1)

    def naive_forecast(self, history, steps):
        """The seasonal naive forecast `[B, steps]` of `naive_period` read from the (scaled)
        target `history [B, lookback]`: each step's value one period (or more) back."""
        period = self.naive_period
        offsets = tf.math.floormod(tf.range(steps, dtype=tf.int64), period)
        return tf.gather(history, self.lookback - period + offsets, axis=1)

    def shrink(self, quantiles, future, median_index: int):
        """Keeps `correction_weight` of the distance between the median of `quantiles
        [B, H, Q]` and the naive forecast (`future`'s last column, both scaled), moving every
        quantile with the median."""
        if not self.naive_period or self.correction_weight == 1.0:
            return quantiles
        correction = quantiles[..., median_index] - tf.cast(future[..., -1], quantiles.dtype)
        return quantiles - (1.0 - self.correction_weight) * correction[..., None]

    def widen(self, quantiles, levels: Sequence[float], history=None):
        """Moves the quantiles below the median down and those above it up by the calibrated
        widening of each lead time (never across the median; steps past the horizon take the
        last lead's); for a panel, times the spread of each window's (scaled) target `history
        [B, L, ...]`. Runs from before the widening was per lead hold one number."""
        widening = np.atleast_1d(np.asarray(self.interval_widening, "float32"))
        if not widening.any():
            return quantiles
        median = quantiles[..., levels.index(0.5)][..., None]
        side = tf.constant([float(np.sign(q - 0.5)) for q in levels], tf.float32)
        lead = tf.minimum(tf.range(tf.shape(quantiles)[1]), len(widening) - 1)
        amount = tf.gather(tf.constant(widening), lead)[None, :, None]
        if self.series_id:
            amount *= window_spread(history[..., 0])[:, None, None]
        moved = quantiles + side * amount
        return tf.where(side < 0, tf.minimum(moved, median), tf.maximum(moved, median))

    def scale_target(self, values):
        return (values - self.mean[0]) / self.std[0]

    def unscale_target(self, values):
        return values * self.std[0] + self.mean[0]

    def dataset(
        self,
        series: Series,
        origins: Sequence[int],
        batch_size: int,
        shuffle=False,
        seed=0,
        weights: np.ndarray | None = None,
    ) -> tf.data.Dataset:
        """Model inputs and scaled targets at `origins`, with `weights [origins]` (a panel's
        series weights) if given."""
        windows = self.windows(series, origins)
        history, future = self.prepare(
            tf.constant(windows["history"]),
            tf.constant(windows["future"]),
            tf.constant(windows["forecast_start"]),
        )
        target = self.scale_target(windows["actual"]).astype("float32")
        examples = (history, future), target
        if weights is not None:  # one per forecast step, as the loss has them
            weights = np.repeat(np.asarray(weights, "float32")[:, None], target.shape[1], 1)
            examples = (*examples, weights)
        data = tf.data.Dataset.from_tensor_slices(examples)
        if shuffle:
            data = data.shuffle(len(target), seed=seed, reshuffle_each_iteration=True)
        return data.batch(batch_size).prefetch(2)


def raw_windows(
    series: Series, origins: Sequence[int], lookback: int, horizon: int
) -> dict[str, np.ndarray]:
    """Raw model inputs and actual values of the forecasts made at `origins`: the `lookback`
    rows before each origin, the covariates of the `horizon` rows from it, and its time."""
    origins = np.asarray(origins, dtype="int64")
    past = origins[:, None] + np.arange(-lookback, 0)
    ahead = origins[:, None] + np.arange(horizon)
    return {
        "history": series.values[past].astype("float32"),
        "future": series.values[ahead][:, :, 1:].astype("float32"),
        "forecast_start": series.times[origins],
        "actual": series.values[ahead][:, :, 0],
    }


# Scaled values further than this from the training data's mean (in its standard deviations)
# are a unit mix-up or a broken sensor, not a series: the model's forecast would overflow.
MAX_SCALED = 1e6


def check_scale(scaled, name: str):
    """`scaled` inputs, or an `InvalidArgumentError` naming `name` when they hold NaN,
    infinities or values far outside the training data's scale."""
    scaled = tf.debugging.assert_all_finite(
        scaled,
        f"`{name}` holds NaN or infinite values (or values beyond float32); fill them first.",
    )
    limit = tf.debugging.assert_less_equal(
        tf.reduce_max(tf.abs(scaled)),
        tf.constant(MAX_SCALED, scaled.dtype),
        message=f"`{name}` holds values over {MAX_SCALED:g} standard deviations from the "
        "training data's mean: check the units, or remove the spike.",
    )
    with tf.control_dependencies([limit]):
        return tf.identity(scaled)


def window_spread(target):
    """The standard deviation of each window's target history `[B, L]` (as the models'
    instance normalization computes it)."""
    return tf.sqrt(tf.math.reduce_variance(target, axis=1) + 1e-5)


def series_weights(series: Series, origins: Sequence[int], scales: dict[str, float]):
    """Training weights `[origins]` under which every series counts alike: each window's
    weight is inversely proportional to its series' scale (`panels.series_scales`), so the loss
    is MASE-like and the busiest station does not drown the quiet ones; mean 1."""
    weights = 1.0 / per_row(series, scales)[np.asarray(origins)]
    return weights / weights.mean()


def _season(series: Series, train_rows: int) -> int:
    """The longest of week / day / one step that fits the training part twice (a year of
    months or quarters)."""
    per_day = series.rows_per_day
    seasons = (7 * per_day, per_day) if per_day else ()
    if months_per_step(series.step):
        seasons = (12 // months_per_step(series.step),)
    for season in seasons:
        if train_rows > 2 * season:
            return season
    return 1
