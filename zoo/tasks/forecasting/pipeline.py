"""Forecasting's pipeline: windows of a series, scaling with training statistics and calendar
features computed from the forecast's start time.

One TensorFlow function (`ForecastPipeline.prepare`) turns raw windows into model inputs in
training, in `predict` and in the exported SavedModel. The model sees scaled values;
predictors return raw units.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from zoo.data.seasonality import best_naive_period
from zoo.data.timeseries import (
    DAY,
    Series,
    SeriesCorpus,
    read_series_csv,
)
from zoo.data.tsv import DataFileError
from zoo.runs import read_json

PIPELINE_FILE = "series.json"
CALENDAR = ("time_of_day_sin", "time_of_day_cos", "day_of_week_sin", "day_of_week_cos")
SERIES_DATASETS = ("elecdemand",)
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
    # Added below the median and above it (scaled units), calibrated on the validation part
    # after training (conformalized quantile regression); 0 until then.
    interval_widening: float = 0.0
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
    seen_sample: list = field(default_factory=list)

    @classmethod
    def fit(cls, corpus: SeriesCorpus, lookback: int, horizon: int) -> ForecastPipeline:
        series = corpus.series
        train = series.values[: corpus.train_end]
        std = train.std(axis=0)
        target = train[:, 0]
        season = _season(series, len(target))
        scale = float(np.mean(np.abs(target[season:] - target[:-season])))
        candidates = [1, *(p.rows for p in corpus.periods if p.rows <= lookback)]
        # Ranked on the validation part where it holds enough forecasts (nearest the future),
        # else on up to a few thousand training origins (evenly spread).
        if len(corpus.validation) >= 30:
            ranked_on = np.asarray(corpus.validation)
        else:
            ranked_on = np.asarray(corpus.train[:: max(1, len(corpus.train) // 4000)])
        naive = best_naive_period(series.values[:, 0], ranked_on, horizon, candidates)
        validation = corpus.validation
        last_seen = validation[-1] + horizon - 1 if validation else corpus.train_end - 1
        return cls(
            columns=list(series.columns),
            step=series.step,
            lookback=lookback,
            horizon=horizon,
            mean=[float(v) for v in train.mean(axis=0)],
            std=[float(v) if v > 0 else 1.0 for v in std],  # a constant column stays as is
            mase_scale=scale if scale > 0 else 1.0,
            season=season,
            periods=[[p.name, p.rows] for p in corpus.periods],
            naive_period=naive,
            seen_until=int(series.times[last_seen]),
            seen_sample=[
                [int(series.times[i]), float(series.values[i, 0])]
                for i in np.linspace(0, last_seen, min(SEEN_SAMPLE, last_seen + 1)).astype(int)
            ],
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
        return [*self.columns, *CALENDAR]

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
        past_times = start + self.step * tf.range(-self.lookback, 0, dtype=tf.int64)[None]
        future_times = start + self.step * tf.range(steps_ahead, dtype=tf.int64)[None]
        # Checked in the graph, so that the export refuses what the library refuses.
        history = check_scale((history - mean) / std, "history")
        future = check_scale((future - mean[1:]) / std[1:], "future")
        known = [future, calendar(future_times)]
        if self.naive_period:
            known.append(self.naive_forecast(history[..., 0], steps_ahead)[..., None])
        history = tf.concat([history, calendar(past_times)], axis=-1)
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

    def widen(self, quantiles, levels: Sequence[float]):
        """Moves the quantiles below the median down and those above it up by the calibrated
        widening (never across the median)."""
        if not self.interval_widening:
            return quantiles
        median = quantiles[..., levels.index(0.5)][..., None]
        side = tf.constant([float(np.sign(q - 0.5)) for q in levels], tf.float32)
        moved = quantiles + side * self.interval_widening
        return tf.where(side < 0, tf.minimum(moved, median), tf.maximum(moved, median))

    def scale_target(self, values):
        return (values - self.mean[0]) / self.std[0]

    def unscale_target(self, values):
        return values * self.std[0] + self.mean[0]

    def dataset(
        self, series: Series, origins: Sequence[int], batch_size: int, shuffle=False, seed=0
    ) -> tf.data.Dataset:
        windows = self.windows(series, origins)
        history, future = self.prepare(
            tf.constant(windows["history"]),
            tf.constant(windows["future"]),
            tf.constant(windows["forecast_start"]),
        )
        target = self.scale_target(windows["actual"]).astype("float32")
        data = tf.data.Dataset.from_tensor_slices(((history, future), target))
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


def calendar(times):
    """Time of day and day of week as points on circles, from int64 seconds `[..., T]`."""
    day_fraction = tf.cast(tf.math.floormod(times, DAY), tf.float32) / DAY
    # 1970-01-01 was a Thursday: +3 makes Monday 0.
    week_fraction = tf.cast(tf.math.floormod(tf.math.floordiv(times, DAY) + 3, 7), tf.float32) / 7
    angles = 2 * math.pi * tf.stack([day_fraction, week_fraction], axis=-1)
    return tf.concat([tf.sin(angles[..., :1]), tf.cos(angles[..., :1]),
                      tf.sin(angles[..., 1:]), tf.cos(angles[..., 1:])], axis=-1)  # fmt: skip


def _season(series: Series, train_rows: int) -> int:
    """The longest of week / day / one step that fits the training part twice."""
    per_day = series.rows_per_day
    for season in (7 * per_day, per_day) if per_day else ():
        if train_rows > 2 * season:
            return season
    return 1


def check_layout(series: Series, layout: dict) -> None:
    """Raises unless `series` has the columns (target first) and step the model was trained on."""
    if list(series.columns) != layout["columns"]:
        raise DataFileError(
            f"{series.name} has columns {list(series.columns)}; the model takes "
            f"{layout['columns']} (target first)."
        )
    if series.step != layout["step"]:
        raise DataFileError(
            f"{series.name} has a row every {series.step} s; the model was trained on one "
            f"every {layout['step']} s."
        )


def csv_window(layout: dict, path: str | Path) -> dict[str, Any]:
    """The model inputs of a recent-data CSV: the last `lookback` rows with a target are the
    history; rows after them with an empty target (and their covariates) the future."""
    series, known = read_series_csv(path, layout["columns"][0], allow_future=True)
    check_layout(series, layout)
    lookback, horizon = layout["lookback"], layout["horizon"]
    if known < lookback:
        raise DataFileError(
            f"{path} has {known} rows with a value of {layout['columns'][0]!r}; the model reads "
            f"the last {lookback}."
        )
    future = series.values[known:, 1:]
    times = series.times[known:]
    if not len(future):
        if len(layout["columns"]) > 1:
            raise DataFileError(
                f"{path} has no rows to forecast: append up to {horizon} rows with the time, the "
                f"covariates {layout['columns'][1:]} and an empty {layout['columns'][0]!r}."
            )
        times = series.times[-1] + series.step * np.arange(1, horizon + 1)
        future = np.zeros((horizon, 0))
    if len(future) > horizon:
        raise DataFileError(
            f"{path} asks for {len(future)} steps ahead; the model forecasts at most {horizon}."
        )
    return {
        "history": series.values[known - lookback : known].astype("float32"),
        "future": future.astype("float32"),
        "forecast_start": int(times[0]),
        "times": times,
    }
