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
from zoo.data.calendar_steps import advance, time_axis
from zoo.data.panels import series_of_rows
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
from zoo.tasks.forecasting.calendar_features import driving_features
from zoo.tasks.forecasting.calibration import row_scales
from zoo.tasks.forecasting.gradient_boosting import BoostedBaseline
from zoo.tasks.forecasting.pipeline import raw_windows
from zoo.tasks.forecasting.predictor import ForecastPredictor
from zoo.tasks.forecasting.recent_data import check_layout


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


def seen_rows(series: Series, layout: dict) -> list[int]:
    """How many rows at the start of each of `series`' series (`Series.segments`) the run read
    in training, early stopping or calibration: 0 unless it is one of the run's own series (its
    values at the recorded sample of training times agree), however its times overlap."""
    sample, seen_until = layout.get("seen_sample"), layout.get("seen_until")
    if not sample or seen_until is None:
        return [0] * len(series.starts)
    seen = []
    for key, start, end in series.segments():
        # A panel's sample names each row's series; one series' sample names none.
        mine = [row[:2] for row in sample if not series.is_panel or row[2:] == [key]]
        seen.append(_seen_in(series.times[start:end], series.values[start:end, 0], mine,
                             seen_until) if mine else 0)  # fmt: skip
    return seen


def _seen_in(times: np.ndarray, target: np.ndarray, sample: list, seen_until: int) -> int:
    sample_times, values = np.asarray(sample, dtype="float64").T
    sample_times = sample_times.astype("int64")
    at = np.minimum(np.searchsorted(times, sample_times), len(times) - 1)
    present = times[at] == sample_times
    if not present.any():
        return 0
    same = np.isclose(target[at[present]], values[present], rtol=1e-6, atol=1e-9)
    if same.mean() < 0.9:  # another series over the same months (a second meter...)
        return 0
    return int(np.searchsorted(times, seen_until, side="right"))


def forecast_windows(predictor, windows: Windows) -> dict[str, Any]:
    """Forecasts of the model and the baselines at the windows' origins, and their metrics
    (for a panel, also per series: `metrics["by_series"]`)."""
    layout, series = predictor.layout, windows.series
    check_layout(series, layout)
    horizon = layout["horizon"]
    seasons = baselines(layout, series)
    note = None
    if windows.origins is None:  # a user's file: rolling origins over what the run never read
        origins, note = _unseen_origins(series, layout, seasons, windows.include_seen)
    else:
        origins = np.asarray(windows.origins)
    if not len(origins):
        raise DataFileError(f"{series.name} holds no complete forecast window to score.")
    raw = raw_windows(series, origins, layout["lookback"], horizon)
    out = predictor.forecast(raw["history"], raw["future"], raw["forecast_start"])
    actual = raw["actual"]
    target = series.values[:, 0]
    naive = {name: seasonal_naive(target, origins, horizon, m) for name, m in seasons.items()}
    if series.is_panel:  # each series' errors in its own scale
        scale = _panel_scales(series, origins, seasons)[:, None]
        scaled_by = ("each series' seasonal naive forecast's MAE over its rows before its "
                     "first scored forecast (the mean of them)")  # fmt: skip
    else:
        scale = predictor.mase_scale  # the training part's, recorded in exports too
        scaled_by = "the seasonal naive forecast's MAE on the training part"
    metrics = forecast_metrics(actual, out["forecast"], scale, out["quantiles"], predictor.levels)
    metrics["baselines"] = {
        name: forecast_metrics(actual, values, scale) for name, values in naive.items()
    }
    # MASE's denominator, so that a reader can tell what it was scaled by.
    metrics["mase_scale"] = {"value": float(np.mean(scale)), "is": scaled_by}
    metrics["target"] = layout["columns"][0]
    metrics["step_hours"] = layout["step"] / 3600
    if series.is_panel:
        metrics["by_series"] = by_series(series, origins, actual, out["forecast"], naive, scale)
    if note:
        metrics["not_scored"] = note
    ids = [series.ids[i] for i in series_of_rows(series)[origins]] if series.is_panel else None
    return {
        "metrics": metrics, "origins": origins, "raw": raw, "out": out, "naive": naive,
        "series": ids, "scale": scale,
    }  # fmt: skip


def _unseen_origins(
    series: Series, layout: dict, seasons: dict[str, int], include_seen: bool
) -> tuple[np.ndarray, str | None]:
    """Rolling origins over each series of a user's file, after the part the run read."""
    first, horizon = max(layout["lookback"], max(seasons.values())), layout["horizon"]
    seen = [0] * len(series.starts) if include_seen else seen_rows(series, layout)
    origins: list[int] = []
    for (_, start, end), skip in zip(series.segments(), seen, strict=True):
        if not series.is_panel:
            check_length(series, first, horizon)
            if skip and skip + horizon > end:
                raise DataFileError(
                    f"{series.name} holds no forecast window after the part the run trained "
                    f"and validated on (up to {to_iso(series.times[skip - 1])}): give later "
                    "data, or pass --include-training-span to score it anyway."
                )
        local = rolling_origins(max(first, skip), end - start, first, horizon)
        origins += [start + o for o in local]
    note = None
    if series.is_panel and any(seen):
        note = (
            f"{sum(map(bool, seen))} of {len(seen)} series are the run's own: their rows up to "
            f"{to_iso(layout['seen_until'])} ({sum(seen)} rows) are what the run trained and "
            "validated on: not scored (--include-training-span scores them)"
        )
    elif seen[0]:
        note = (
            f"rows up to {to_iso(series.times[seen[0] - 1])} ({seen[0]}) are the series the run "
            "trained and validated on: not scored (--include-training-span scores them)"
        )
    return np.asarray(origins, dtype="int64"), note


