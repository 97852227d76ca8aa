"""Seasonal periods found from a series' step and values, and the defaults they set."""

import numpy as np
import pytest

from zoo.data.seasonality import (
    DAY,
    Period,
    best_naive_period,
    candidate_periods,
    default_horizon,
    default_lookback,
    detect_periods,
    naive_name,
    seasonal_naive,
)

HOUR = 3600


def hourly_load(weeks: int, weekly: bool, seed: int = 0) -> np.ndarray:
    """A daily cycle, lower on weekends when `weekly`, and noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(weeks * 168)
    values = 10 + 3 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 0.3, len(t))
    if weekly:
        values -= 2.0 * ((t // 24) % 7 >= 5)
    return values


def names(periods):
    return [p.name for p in periods]


def test_candidates_follow_the_step():
    assert candidate_periods(1800) == [Period("day", 48), Period("week", 336),
                                       Period("year", 17_520)]  # fmt: skip
    assert candidate_periods(DAY) == [Period("week", 7), Period("year", 365)]
    assert candidate_periods(7 * DAY) == []  # a year is no whole number of weeks
    # A day is no whole number of 7-hour rows; a week is 24 of them.
    assert candidate_periods(7 * HOUR) == [Period("week", 24)]


def test_a_daily_and_a_weekly_cycle_are_found():
    assert names(detect_periods(hourly_load(12, weekly=True), HOUR)) == ["day", "week"]


def test_a_daily_cycle_alone_is_no_week():
    """Every day alike: a week back is no better than six days back."""
    assert names(detect_periods(hourly_load(12, weekly=False), HOUR)) == ["day"]


@pytest.mark.parametrize("kind", ["random walk", "white noise"])
def test_a_series_without_seasons_has_none(kind):
    rng = np.random.default_rng(1)
    steps = rng.normal(size=24 * 7 * 12)
    values = np.cumsum(steps) if kind == "random walk" else steps
    assert detect_periods(values, HOUR) == []


def test_a_yearly_cycle_of_daily_rows_is_found_and_is_no_week():
    rng = np.random.default_rng(2)
    t = np.arange(4 * 365)
    values = 15 + 8 * np.sin(2 * np.pi * t / 365.25) + rng.normal(0, 2, len(t))
    assert names(detect_periods(values, DAY)) == ["year"]


def test_a_period_the_series_cannot_hold_three_times_is_not_tested():
    values = hourly_load(2, weekly=True)  # two weeks: the week is not tested
    assert names(detect_periods(values, HOUR)) == ["day"]


def test_seasonal_naive_repeats_the_last_season():
    values = np.arange(20, dtype="float64")
    np.testing.assert_array_equal(seasonal_naive(values, np.array([10]), 5, 3), [[7, 8, 9, 7, 8]])
    np.testing.assert_array_equal(seasonal_naive(values, np.array([10]), 3, 1), [[9, 9, 9]])


def test_the_best_naive_period_is_the_one_with_the_smallest_error():
    values = hourly_load(12, weekly=True)
    origins = np.arange(24 * 14, len(values) - 24, 24)
    assert best_naive_period(values, origins, 24, [1, 24, 168]) == 168
    daily = hourly_load(12, weekly=False)
    assert best_naive_period(daily, origins, 24, [1, 24, 168]) == 24


def test_defaults_follow_the_step_and_the_periods():
    assert default_horizon(1800) == 48 and default_horizon(HOUR) == 24
    assert default_horizon(DAY) == 7 and default_horizon(7 * DAY) == 8
    week = [Period("day", 24), Period("week", 168)]
    assert default_lookback(week, 24, 10_000) == 168
    assert default_lookback([], 24, 10_000) == 48  # two horizons
    assert default_lookback(week, 24, 300) == 100  # a third of a short series


def test_baselines_are_named_as_a_forecaster_says_them():
    assert naive_name(None, HOUR) == "last value"
    assert naive_name(Period("day", 24), HOUR) == "same time yesterday"
    assert naive_name(Period("week", 168), HOUR) == "same time last week"
    assert naive_name(Period("week", 7), DAY) == "same day last week"
    assert naive_name(Period("year", 365), DAY) == "same day last year"
