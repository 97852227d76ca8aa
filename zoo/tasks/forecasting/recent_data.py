"""What a forecast is made from outside training: a CSV of recent data (the last `lookback`
rows with a target, then the rows to forecast with their covariates), for one series or, with
the run's series id column, for each series of a panel.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from zoo.data.calendar_steps import advance, step_name
from zoo.data.series_csv import read_csv_series
from zoo.data.timeseries import Series
from zoo.data.tsv import DataFileError


def check_layout(series: Series, layout: dict) -> None:
    """Raises unless `series` has the columns (target first) and step the model was trained on."""
    if list(series.columns) != layout["columns"]:
        raise DataFileError(
            f"{series.name} has columns {list(series.columns)}; the model takes "
            f"{layout['columns']} (target first)."
        )
    if series.step != layout["step"]:
        raise DataFileError(
            f"{series.name} has a row every {step_name(series.step)}; the model was trained on "
            f"one every {step_name(layout['step'])}."
        )


def read_data(layout: dict, path: str | Path, include_future: bool = False) -> Series:
    """The series (a panel when the run was trained on one) of a CSV in the run's layout."""
    series = read_csv_series(path, layout["columns"][0], series_id=layout.get("series_id", ""),
                             allow_future=include_future)  # fmt: skip
    check_layout(series, layout)
    return series


def csv_windows(layout: dict, path: str | Path) -> list[dict[str, Any]]:
    """The model inputs of a recent-data CSV, one per series (`"series"`: its id, or None):
    the last `lookback` rows with a target are the history; rows after them with an empty
    target (and their covariates) the future."""
    series = read_data(layout, path, include_future=True)
    windows = []
    for key, start, end in series.segments():
        known = start + int(np.isfinite(series.values[start:end, 0]).sum())
        name = f"{path} (series {key!r})" if series.is_panel else str(path)
        windows.append(_window(layout, name, series, start, known, end))
        windows[-1]["series"] = key if series.is_panel else None
    return windows


def _window(layout: dict, name: str, series: Series, start: int, known: int, end: int) -> dict:
    lookback, horizon = layout["lookback"], layout["horizon"]
    if known - start < lookback:
        raise DataFileError(
            f"{name} has {known - start} rows with a value of {layout['columns'][0]!r}; the "
            f"model reads the last {lookback}."
        )
    future = series.values[known:end, 1:]
    times = series.times[known:end]
    if not len(future):
        if len(layout["columns"]) > 1:
            raise DataFileError(
                f"{name} has no rows to forecast: append up to {horizon} rows with the time, the "
                f"covariates {layout['columns'][1:]} and an empty {layout['columns'][0]!r}."
            )
        times = advance(series.times[end - 1], np.arange(1, horizon + 1), series.step)
        future = np.zeros((horizon, 0))
    if len(future) > horizon:
        raise DataFileError(
            f"{name} asks for {len(future)} steps ahead; the model forecasts at most {horizon}."
        )
    return {
        "history": series.values[known - lookback : known].astype("float32"),
        "future": future.astype("float32"),
        "forecast_start": int(times[0]),
        "times": times,
    }
