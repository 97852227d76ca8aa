"""Seasonal periods of a series, found from its step and its values; the defaults that follow
from them (lookback, horizon).

A period is a calendar candidate for the step (a day and a week for sub-daily rows, a week
and a year for daily rows...) that the data confirms: the series must repeat itself better
one period back than at the comparison lags (half the period, or the last few multiples of a
shorter period found before it, which is how a week stands out from the daily cycle inside
it). "Better" is measured by the mean absolute difference `mean |y[t] - y[t - lag]|` (the
error of the seasonal naive forecast at that lag): a trend or a random walk makes it grow with
the lag, so it finds no period there, while autocorrelation would see one at every lag.

Plain numpy (no TensorFlow, no Keras).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zoo.data.calendar_steps import months_per_step, step_name

DAY = 86_400
WEEK = 7 * DAY
YEAR = 365 * DAY
# A period is kept when its lag's mean absolute difference is at least this much smaller than
# the comparison lags' (10 %: real weekly and daily cycles are 25-80 % smaller; a random walk,
# white noise and a weekly lag of a temperature series are within 3 % either way).
MARGIN = 0.1
# Cycles of a period the series must hold for it to be tested (and for a lookback of it to
# leave training windows).
MIN_CYCLES = 3


@dataclass(frozen=True)
class Period:
    """A seasonal period in rows, and its name ("day", "week", "year")."""

    name: str
    rows: int


def candidate_periods(step: int) -> list[Period]:
    """The calendar periods worth testing for rows `step` seconds apart (or a `MONTH` or
    `QUARTER` apart: a year of 12 or 4 rows), shortest first."""
    if months_per_step(step):
        return [Period("year", 12 // months_per_step(step))]
    candidates = []
    for name, seconds in (("day", DAY), ("week", WEEK), ("year", YEAR)):
        if seconds > step and seconds % step == 0:
            candidates.append(Period(name, seconds // step))
    return [p for p in candidates if p.rows >= 2]


def lag_difference(values: np.ndarray, lag: int) -> float:
    """`mean |y[t] - y[t - lag]|`: the in-sample error of the seasonal naive forecast."""
    return float(np.mean(np.abs(values[lag:] - values[:-lag])))


def detect_periods(values: np.ndarray, step: int, margin: float = MARGIN) -> list[Period]:
    """The calendar periods `values` (a target series, rows `step` seconds apart) shows.

    Args:
        values: The series (the training part only: the test must not choose the model).
        step: Seconds between rows.
        margin: How much better (as a share) a period's lag must be than its comparison lags.

    Returns:
        The periods found, shortest first (empty for a series without seasonality, or one too
        short to hold `MIN_CYCLES` cycles of any candidate).
    """
    values = np.asarray(values, dtype="float64")
    found: list[Period] = []
    for period in candidate_periods(step):
        m = period.rows
        if len(values) < MIN_CYCLES * m:
            break
        base = max((p.rows for p in found if m % p.rows == 0), default=1)
        if base == 1:
            comparisons = [m // 2]
        else:  # a week against 6, 5 and 4 days: the daily cycle is alike in all of them
            comparisons = [m - k * base for k in range(1, 4) if m - k * base >= m / 2]
        reference = min(lag_difference(values, lag) for lag in comparisons)
        if lag_difference(values, m) < (1 - margin) * reference:
            found.append(period)
    return found


def default_horizon(step: int) -> int:
    """Rows forecast at once by default: a day ahead for sub-daily rows, a week for daily
    rows, a year for monthly and quarterly rows, 8 rows otherwise."""
    if months_per_step(step):
        return 12 // months_per_step(step)
    if step < DAY and DAY % step == 0:
        return DAY // step
    if step == DAY:
        return 7
    return 8


def default_lookback(periods: list[Period], horizon: int, rows: int) -> int:
    """History rows read by default: the longest period found (so the seasonal naive forecast
    of every period can be read from the history), at least two horizons, and at most a third
    of the series' `rows` (so the training part holds windows)."""
    longest = max((p.rows for p in periods), default=0)
    return max(1, min(max(longest, 2 * horizon), rows // MIN_CYCLES))


def seasonal_naive(
    values: np.ndarray, origins: np.ndarray, horizon: int, period: int
) -> np.ndarray:
    """`[origins, horizon]` forecasts `y[o + h - period * ceil((h + 1) / period)]`: the last
    value observed one period (or a whole number of periods) back, before the origin `o`."""
    steps = np.arange(horizon)
    back = period * ((steps // period) + 1)
    return np.asarray(values)[np.asarray(origins)[:, None] + steps - back]


def best_naive_period(
    values: np.ndarray,
    origins: np.ndarray,
    horizon: int,
    periods: list[int],
    scales: np.ndarray | None = None,
) -> int:
    """The one of `periods` whose seasonal naive forecast has the lowest MAE at `origins`
    (each origin's errors divided by its `scales`, if given: its series' scale in a panel)."""
    origins = np.asarray(origins)
    actual = np.asarray(values)[origins[:, None] + np.arange(horizon)]
    weights = 1.0 if scales is None else 1.0 / np.asarray(scales, "float64")[:, None]

    def error(period: int) -> float:
        naive = seasonal_naive(values, origins, horizon, period)
        return float(np.mean(np.abs(naive - actual) * weights))

    return min(periods, key=error)


def naive_name(period: Period | None, step: int) -> str:
    """How a seasonal naive forecast is called: "same time last week", "last value"..."""
    if period is None:
        return "last value"
    unit = "time" if step < DAY else step_name(step) if months_per_step(step) else "day"
    return "same time yesterday" if period.name == "day" else f"same {unit} last {period.name}"
