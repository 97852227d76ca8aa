"""Forecasting's example inputs and tiny configuration: what the registry-wide tests, the docs
and a first try of a new entry run on, so that none of them keeps a table of tasks.

Plain Python and numpy (no TensorFlow, no Keras).
"""

from __future__ import annotations

import csv
import datetime
from pathlib import Path
from typing import Any

import numpy as np

# Model arguments every forecasting entry takes, at toy sizes (the data's sizes included).
TINY_MODEL = {"num_features": 4, "num_known": 2, "lookback": 6, "units": 8}
# Settings `write_example_data`'s file needs: it has several value columns, the target is named.
DATA_SETTINGS: dict[str, Any] = {"target": "load"}
# Settings for a few quick training steps on that file; an entry takes the ones it has.
TINY_SETTINGS: dict[str, Any] = {**DATA_SETTINGS, "lookback": 24, "horizon": 12, "stride": 4}


def example_batch() -> tuple[np.ndarray, np.ndarray]:
    """A batch of two for a `TINY_MODEL`: 6 steps of history (4 features), 5 steps ahead (2
    known covariates)."""
    return (
        np.random.default_rng(0).normal(size=(2, 6, 4)).astype("float32"),
        np.random.default_rng(1).normal(size=(2, 5, 2)).astype("float32"),
    )


def output_shape(config: dict[str, Any]) -> tuple[int, ...]:
    """The forecasts' shape for `example_batch()`: a value per step and quantile."""
    return (2, 5, len(config["quantiles"]))


def write_example_data(folder: str | Path, days: int = 60, seed: int = 0) -> Path:
    """`days` of an hourly load (a daily cycle, lower on weekends, rising with temperature) as
    a CSV with a timestamp, the target and two covariates (the format of `zoo train --data`)."""
    rng = np.random.default_rng(seed)
    path = Path(folder) / "load.csv"
    start = datetime.datetime(2024, 1, 1)
    temperature = 15 + np.cumsum(rng.normal(0, 0.3, 24 * days))
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["timestamp", "load", "workday", "temperature"])
        for i, temp in enumerate(temperature):
            moment = start + datetime.timedelta(hours=i)
            workday = int(moment.weekday() < 5)
            cycle = np.sin(2 * np.pi * (moment.hour - 6) / 24)
            load = 10 + 3 * cycle + 2 * workday + 0.2 * temp + rng.normal(0, 0.2)
            writer.writerow([moment.isoformat(sep=" "), f"{load:.4f}", workday, f"{temp:.3f}"])
    return path