def _panel_scales(series: Series, origins: np.ndarray, seasons: dict[str, int]) -> np.ndarray:
    """`[origins]`: the MAE of the longest seasonal naive forecast (that fits twice) over the
    rows of each origin's series before its first scored origin; 1 where that is 0."""
    of_row = series_of_rows(series)
    out = np.ones(len(origins))
    for i, (_, start, _) in enumerate(series.segments()):
        mine = of_row[origins] == i
        if not mine.any():
            continue
        values = series.values[start : origins[mine].min(), 0]
        lag = max((m for m in seasons.values() if len(values) > 2 * m), default=1)
        scale = float(np.mean(np.abs(values[lag:] - values[:-lag]))) if len(values) > lag else 0
        out[mine] = scale if scale > 0 else 1.0
    return out


def by_series(series: Series, origins, actual, forecast, naive: dict, scale) -> dict:
    """Per series of a panel: forecasts scored, MAE and MASE of the model and of the best
    seasonal naive forecast there."""
    of_row = series_of_rows(series)
    table = {}
    for i, key in enumerate(series.ids):
        mine = of_row[origins] == i
        if not mine.any():
            continue

        def mase(values, mine=mine):
            return float(np.mean(np.abs(values[mine] - actual[mine]) / scale[mine]))

        best = min(naive, key=lambda name: mase(naive[name]))
        table[key] = {
            "count": int(mine.sum()),
            "mae": float(np.mean(np.abs(forecast[mine] - actual[mine]))),
            "mase": mase(forecast),
            "best_naive": best,
            "best_naive_mase": mase(naive[best]),
        }
    return table


def add_boosted_baseline(
    result: dict, corpus, pipeline, levels: list[float], seed: int
) -> BoostedBaseline:
    """Fits the LightGBM baseline (`gradient_boosting.BoostedBaseline`) on the corpus' training
    and validation parts, with the pipeline's window sizes and periods, adds its forecasts at
    the result's origins beside the seasonal naive ones, and returns it."""
    periods = [rows for _, rows in pipeline.periods if rows <= pipeline.lookback]
    yearly = any(name == "year" for name, _ in pipeline.periods)
    scales = row_scales(pipeline, corpus) if corpus.series.is_panel else None
    boosted = BoostedBaseline(levels, pipeline.lookback, pipeline.horizon, periods,
                              pipeline.naive_period or 1, yearly, seed, scales)  # fmt: skip
    boosted.fit(corpus.series, corpus.train, corpus.validation)
    add_saved_baseline(result, boosted, corpus.series)
    return boosted


def add_saved_baseline(result: dict, boosted: BoostedBaseline, series: Series) -> None:
    """Adds the forecasts of a fitted LightGBM baseline at the result's origins of `series`
    (a panel's series in their scale before the first scored forecast, as MASE's)."""
    origins, scale = result["origins"], result["scale"]
    if series.is_panel:
        boosted.scales = np.ones(len(series))
        boosted.scales[origins] = scale[:, 0]
    quantiles = boosted.predict(series, origins)
    median = quantiles[..., boosted.levels.index(0.5)]
    result["naive"]["LightGBM"] = median
    result["metrics"]["baselines"]["LightGBM"] = forecast_metrics(
        result["raw"]["actual"], median, scale, quantiles, boosted.levels
    )


def write_forecasts(path: Path, result: dict, levels: Sequence[float]) -> Path:
    """One CSV row per forecast step: (series,) origin, time, actual, forecast, quantiles,
    baselines."""
    raw, out, naive, ids = result["raw"], result["out"], result["naive"], result.get("series")
    step = round(result["metrics"]["step_hours"] * 3600)
    staging = path.with_name(f".{path.name}.tmp")
    with open(staging, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            [*(["series"] if ids else []), "origin", "time", "lead", "actual", "forecast",
             *(f"q{q}" for q in levels), *naive]
        )  # fmt: skip
        for i, start in enumerate(raw["forecast_start"]):
            for h in range(raw["actual"].shape[1]):
                writer.writerow(
                    [
                        *([ids[i]] if ids else []),
                        to_iso(start),
                        to_iso(advance(start, h, step)),
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
    size, time_unit = time_axis(round(metrics["step_hours"] * 3600))
    leads = np.arange(raw["actual"].shape[1]) * size
    chosen = np.unique(np.linspace(0, len(raw["actual"]) - 1, count).round().astype(int))
    ids = result.get("series")
    titles = [
        f"{f'{ids[i]}: ' if ids else ''}forecast from {to_iso(raw['forecast_start'][i])}"
        for i in range(len(raw["actual"]))
    ]
    panels = [
        {
            "title": titles[i],
            "x": leads,
            "actual": raw["actual"][i],
            "forecast": out["forecast"][i],
            "low": out["quantiles"][i, :, 0],
            "high": out["quantiles"][i, :, -1],
        }
        for i in chosen[:count]
    ]
    if panels:
        plots.forecasts(panels, run / "forecasts.png", metrics["target"], metrics.get("interval"),
                        time_unit)  # fmt: skip
    curves = {predictor.model.name: metrics["mae_by_lead"]}
    curves.update({name: m["mae_by_lead"] for name, m in metrics["baselines"].items()})
    plots.lead_time_errors(curves, leads, run / "mae_by_lead.png", metrics["target"], time_unit)
    if out["input_attention"].any() or out["temporal_attention"].any():
        (run / "attention").mkdir(exist_ok=True)
        features = driving_features(predictor.layout)
        for i in chosen[:count]:
            plots.forecast_attention(
                out["input_attention"][i], out["temporal_attention"][i], features,
                run / "attention" / f"test_{i}.png", size, title=titles[i], time_unit=time_unit,
            )  # fmt: skip
