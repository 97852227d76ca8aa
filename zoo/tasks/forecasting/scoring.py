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
from zoo.data.timeseries import (
    Series,
    Windows,
    check_length,
    to_iso,
)
from zoo.data.tsv import DataFileError
from zoo.metrics import forecast_metrics
from zoo.tasks.forecasting.pipeline import CALENDAR, check_layout, raw_windows
from zoo.tasks.forecasting.predictor import ForecastPredictor


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
    # MASE's denominator, so that a reader can tell what it was scaled by.
    metrics["mase_scale"] = {"value": float(scale), "is": "the seasonal naive forecast's MAE "
                             "on the training part"}  # fmt: skip
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
