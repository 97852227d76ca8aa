"""Monthly and quarterly rows: recognized from the dates, advanced by calendar months, a year
as their period. Plain numpy."""

import calendar
import datetime

import numpy as np
import pytest

from zoo.data.calendar_steps import (
    MONTH,
    QUARTER,
    advance,
    calendar_step,
    month_index,
    parse_moment,
)
from zoo.data.seasonality import (
    Period,
    candidate_periods,
    default_horizon,
    default_lookback,
    detect_periods,
    naive_name,
)
from zoo.data.series_csv import read_series_csv
from zoo.data.timeseries import DataFileError, to_iso, to_seconds


def seconds(text):
    return to_seconds(parse_moment(text))


def test_year_month_text_is_the_first_of_the_month():
    assert parse_moment("2014-03") == datetime.datetime(2014, 3, 1)
    assert parse_moment(" 2014-03-31 ") == datetime.datetime(2014, 3, 31)
    assert month_index(seconds("1970-01-31")) == 0 and month_index(seconds("1969-12-01")) == -1
    assert month_index(seconds("2014-03-01")) == 44 * 12 + 2


@pytest.mark.parametrize(
    "dates, step",
    [
        (["2020-01-01", "2020-02-01", "2020-03-01"], MONTH),
        (["2020-01-31", "2020-02-29", "2020-03-31", "2020-04-30"], MONTH),  # month ends
        (["2019-12-15", "2020-01-15", "2020-02-15"], MONTH),
        (["2020-01-01", "2020-04-01", "2020-07-01", "2020-10-01"], QUARTER),
        (["2020-01-01", "2020-02-01", "2020-04-01"], None),  # a month missing
        (["2020-01-01", "2020-02-02", "2020-03-01"], None),  # another day of the month
        (["2020-01-01", "2020-01-31", "2020-03-02"], None),  # 30 days apart
    ],
)
def test_calendar_steps_are_recognized_from_the_dates(dates, step):
    assert calendar_step(np.array([seconds(d) for d in dates])) == step


def test_advancing_by_calendar_months_keeps_the_day_or_the_month_end():
    def ahead(start, steps, step):
        return [to_iso(t)[:10] for t in advance(seconds(start), steps, step)]

    assert ahead("2023-11-01", [1, 2, 3], MONTH) == ["2023-12-01", "2024-01-01", "2024-02-01"]
    assert ahead("2024-01-31", [1, 2], MONTH) == ["2024-02-29", "2024-03-31"]
    assert ahead("2024-01-15", [-1, 12], MONTH) == ["2023-12-15", "2025-01-15"]
    assert ahead("2024-10-01", [1, 2], QUARTER) == ["2025-01-01", "2025-04-01"]
    assert ahead("2024-01-01", [1, 2], 86_400) == ["2024-01-02", "2024-01-03"]


def test_a_monthly_csv_is_read_and_a_missing_month_named(tmp_path):
    path = tmp_path / "sales.csv"
    path.write_text("month,sales\n" + "".join(f"{2020 + i // 12}-{i % 12 + 1:02d},{i}\n"
                                               for i in range(30)))  # fmt: skip
    series, known = read_series_csv(path)
    assert series.step == MONTH and known == 30
    assert to_iso(series.times[-1]) == "2022-06-01 00:00:00"
    ends = tmp_path / "ends.csv"
    ends.write_text("date,sales\n" + "".join(
        f"2021-{m:02d}-{calendar.monthrange(2021, m)[1]},{m}\n" for m in range(1, 13)))  # fmt: skip
    assert read_series_csv(ends)[0].step == MONTH
    gap = tmp_path / "gap.csv"
    gap.write_text("month,sales\n2020-01,1\n2020-02,2\n2020-03,3\n2020-05,4\n")
    with pytest.raises(DataFileError, match="line 5: 2020-05-01 .* a row every month.*fill"):
        read_series_csv(gap)


def test_a_year_is_the_period_of_monthly_and_quarterly_rows():
    assert candidate_periods(MONTH) == [Period("year", 12)]
    assert candidate_periods(QUARTER) == [Period("year", 4)]
    assert default_horizon(MONTH) == 12 and default_horizon(QUARTER) == 4
    assert naive_name(Period("year", 12), MONTH) == "same month last year"
    assert naive_name(Period("year", 4), QUARTER) == "same quarter last year"
    rng = np.random.default_rng(0)
    seasonal = np.tile([3, 2, 1, 0, 0, 1, 2, 5, 6, 4, 3, 2.0], 8) + rng.normal(0, 0.3, 96)
    assert detect_periods(seasonal, MONTH) == [Period("year", 12)]
    assert detect_periods(np.cumsum(rng.normal(size=96)), MONTH) == []  # a random walk
    assert default_lookback([Period("year", 12)], 12, 96) == 24


def test_plots_count_rows_in_the_unit_of_their_step():
    from zoo.data.calendar_steps import time_axis

    assert time_axis(1800) == (0.5, "hours") and time_axis(86_400) == (1.0, "days")
    assert time_axis(7 * 86_400) == (7.0, "days")
    assert time_axis(MONTH) == (1.0, "months") and time_axis(QUARTER) == (1.0, "quarters")
