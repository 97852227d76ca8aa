"""Monthly series through the whole forecasting path: month-of-year features in the graph,
"same month last year" beside the model, forecasts dated by calendar months."""

import json
import math

import numpy as np
import pytest
import tensorflow as tf

from zoo.cli import main
from zoo.data.calendar_steps import MONTH, month_index, parse_moment
from zoo.data.timeseries import to_seconds
from zoo.tasks.forecasting.calendar_features import calendar_at, calendar_names, month_of
from zoo.training import train


def test_month_of_year_features_by_hand():
    # From 2023-11-01, one row back and three ahead: October to February.
    start = tf.constant([[to_seconds(parse_moment("2023-11-01"))]], tf.int64)
    offsets = tf.constant([[-1, 0, 1, 2, 3]], tf.int64)
    features = calendar_at(start, offsets, MONTH, calendar_names(MONTH)).numpy()[0]
    months = np.array([9, 10, 11, 0, 1])  # October = 9, January = 0
    expected = np.stack([np.sin(2 * math.pi * months / 12), np.cos(2 * math.pi * months / 12)], -1)
    np.testing.assert_allclose(features, expected, atol=1e-6)
    assert calendar_names(MONTH) == ("month_of_year_sin", "month_of_year_cos")
    assert len(calendar_names(1800)) == 4  # time of day and day of week, as before


def test_the_graph_s_month_agrees_with_the_calendar_over_centuries():
    rng = np.random.default_rng(0)
    moments = rng.integers(-4_000_000_000, 6_000_000_000, 5000)  # 1843 to 2160
    expected = [month_index(int(t)) for t in moments]
    np.testing.assert_array_equal(month_of(tf.constant(moments, tf.int64)).numpy(), expected)


@pytest.fixture(scope="module")
def monthly_csv(tmp_path_factory):
    """Ten years of monthly sales: a yearly pattern (a December peak), a trend and noise."""
    rng = np.random.default_rng(0)
    lines = ["month,sales"]
    for i in range(120):
        season = 10 * (i % 12 == 11) + 3 * math.sin(2 * math.pi * i / 12)
        lines.append(
            f"{2010 + i // 12}-{i % 12 + 1:02d},{50 + 0.2 * i + season + rng.normal():.3f}"
        )
    path = tmp_path_factory.mktemp("monthly") / "sales.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_monthly_series_trains_with_a_year_as_its_period(monthly_csv, tmp_path, capsys):
    tiny = {"units": 8, "head_units": 8, "epochs": 2, "batch_size": 16}
    run = train("lstm_forecaster", str(monthly_csv), runs_root=tmp_path, verbose=0, **tiny)
    config = json.loads((run / "config.json").read_text())["training"]
    assert config["periods"] == {"year": 12}
    assert config["horizon"] == 12 and config["lookback"] == 24
    metrics = json.loads((run / "metrics.json").read_text())
    assert set(metrics["baselines"]) == {"last value", "same month last year", "LightGBM"}
    assert json.loads((run / "series.json").read_text())["step"] == MONTH
    header, first, second, *_ = (run / "test_forecasts.csv").read_text().splitlines()
    assert first.split(",")[1].endswith("-01 00:00:00")  # forecasts dated by calendar months
    assert month_index(to_seconds(parse_moment(second.split(",")[1]))) == 1 + month_index(
        to_seconds(parse_moment(first.split(",")[1]))
    )
    # Recent data without covariates: the next 12 months are forecast.
    recent = tmp_path / "recent.csv"
    lines = monthly_csv.read_text().splitlines()
    recent.write_text("\n".join([lines[0], *lines[-24:]]) + "\n")
    assert main(["predict", str(run), "--csv", str(recent)]) == 0
    out = [line.split("\t")[0] for line in capsys.readouterr().out.splitlines() if "\t" in line]
    assert out[0] == "2020-01-01 00:00:00" and out[-1] == "2020-12-01 00:00:00" and len(out) == 12


def test_daily_rows_with_a_yearly_period_read_the_time_of_year_instead_of_the_day():
    from zoo.data.seasonality import Period
    from zoo.tasks.forecasting.calendar_features import CALENDAR, YEARLY_DAILY, calendar_for

    year, week, day = Period("year", 365), Period("week", 7), Period("day", 48)
    assert calendar_for(86_400, [week, year]) == YEARLY_DAILY
    assert calendar_for(86_400, [week]) == CALENDAR  # as before periods chose them
    assert calendar_for(1800, [day, Period("week", 336)]) == CALENDAR
    assert calendar_names(86_400, None) == CALENDAR  # a run from before: the step's defaults
    # 2001-07-02 is day 11,505 since 1970 (a Monday); a year is 365.2425 days.
    start = tf.constant([[to_seconds(parse_moment("2001-07-02"))]], tf.int64)
    features = calendar_at(start, tf.constant([[0, 1]], tf.int64), 86_400, YEARLY_DAILY).numpy()[0]
    fraction = (np.array([11_505, 11_506]) % 365.2425) / 365.2425
    weekday = np.array([0, 1]) / 7
    expected = np.stack(
        [
            np.sin(2 * math.pi * weekday),
            np.cos(2 * math.pi * weekday),
            np.sin(2 * math.pi * fraction),
            np.cos(2 * math.pi * fraction),
        ],
        -1,
    )
    np.testing.assert_allclose(features, expected, atol=1e-5)
