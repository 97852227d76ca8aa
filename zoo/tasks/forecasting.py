"""Forecasting as a task: windows of a series, scaling and calendar features, pinball loss,
the metrics forecasters are judged by (beside seasonal naive baselines), plots and serving.

One TensorFlow function (`ForecastPipeline.prepare`) turns raw windows into model inputs in
training, in `predict` and in the exported SavedModel: scaling with training statistics and
calendar features computed from the forecast's start time. The model sees scaled values;
predictors return raw units.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from zoo import plots
from zoo.data.timeseries import (
    DAY,
    Series,
    SeriesCorpus,
    Windows,
    check_length,
    load_elecdemand,
    read_series_csv,
    split_series,
    to_iso,
)
from zoo.data.tsv import DataFileError, check_data_file
from zoo.metrics import forecast_metrics
from zoo.tasks.base import Task
from zoo.tasks.settings import FORECASTING

PIPELINE_FILE = "series.json"
CALENDAR = ("time_of_day_sin", "time_of_day_cos", "day_of_week_sin", "day_of_week_cos")
SERIES_DATASETS = ("elecdemand",)


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

    @classmethod
    def fit(cls, corpus: SeriesCorpus, lookback: int, horizon: int) -> ForecastPipeline:
        series = corpus.series
        train = series.values[: corpus.train_end]
        std = train.std(axis=0)
        target = train[:, 0]
        season = _season(series, len(target))
        scale = float(np.mean(np.abs(target[season:] - target[:-season])))
        return cls(
            columns=list(series.columns),
            step=series.step,
            lookback=lookback,
            horizon=horizon,
            mean=[float(v) for v in train.mean(axis=0)],
            std=[float(v) if v > 0 else 1.0 for v in std],  # a constant column stays as is
            mase_scale=scale if scale > 0 else 1.0,
            season=season,
        )

    def save(self, directory: str | Path) -> None:
        Path(directory, PIPELINE_FILE).write_text(json.dumps(self.__dict__, indent=2))

    @classmethod
    def load(cls, directory: str | Path) -> ForecastPipeline:
        return cls(**json.loads(Path(directory, PIPELINE_FILE).read_text()))

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
        }

    # -- raw windows ---------------------------------------------------------------------

    def windows(self, series: Series, origins: Sequence[int]) -> dict[str, np.ndarray]:
        return raw_windows(series, origins, self.lookback, self.horizon)

    # -- model inputs (the same graph in training, predict and serving) ---------------------

    def prepare(self, history, future, forecast_start):
        """Scaled inputs with calendar features: `(history [B, L, F + 4], future [B, H, C + 4])`."""
        mean = tf.constant(self.mean, tf.float32)
        std = tf.constant(self.std, tf.float32)
        start = tf.cast(forecast_start, tf.int64)[:, None]
        steps_ahead = tf.shape(future, out_type=tf.int64)[1]
        past_times = start + self.step * tf.range(-self.lookback, 0, dtype=tf.int64)[None]
        future_times = start + self.step * tf.range(steps_ahead, dtype=tf.int64)[None]
        history = tf.concat([(history - mean) / std, calendar(past_times)], axis=-1)
        future = tf.concat([(future - mean[1:]) / std[1:], calendar(future_times)], axis=-1)
        return history, future

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


def pinball_loss(levels: Sequence[float]):
    """The mean pinball (quantile) loss of `y_pred [B, H, Q]` against `y_true [B, H]`."""
    levels = tuple(float(q) for q in levels)

    def pinball(y_true, y_pred):
        q = keras.ops.convert_to_tensor(levels, dtype="float32")
        residual = keras.ops.expand_dims(keras.ops.cast(y_true, "float32"), -1) - y_pred
        return keras.ops.mean(keras.ops.maximum(q * residual, (q - 1.0) * residual), axis=-1)

    return pinball


class MedianAbsoluteError(keras.metrics.MeanMetricWrapper):
    """MAE of the median forecast, in scaled units (what training shows per epoch)."""

    def __init__(self, median_index: int, name: str = "mae", **kwargs):
        def median_error(y_true, y_pred):
            return keras.ops.abs(keras.ops.cast(y_true, "float32") - y_pred[..., median_index])

        super().__init__(median_error, name=name, **kwargs)


# -- predictors -----------------------------------------------------------------------------


class ForecastPredictor:
    """A trained `Forecaster` with its pipeline: raw windows in, raw-unit forecasts out."""

    def __init__(self, model: keras.Model, pipeline: ForecastPipeline):
        self.model = model
        self.pipeline = pipeline
        self.levels = list(model.quantiles)
        self.layout = pipeline.layout()
        self.mase_scale = pipeline.mase_scale
        signature = [
            tf.TensorSpec([None, pipeline.lookback, len(pipeline.columns)], tf.float32),
            tf.TensorSpec([None, None, len(pipeline.covariates)], tf.float32),
            tf.TensorSpec([None], tf.int64),
        ]
        self._run = tf.function(self.run_raw, input_signature=signature)

    def run_raw(self, history, future, forecast_start):
        """The graph every prediction goes through (also the export's)."""
        inputs = self.pipeline.prepare(history, future, forecast_start)
        quantiles, input_weights, temporal_weights = self.model.forecast_with_attention(*inputs)
        quantiles = self.pipeline.widen(tf.cast(quantiles, tf.float32), self.levels)
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
        parts = [
            self._run(
                tf.constant(history[i : i + batch_size]),
                tf.constant(future[i : i + batch_size]),
                tf.constant(forecast_start[i : i + batch_size]),
            )
            for i in range(0, len(history), batch_size)
        ]
        return {key: np.concatenate([p[key].numpy() for p in parts]) for key in parts[0]}


class ExportedForecaster:
    """A forecasting SavedModel queried through its signatures, answering like the predictor."""

    def __init__(self, loaded: Any, about: dict):
        self.loaded = loaded
        self.levels = about["quantiles"]
        self.layout = {key: about[key] for key in ("columns", "step", "lookback", "horizon")}
        self.mase_scale = about["mase_scale"]

    def forecast(self, history, future, forecast_start, batch_size: int = 256) -> dict:
        history, future, forecast_start = _check_windows(
            self.layout, history, future, forecast_start
        )
        signature = self.loaded.signatures["attention"]
        out = signature(
            history=tf.constant(history),
            future=tf.constant(future),
            forecast_start=tf.constant(forecast_start),
        )
        return {key: value.numpy() for key, value in out.items()}


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


# -- serving --------------------------------------------------------------------------------


class ForecastServing:
    """The serving functions of a `ForecastPredictor` (raw units in and out).

    serving_default: {"history": float32[batch, lookback, features],
                      "future": float32[batch, steps, covariates],
                      "forecast_start": int64[batch] (seconds since 1970 of the first step)}
                     -> {"forecast": float32[batch, steps], "quantiles": [batch, steps, Q]}
    attention:       the same inputs -> also "input_attention" [batch, lookback, covariates + 4]
                     and "temporal_attention" [batch, steps, lookback]
    """

    def __init__(self, predictor: ForecastPredictor):
        self.predictor = predictor
        pipeline = predictor.pipeline
        self.signature = [
            tf.TensorSpec(
                [None, pipeline.lookback, len(pipeline.columns)], tf.float32, name="history"
            ),
            tf.TensorSpec([None, None, len(pipeline.covariates)], tf.float32, name="future"),
            tf.TensorSpec([None], tf.int64, name="forecast_start"),
        ]

    def archive(self) -> keras.export.ExportArchive:
        archive = keras.export.ExportArchive()
        archive.track(self.predictor.model)
        archive.add_endpoint("serving_default", self.serve, input_signature=self.signature)
        archive.add_endpoint("attention", self.predictor.run_raw, input_signature=self.signature)
        return archive

    def serve(self, history, future, forecast_start):
        out = self.predictor.run_raw(history, future, forecast_start)
        return {"forecast": out["forecast"], "quantiles": out["quantiles"]}


# -- the task ---------------------------------------------------------------------------------


class ForecastingTask(Task):
    """Windows of a series, pinball loss, MAE / MASE / coverage beside seasonal naive."""

    name = "forecasting"
    input_name = "CSV file"
    predictions_file = "test_forecasts.csv"
    declared = FORECASTING
    objective = ("val_loss", "min")
    monitor = ("val_loss", "min")

    # -- data ----------------------------------------------------------------------------

    def load_data(
        self, data: str, settings: Mapping[str, Any], validation=None, test=None
    ) -> SeriesCorpus:
        if validation is not None or test is not None:
            raise ValueError(
                "A forecaster splits its series by time (the last weeks are validation and "
                "test); give the whole series as one --data file, without --validation-data / "
                "--test-data."
            )
        lookback, horizon = settings["lookback"], settings["horizon"]
        if data == "elecdemand":
            if settings["target"] not in ("", "Demand"):
                raise ValueError("elecdemand forecasts `Demand`; leave `target` unset.")
            return load_elecdemand(lookback, horizon, settings["stride"])
        if not (Path(data).suffix.lower() == ".csv" or Path(data).exists()):
            raise DataFileError(
                f"Unknown forecasting dataset {data!r}. Use one of {list(SERIES_DATASETS)} or "
                "the path of a .csv file with a timestamp column, the target and covariates."
            )
        series, _ = read_series_csv(data, settings["target"], settings["timestamp"])
        return split_series(series, lookback, horizon, settings["stride"])

    def load_test_set(self, data: str, settings: Mapping[str, Any]) -> Windows:
        if data in SERIES_DATASETS:
            corpus = self.load_data(data, settings)
            return Windows(corpus.series, corpus.test)
        series, _ = read_series_csv(data, settings["target"], settings["timestamp"])
        return Windows(series)

    def examples(self, corpus: SeriesCorpus) -> list[dict]:
        windows = raw_windows(corpus.series, corpus.validation, corpus.lookback, corpus.horizon)
        return [
            {
                "history": windows["history"][i].tolist(),
                "future": windows["future"][i].tolist(),
                "forecast_start": int(windows["forecast_start"][i]),
            }
            for i in range(len(corpus.validation))
        ]

    # -- training ------------------------------------------------------------------------

    def fit_pipeline(self, corpus: SeriesCorpus, training: dict) -> ForecastPipeline:
        return ForecastPipeline.fit(corpus, training["lookback"], training["horizon"])

    def load_pipeline(self, run: Path) -> ForecastPipeline:
        return ForecastPipeline.load(run)

    def model_sizes(self, pipeline: ForecastPipeline) -> dict:
        return {
            "num_features": len(pipeline.history_features),
            "num_known": len(pipeline.covariates) + len(CALENDAR),
            "lookback": pipeline.lookback,
        }

    def compile(self, model: keras.Model, training: dict) -> None:
        model.compile(
            optimizer=keras.optimizers.Adam(
                training["learning_rate"], clipnorm=training["clipnorm"]
            ),
            loss=pinball_loss(model.quantiles),
            metrics=[MedianAbsoluteError(model.median_index)],
        )

    def datasets(self, pipeline: ForecastPipeline, corpus: SeriesCorpus, training: dict):
        batch = training["batch_size"]
        return (
            pipeline.dataset(corpus.series, corpus.train, batch, True, training["seed"]),
            pipeline.dataset(corpus.series, corpus.validation, batch),
        )

    # -- evaluation ----------------------------------------------------------------------

    def evaluate(
        self, run: Path, model: keras.Model, pipeline: ForecastPipeline, corpus, training
    ) -> dict:
        calibrate_interval(model, pipeline, corpus)
        pipeline.save(run)
        predictor = ForecastPredictor(model, pipeline)
        result = forecast_windows(predictor, Windows(corpus.series, corpus.test))
        result["metrics"]["interval_widening"] = pipeline.interval_widening * pipeline.std[0]
        write_forecasts(run / self.predictions_file, result, predictor.levels)
        save_plots(run, result, predictor, training["plot_examples"])
        return result["metrics"]

    def score(self, predictor, windows: Windows, predictions: Path | None = None) -> dict:
        result = forecast_windows(predictor, windows)
        if predictions is not None:
            write_forecasts(predictions, result, predictor.levels)
        return result["metrics"]

    def format_metrics(self, metrics: dict) -> str:
        interval = metrics.get("interval")
        coverage = f"coverage ({interval:.0%})" if interval else "coverage"
        lines = [
            f"test: {metrics['count']} forecasts x {len(metrics['mae_by_lead'])} steps of "
            f"{metrics.get('target', 'the target')}",
            f"  {'':24s} {'MAE':>8s} {'RMSE':>8s} {'sMAPE %':>8s} {'MASE':>6s} "
            f"{'pinball':>8s} {coverage:>14s}",
        ]
        rows = [("model", metrics), *metrics.get("baselines", {}).items()]
        for name, m in rows:
            pinball = f"{m['pinball']:8.4f}" if "pinball" in m else f"{'-':>8s}"
            cover = f"{m['coverage']:14.1%}" if "coverage" in m else f"{'-':>14s}"
            lines.append(
                f"  {name:24s} {m['mae']:8.4f} {m['rmse']:8.4f} {m['smape']:8.2f} "
                f"{m['mase']:6.3f} {pinball} {cover}"
            )
        return "\n".join(lines)

    # -- prediction ----------------------------------------------------------------------

    def predictor(self, model: keras.Model, pipeline: ForecastPipeline, options: Mapping):
        return ForecastPredictor(model, pipeline)

    def exported_predictor(self, loaded: Any, about: dict) -> ExportedForecaster:
        return ExportedForecaster(loaded, about)

    def check_inputs(self, inputs: Sequence[Any]) -> None:
        for item in inputs:
            if not isinstance(item, (str, Path)):
                raise ValueError(f"Give the path of a CSV file, received {item!r}.")
            check_data_file(Path(item))

    def predict(self, predictor, inputs: list) -> list[dict]:
        rows, levels = [], predictor.levels
        for path in inputs:
            window = csv_window(predictor.layout, path)
            out = predictor.forecast(
                window["history"][None], window["future"][None], [window["forecast_start"]]
            )
            for step, time in enumerate(window["times"]):
                rows.append(
                    {
                        "file": str(path),
                        "time": to_iso(time),
                        "forecast": float(out["forecast"][0, step]),
                        "quantiles": {
                            str(q): float(v)
                            for q, v in zip(levels, out["quantiles"][0, step], strict=True)
                        },
                    }
                )
        return rows

    def format_row(self, row: dict) -> str:
        low, *_, high = row["quantiles"].values()
        levels = list(row["quantiles"])
        return (
            f"{row['time']}\t{row['forecast']:.4f}\t"
            f"[{low:.4f}, {high:.4f}] ({levels[0]}-{levels[-1]} quantiles)"
        )

    def plot_attention(self, predictor, item: Any, path: Path) -> Path | None:
        window = csv_window(predictor.layout, item)
        out = predictor.forecast(
            window["history"][None], window["future"][None], [window["forecast_start"]]
        )
        if not out["input_attention"].any() and not out["temporal_attention"].any():
            return None
        features = [*predictor.layout["columns"][1:], *CALENDAR]  # the driving series
        return plots.forecast_attention(
            out["input_attention"][0], out["temporal_attention"][0], features, path,
            predictor.layout["step"] / 3600, title=f"forecast from {to_iso(window['times'][0])}",
        )  # fmt: skip

    # -- serving -------------------------------------------------------------------------

    def serving_archive(self, predictor: ForecastPredictor) -> keras.export.ExportArchive:
        return ForecastServing(predictor).archive()

    def about(self, predictor: ForecastPredictor) -> dict:
        return {
            "quantiles": predictor.levels,
            "mase_scale": predictor.mase_scale,
            **predictor.layout,
        }

    def warmup_inputs(self, examples: list) -> list[dict[str, Any]]:
        return [
            {
                "history": np.asarray([e["history"]], dtype="float32"),
                "future": np.asarray([e["future"]], dtype="float32"),
                "forecast_start": np.asarray([e["forecast_start"]], dtype="int64"),
            }
            for e in examples
        ]


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


# -- scoring, files and plots -----------------------------------------------------------------


def seasonal_naive(series: Series, origins: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """`y[o + h - season * ceil((h + 1) / season)]`: the last observed value one season back."""
    steps = np.arange(horizon)
    back = season * ((steps // season) + 1)
    return series.values[origins[:, None] + steps - back, 0]


def baselines(series: Series) -> dict[str, int]:
    """The seasonal naive forecasters a forecast is compared with, by name: their season."""
    per_day = series.rows_per_day
    if per_day is None:
        return {"last value": 1}
    if per_day == 1:
        return {"last value": 1, "same day last week": 7}
    return {"same time yesterday": per_day, "same time last week": 7 * per_day}


def forecast_windows(predictor, windows: Windows) -> dict[str, Any]:
    """Forecasts of the model and the baselines at the windows' origins, and their metrics."""
    layout, series = predictor.layout, windows.series
    check_layout(series, layout)
    lookback, horizon = layout["lookback"], layout["horizon"]
    seasons = baselines(series)
    if windows.origins is None:  # a user's test file: non-overlapping windows over all of it
        first = max(lookback, max(seasons.values()))
        check_length(series, first, horizon)
        origins = np.arange(first, len(series) - horizon + 1, horizon)
    else:
        origins = np.asarray(windows.origins)
    if not len(origins):
        raise DataFileError(f"{series.name} holds no complete forecast window to score.")
    raw = raw_windows(series, origins, lookback, horizon)
    out = predictor.forecast(raw["history"], raw["future"], raw["forecast_start"])
    actual = raw["actual"]
    naive = {name: seasonal_naive(series, origins, horizon, m) for name, m in seasons.items()}
    scale = predictor.mase_scale  # the training part's, recorded in exports too
    metrics = forecast_metrics(actual, out["forecast"], scale, out["quantiles"], predictor.levels)
    metrics["baselines"] = {
        name: forecast_metrics(actual, values, scale) for name, values in naive.items()
    }
    metrics["target"] = layout["columns"][0]
    metrics["step_hours"] = layout["step"] / 3600
    return {"metrics": metrics, "origins": origins, "raw": raw, "out": out, "naive": naive}


def write_forecasts(path: Path, result: dict, levels: Sequence[float]) -> Path:
    """One CSV row per forecast step: origin, time, actual, forecast, quantiles, baselines."""
    raw, out, naive = result["raw"], result["out"], result["naive"]
    step = int(result["metrics"]["step_hours"] * 3600)
    staging = path.with_name(f".{path.name}.tmp")
    with open(staging, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            ["origin", "time", "lead", "actual", "forecast", *(f"q{q}" for q in levels), *naive]
        )
        for i, start in enumerate(raw["forecast_start"]):
            for h in range(raw["actual"].shape[1]):
                writer.writerow(
                    [
                        to_iso(start),
                        to_iso(start + h * step),
                        h + 1,
                        f"{raw['actual'][i, h]:.6g}",
                        f"{out['forecast'][i, h]:.6g}",
                        *(f"{v:.6g}" for v in out["quantiles"][i, h]),
                        *(f"{values[i, h]:.6g}" for values in naive.values()),
                    ]
                )
    staging.replace(path)
    return path


def save_plots(run: Path, result: dict, predictor: ForecastPredictor, count: int) -> None:
    """Forecasts of a few test windows, MAE by lead time, and the first window's attention."""
    raw, out, metrics = result["raw"], result["out"], result["metrics"]
    hours = np.arange(raw["actual"].shape[1]) * metrics["step_hours"]
    chosen = np.unique(np.linspace(0, len(raw["actual"]) - 1, count).round().astype(int))
    panels = [
        {
            "title": f"forecast from {to_iso(raw['forecast_start'][i])}",
            "hours": hours,
            "actual": raw["actual"][i],
            "forecast": out["forecast"][i],
            "low": out["quantiles"][i, :, 0],
            "high": out["quantiles"][i, :, -1],
        }
        for i in chosen[:count]
    ]
    if panels:
        plots.forecasts(panels, run / "forecasts.png", metrics["target"], metrics.get("interval"))
    curves = {predictor.model.name: metrics["mae_by_lead"]}
    curves.update({name: m["mae_by_lead"] for name, m in metrics["baselines"].items()})
    plots.lead_time_errors(curves, hours, run / "mae_by_lead.png", metrics["target"])
    if out["input_attention"].any() or out["temporal_attention"].any():
        (run / "attention").mkdir(exist_ok=True)
        features = [*predictor.layout["columns"][1:], *CALENDAR]  # the driving series
        for i in chosen[:count]:
            plots.forecast_attention(
                out["input_attention"][i], out["temporal_attention"][i], features,
                run / "attention" / f"test_{i}.png", metrics["step_hours"],
                title=f"forecast from {to_iso(raw['forecast_start'][i])}",
            )  # fmt: skip


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


TASK = ForecastingTask()
