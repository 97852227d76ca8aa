"""The calendar features a forecaster reads beside the series, computed inside the graph (and
the export) from the forecast's start time: where in the day, week, year or months-of-year
cycle each history and forecast row falls, as points on circles (sin, cos).

Which ones, by the step and the periods found: time of day and day of week for sub-daily rows
and daily ones (as before periods were detected); day of week and time of year for daily rows
with a yearly period; month of year for monthly and quarterly rows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import tensorflow as tf

from zoo.data.calendar_steps import months_per_step
from zoo.data.seasonality import DAY, Period

CALENDAR = ("time_of_day_sin", "time_of_day_cos", "day_of_week_sin", "day_of_week_cos")
YEARLY_DAILY = ("day_of_week_sin", "day_of_week_cos", "time_of_year_sin", "time_of_year_cos")
MONTHLY = ("month_of_year_sin", "month_of_year_cos")  # rows a month or quarter apart
YEAR_DAYS = 365.2425


def calendar_for(step: int, periods: Sequence[Period]) -> tuple[str, ...]:
    """The calendar features of rows `step` apart whose series shows `periods`."""
    if months_per_step(step):
        return MONTHLY
    if step == DAY and any(p.name == "year" for p in periods):
        return YEARLY_DAILY  # the time of day is constant there
    return CALENDAR


def calendar_names(step: int, chosen: Sequence[str] | None = None) -> tuple[str, ...]:
    """The features a pipeline computes: `chosen`, or the step's defaults (runs from before
    they were chosen by the periods)."""
    return tuple(chosen) if chosen else calendar_for(step, ())


def driving_features(layout: dict) -> list[str]:
    """What DA-RNN's input attention weighs: the covariates and the calendar features."""
    return [*layout["columns"][1:], *calendar_names(layout["step"], layout.get("calendar"))]


def calendar_at(start, offsets, step: int, names: Sequence[str]):
    """The calendar features `names` `[B, T, len(names)]` of the rows `offsets [1, T]` steps
    from the times `start [B, 1]` (int64 seconds)."""
    months = months_per_step(step)
    times = start + step * offsets
    days = tf.math.floordiv(times, DAY)
    cycles = {  # the share of each cycle gone by, computed only if asked for
        "month_of_year": lambda: tf.cast(
            tf.math.floormod(month_of(start) + months * offsets, 12), tf.float32) / 12,
        "time_of_day": lambda: tf.cast(tf.math.floormod(times, DAY), tf.float32) / DAY,
        # 1970-01-01 was a Thursday: +3 makes Monday 0.
        "day_of_week": lambda: tf.cast(tf.math.floormod(days + 3, 7), tf.float32) / 7,
        "time_of_year": lambda: tf.cast(
            tf.math.floormod(tf.cast(days, tf.float64), YEAR_DAYS) / YEAR_DAYS, tf.float32),
    }  # fmt: skip
    angles = {}
    features = []
    for name in names:
        cycle, part = name.rsplit("_", 1)
        if cycle not in angles:
            angles[cycle] = 2 * math.pi * cycles[cycle]()
        features.append(tf.sin(angles[cycle]) if part == "sin" else tf.cos(angles[cycle]))
    return tf.stack(features, axis=-1)


def calendar(times):
    """Time of day and day of week as points on circles, from int64 seconds `[..., T]`."""
    return calendar_at(times, tf.zeros_like(times), 1, CALENDAR)


def month_of(seconds):
    """Months since January 1970 of int64 `seconds` since 1970 (the proleptic Gregorian
    calendar, from days since 1970 as in Hinnant's `civil_from_days`)."""
    z = tf.math.floordiv(seconds, DAY) + 719_468
    era = tf.math.floordiv(z, 146_097)
    day_of_era = z - era * 146_097
    year_of_era = tf.math.floordiv(
        day_of_era - tf.math.floordiv(day_of_era, 1460) + tf.math.floordiv(day_of_era, 36_524)
        - tf.math.floordiv(day_of_era, 146_096), 365
    )  # fmt: skip
    day_of_year = day_of_era - (365 * year_of_era + tf.math.floordiv(year_of_era, 4)
                                - tf.math.floordiv(year_of_era, 100))  # fmt: skip
    shifted = tf.math.floordiv(5 * day_of_year + 2, 153)  # months from March
    month = tf.where(shifted < 10, shifted + 2, shifted - 10)  # 0 = January
    year = year_of_era + era * 400 + tf.cast(month <= 1, tf.int64)
    return (year - 1970) * 12 + month
