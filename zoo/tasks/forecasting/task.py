"""Forecasting as a task: windows of a series, pinball loss, the metrics forecasters are judged
by (beside seasonal naive baselines), plots and serving; the hooks `zoo.training`,
`zoo.serving` and the CLI call.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from zoo import plots
from zoo.data.calendar_steps import time_axis
from zoo.data.panels import (
    PANEL_DATASETS,
    chicago_ridership,
    detect_panel_periods,
    shortest_series,
    split_panel,
)
from zoo.data.seasonality import default_horizon, default_lookback, detect_periods
from zoo.data.series_csv import read_csv_series
from zoo.data.timeseries import (
    SeriesCorpus,
    Windows,
    elecdemand,
    load_elecdemand,
    spikes,
    split_series,
    to_iso,
)
from zoo.data.tsv import DataFileError, check_data_file
from zoo.tasks.base import Task
from zoo.tasks.forecasting.calendar_features import driving_features
from zoo.tasks.forecasting.calibration import (
    calibrate_correction,
    calibrate_interval,
    training_scales,
)
from zoo.tasks.forecasting.gradient_boosting import BoostedBaseline
from zoo.tasks.forecasting.pipeline import (
    SERIES_DATASETS,
    ForecastPipeline,
    raw_windows,
    series_weights,
)
from zoo.tasks.forecasting.predictor import ExportedForecaster, ForecastPredictor
from zoo.tasks.forecasting.recent_data import csv_windows
from zoo.tasks.forecasting.scoring import (
    add_boosted_baseline,
    add_saved_baseline,
    forecast_windows,
    save_plots,
    write_forecasts,
)
from zoo.tasks.forecasting.serving import ForecastServing
from zoo.tasks.forecasting.settings import SETTINGS

BOOSTED_DIRECTORY = "lightgbm"  # in a run: the LightGBM baseline's boosters


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


class ForecastingTask(Task):
    """Windows of a series, pinball loss, MAE / MASE / coverage beside seasonal naive."""

    name = "forecasting"
    input_name = "CSV file"
    predictions_file = "test_forecasts.csv"
    declared = SETTINGS
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
        if data == "elecdemand":
            if settings["target"] not in ("", "Demand"):
                raise ValueError("elecdemand forecasts `Demand`; leave `target` unset.")
            series = elecdemand()
        elif data == "chicago-ridership":
            if settings["target"] not in ("", "ridership") or settings["series_id"]:
                raise ValueError(
                    "chicago-ridership forecasts each station's `ridership`; leave `target` "
                    "and `series_id` unset."
                )
            series = chicago_ridership()
        elif not (Path(data).suffix.lower() == ".csv" or Path(data).exists()):
            raise DataFileError(
                f"Unknown forecasting dataset {data!r}. Use one of {list(SERIES_DATASETS)} or "
                "the path of a .csv file with a timestamp column, the target and covariates "
                "(and a series id column for many series: `--set series_id=COLUMN`)."
            )
        else:
            series = read_csv_series(data, settings["target"], settings["timestamp"],
                                     settings["series_id"])  # fmt: skip
        if not series.is_panel:
            for warning in spikes(series):
                print(f"Warning: {data}: {warning}", file=sys.stderr)
        # Found before the split (which needs the window sizes) on the first 80 %: never more
        # than the training part of the default split.
        if series.is_panel:
            periods, rows = detect_panel_periods(series), shortest_series(series)
        else:
            periods = detect_periods(series.values[: round(0.8 * len(series)), 0], series.step)
            rows = len(series)
        horizon = settings["horizon"] or default_horizon(series.step)
        lookback = settings["lookback"] or default_lookback(periods, horizon, rows)
        if data == "elecdemand":
            return load_elecdemand(series, lookback, horizon, settings["stride"], periods)
        if series.is_panel:
            return split_panel(series, lookback, horizon, settings["stride"], periods=periods)
        return split_series(series, lookback, horizon, settings["stride"], periods=periods)

    def settings_from_data(self, corpus: SeriesCorpus) -> dict:
        return {
            "lookback": corpus.lookback,
            "horizon": corpus.horizon,
            "periods": {p.name: p.rows for p in corpus.periods},
        }

    def load_test_set(self, data: str, settings: Mapping[str, Any]) -> Windows:
        if data in SERIES_DATASETS:
            corpus = self.load_data(data, settings)
            return Windows(corpus.series, corpus.test)
        series = read_csv_series(data, settings["target"], settings["timestamp"],
                                 settings.get("series_id", ""))  # fmt: skip
        return Windows(series, include_seen=settings.get("include_training_span", False))

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
        series_id = training.get("series_id") or PANEL_DATASETS.get(corpus.name, "")
        return ForecastPipeline.fit(corpus, corpus.lookback, corpus.horizon, series_id)

    def load_pipeline(self, run: Path) -> ForecastPipeline:
        return ForecastPipeline.load(run)

    def model_sizes(self, pipeline: ForecastPipeline) -> dict:
        return {
            "num_features": len(pipeline.history_features),
            "num_known": len(driving_features(pipeline.layout())) + bool(pipeline.naive_period),
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
        batch, series = training["batch_size"], corpus.series
        weights = (None, None)
        if series.is_panel:  # every series counts alike
            scales = training_scales(pipeline, corpus)
            weights = tuple(series_weights(series, part, scales)
                            for part in (corpus.train, corpus.validation))  # fmt: skip
        return (
            pipeline.dataset(series, corpus.train, batch, True, training["seed"], weights[0]),
            pipeline.dataset(series, corpus.validation, batch, weights=weights[1]),
        )

    # -- evaluation ----------------------------------------------------------------------

    def evaluate(
        self, run: Path, model: keras.Model, pipeline: ForecastPipeline, corpus, training
    ) -> dict:
        calibrate_correction(model, pipeline, corpus)
        calibrate_interval(model, pipeline, corpus)
        pipeline.save(run)
        predictor = ForecastPredictor(model, pipeline)
        result = forecast_windows(predictor, Windows(corpus.series, corpus.test))
        unit = 1.0 if pipeline.series_id else pipeline.std[0]  # a panel's: in window spreads
        result["metrics"]["interval_widening"] = [
            w * unit for w in np.atleast_1d(pipeline.interval_widening).tolist()
        ]
        result["metrics"]["correction_weight"] = pipeline.correction_weight
        if training.get("gradient_boosted_baseline", True):  # runs before it had none
            boosted = add_boosted_baseline(
                result, corpus, pipeline, predictor.levels, training["seed"]
            )
            boosted.save(run / BOOSTED_DIRECTORY)  # for `zoo evaluate --data` on other files
        write_forecasts(run / self.predictions_file, result, predictor.levels)
        save_plots(run, result, predictor, training["plot_examples"])
        return result["metrics"]

    def score(self, predictor, windows: Windows, predictions: Path | None = None) -> dict:
        result = forecast_windows(predictor, windows)
        boosted = getattr(predictor, "boosted", None)
        if boosted is not None:
            add_saved_baseline(result, boosted, windows.series)
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
        by_series = metrics.get("by_series")
        if by_series:
            wins = sum(m["mase"] < m["best_naive_mase"] for m in by_series.values())
            lines.append(
                f"  per series: the model's MASE is below the best seasonal naive's on {wins} of "
                f"{len(by_series)} series (metrics.json: by_series)"
            )
        if "mase_scale" in metrics:
            lines.append(
                f"  MASE divides by {metrics['mase_scale']['value']:.6g}: "
                f"{metrics['mase_scale']['is']}"
            )
        return "\n".join(lines)

    # -- prediction ----------------------------------------------------------------------

    def predictor(self, model: keras.Model, pipeline: ForecastPipeline, options: Mapping):
        return ForecastPredictor(model, pipeline)

    def load_predictor(self, run: Path, **options: Any) -> ForecastPredictor:
        predictor = super().load_predictor(run, **options)
        # The run's LightGBM baseline, scored beside the model by `zoo evaluate` (runs from
        # before it was kept have none).
        if (Path(run) / BOOSTED_DIRECTORY / "baseline.json").is_file():
            predictor.boosted = BoostedBaseline.load(Path(run) / BOOSTED_DIRECTORY)
        return predictor

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
            for window in csv_windows(predictor.layout, path):
                out = predictor.forecast(
                    window["history"][None], window["future"][None], [window["forecast_start"]]
                )
                for step, time in enumerate(window["times"]):
                    rows.append(
                        {
                            "file": str(path),
                            **({"series": window["series"]} if window["series"] else {}),
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
        series = f"{row['series']}\t" if "series" in row else ""
        return (
            f"{series}{row['time']}\t{row['forecast']:.4f}\t"
            f"[{low:.4f}, {high:.4f}] ({levels[0]}-{levels[-1]} quantiles)"
        )

    def plot_attention(self, predictor, item: Any, path: Path) -> Path | None:
        window = csv_windows(predictor.layout, item)[0]  # a panel's first series
        out = predictor.forecast(
            window["history"][None], window["future"][None], [window["forecast_start"]]
        )
        if not out["input_attention"].any() and not out["temporal_attention"].any():
            return None
        features = driving_features(predictor.layout)
        size, time_unit = time_axis(predictor.layout["step"])
        return plots.forecast_attention(
            out["input_attention"][0], out["temporal_attention"][0], features, path, size,
            title=f"forecast from {to_iso(window['times'][0])}", time_unit=time_unit,
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


TASK = ForecastingTask()
