"""Forecasting's test metrics beside the seasonal naive baselines, the forecasts file and the
run's plots.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from zoo import plots
from zoo.data.seasonality import Period, naive_name, seasonal_naive
from zoo.data.timeseries import (
    Series,
    Windows,
    check_length,
    rolling_origins,
    to_iso,
)
from zoo.data.tsv import DataFileError
from zoo.metrics import forecast_metrics
from zoo.tasks.forecasting.gradient_boosting import BoostedBaseline
from zoo.tasks.forecasting.pipeline import CALENDAR, check_layout, raw_windows
from zoo.tasks.forecasting.predictor import ForecastPredictor


def baselines(layout: dict, series: Series) -> dict[str, int]:
    """The seasonal naive forecasters a forecast is compared with, by name: their period in
    rows (the last value, and every seasonal period the run found)."""
    periods = layout.get("periods")
    if periods is None:  # a run or export from before periods were detected
        per_day = series.rows_per_day
        if per_day is None:
            return {"last value": 1}
        if per_day == 1:
            return {"last value": 1, "same day last week": 7}
        return {"same time yesterday": per_day, "same time last week": 7 * per_day}
    named = {naive_name(None, series.step): 1}
    for name, rows in periods:
        named[naive_name(Period(name, rows), series.step)] = rows
    return named


def seen_rows(series: Series, layout: dict) -> int:
    """How many rows at the start of `series` the run read in training, early stopping or
    calibration: 0 unless `series` is the run's own series (its values at the recorded
    sample of training times agree), however its times overlap."""
    sample, seen_until = layout.get("seen_sample"), layout.get("seen_until")
    if not sample or seen_until is None:
        return 0
    times, values = np.asarray(sample, dtype="float64").T
    at = np.minimum(np.searchsorted(series.times, times.astype("int64")), len(series) - 1)
    present = series.times[at] == times.astype("int64")
    if not present.any():
        return 0
    same = np.isclose(series.values[at[present], 0], values[present], rtol=1e-6, atol=1e-9)
    if same.mean() < 0.9:  # another series over the same months (a second meter...)
        return 0
    return int(np.searchsorted(series.times, seen_until, side="right"))


def forecast_windows(predictor, windows: Windows) -> dict[str, Any]:
    """Forecasts of the model and the baselines at the windows' origins, and their metrics."""
    layout, series = predictor.layout, windows.series
    check_layout(series, layout)
    lookback, horizon = layout["lookback"], layout["horizon"]
    seasons = baselines(layout, series)
    note = None
    if windows.origins is None:  # a user's file: rolling origins over what the run never read
        first = max(lookback, max(seasons.values()))
        check_length(series, first, horizon)
        seen = 0 if windows.include_seen else seen_rows(series, layout)
        if seen:
            note = (
                f"rows up to {to_iso(series.times[seen - 1])} ({seen}) are the series the run "
                "trained and validated on: not scored (--include-training-span scores them)"
            )
            if seen + horizon > len(series):
                raise DataFileError(
                    f"{series.name} holds no forecast window after the part the run trained "
                    f"and validated on (up to {to_iso(series.times[seen - 1])}): give later "
                    "data, or pass --include-training-span to score it anyway."
                )
        origins = np.asarray(rolling_origins(max(first, seen), len(series), first, horizon))
    else:
        origins = np.asarray(windows.origins)
    if not len(origins):
        raise DataFileError(f"{series.name} holds no complete forecast window to score.")
    raw = raw_windows(series, origins, lookback, horizon)
    out = predictor.forecast(raw["history"], raw["future"], raw["forecast_start"])
    actual = raw["actual"]
    target = series.values[:, 0]
    naive = {name: seasonal_naive(target, origins, horizon, m) for name, m in seasons.items()}
    scale = predictor.mase_scale  # the training part's, recorded in exports too
    metrics = forecast_metrics(actual, out["forecast"], scale, out["quantiles"], predictor.levels)
    metrics["baselines"] = {
        name: forecast_metrics(actual, values, scale) for name, values in naive.items()
    }
    # MASE's denominator, so that a reader can tell what it was scaled by.
    metrics["mase_scale"] = {"value": float(scale), "is": "the seasonal naive forecast's MAE "
                             "on the training part"}  # fmt: skip
    metrics["target"] = layout["columns"][0]
    metrics["step_hours"] = layout["step"] / 3600
    if note:
        metrics["not_scored"] = note
    return {"metrics": metrics, "origins": origins, "raw": raw, "out": out, "naive": naive}


def add_boosted_baseline(result: dict, corpus, pipeline, levels: list[float], seed: int) -> None:
    """Fits the LightGBM baseline (`gradient_boosting.BoostedBaseline`) on the corpus' training
    and validation parts, with the pipeline's window sizes and periods, and adds its forecasts
    at the result's origins beside the seasonal naive ones."""
    periods = [rows for _, rows in pipeline.periods if rows <= pipeline.lookback]
    yearly = any(name == "year" for name, _ in pipeline.periods)
    boosted = BoostedBaseline(levels, pipeline.lookback, pipeline.horizon, periods,
                              pipeline.naive_period or 1, yearly, seed)  # fmt: skip
    boosted.fit(corpus.series, corpus.train, corpus.validation)
    quantiles = boosted.predict(corpus.series, result["origins"])
    median = quantiles[..., levels.index(0.5)]
    result["naive"]["LightGBM"] = median
    result["metrics"]["baselines"]["LightGBM"] = forecast_metrics(
        result["raw"]["actual"], median, result["metrics"]["mase_scale"]["value"], quantiles,
        levels,
    )  # fmt: skip


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
