"""Forecasting: data, windows without look-ahead, scaling, metrics, training, predict, export."""

import datetime
import json
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from made_once import trained_once

import zoo
from zoo.cli import main
from zoo.data.seasonality import seasonal_naive
from zoo.data.series_csv import read_series_csv
from zoo.data.timeseries import DataFileError, Series, elecdemand, to_seconds
from zoo.metrics import forecast_metrics
from zoo.settings import resolve_settings
from zoo.tasks.forecasting.calendar_features import calendar
from zoo.tasks.forecasting.pipeline import ForecastPipeline, raw_windows
from zoo.tasks.forecasting.recent_data import csv_windows
from zoo.tasks.forecasting.task import TASK, pinball_loss
from zoo.training import train

ROOT = Path(__file__).parents[1]
TINY = {
    "units": 8,
    "attention_units": 8,
    "head_units": 8,
    "lookback": 24,
    "horizon": 12,
    "stride": 2,
    "batch_size": 32,
    "epochs": 3,
}


def settings(name="lstm_attention_forecaster", data="elecdemand", **given):
    return resolve_settings(name, data, given)[1]


def write_csv(path, header, rows):
    path.write_text("\n".join([",".join(header)] + [",".join(map(str, r)) for r in rows]) + "\n")
    return path


def hourly(count, start="2024-01-01 00:00"):
    first = datetime.datetime.fromisoformat(start)
    return [(first + datetime.timedelta(hours=i)).isoformat(sep=" ") for i in range(count)]


# -- elecdemand -------------------------------------------------------------------------------


def test_elecdemand_splits_by_month_with_midnight_origins():
    corpus = TASK.load_data("elecdemand", settings())
    series = corpus.series
    assert len(series) == 17_520 and series.columns == ("Demand", "WorkDay", "Temperature")
    assert series.step == 1800
    november = series.row_of("2014-11-01")
    assert corpus.train_end == november
    assert max(corpus.train) + 48 <= november  # every training target is before November
    assert len(corpus.validation) == 30 and len(corpus.test) == 31
    starts = [series.times[o] for o in corpus.test]
    assert all(t % 86_400 == 0 for t in starts)
    assert starts[0] == to_seconds(datetime.datetime(2014, 12, 1))


def test_the_seasonal_naive_baselines_match_the_published_numbers():
    """Day-ahead forecasts for every day of December: MAE 0.313 GW (same time yesterday),
    0.370 GW (same time last week), as measured in the issue with the data's own values."""
    corpus = TASK.load_data("elecdemand", settings())
    series, origins = corpus.series, np.asarray(corpus.test)
    actual = raw_windows(series, origins, 96, 48)["actual"]
    yesterday = seasonal_naive(series.values[:, 0], origins, 48, 48)
    last_week = seasonal_naive(series.values[:, 0], origins, 48, 336)
    assert np.mean(np.abs(yesterday - actual)) == pytest.approx(0.313, abs=5e-4)
    assert np.mean(np.abs(last_week - actual)) == pytest.approx(0.370, abs=5e-4)


def test_windows_have_no_look_ahead():
    """Changing anything at or after an origin leaves its history unchanged; changing the
    target there leaves every model input unchanged (only the actual values move)."""
    series = elecdemand()
    origin = series.row_of("2014-12-05")
    before = raw_windows(series, [origin], 96, 48)
    values = series.values.copy()
    values[origin:, 0] += 100.0  # the future target
    values[origin + 48 :, 1:] -= 7.0  # covariates beyond the horizon
    changed = Series(series.name, series.times, values, series.columns, series.step)
    after = raw_windows(changed, [origin], 96, 48)
    np.testing.assert_array_equal(after["history"], before["history"])
    np.testing.assert_array_equal(after["future"], before["future"])
    np.testing.assert_array_equal(after["actual"], before["actual"] + 100.0)
    assert before["history"].shape == (1, 96, 3) and before["future"].shape == (1, 48, 2)
    np.testing.assert_allclose(before["history"][0, -1], series.values[origin - 1], rtol=1e-6)


def test_scaling_statistics_come_from_the_training_part_only():
    training = settings()
    corpus = TASK.load_data("elecdemand", training)
    pipeline = TASK.fit_pipeline(corpus, training)
    train = corpus.series.values[: corpus.train_end]
    np.testing.assert_allclose(pipeline.mean, train.mean(axis=0))
    np.testing.assert_allclose(pipeline.std, train.std(axis=0))
    assert pipeline.season == 336  # MASE's scale: the weekly seasonal naive in-sample
    target = train[:, 0]
    assert pipeline.mase_scale == pytest.approx(np.mean(np.abs(target[336:] - target[:-336])))


def test_calendar_features_by_hand():
    # 2014-01-01 was a Wednesday (Monday = 0): day of week 2/7; 06:00 is a quarter of a day.
    times = np.array([[to_seconds(datetime.datetime(2014, 1, 1, 6))]], dtype="int64")
    features = calendar(times).numpy()[0, 0]
    np.testing.assert_allclose(features[:2], [1.0, 0.0], atol=1e-6)
    angle = 2 * np.pi * 2 / 7
    np.testing.assert_allclose(features[2:], [np.sin(angle), np.cos(angle)], atol=1e-6)


# -- metrics and loss by hand ---------------------------------------------------------------


def test_forecast_metrics_by_hand():
    actual = np.array([[1.0, 2.0], [3.0, 4.0]])
    point = np.array([[2.0, 2.0], [3.0, 2.0]])
    quantiles = np.stack([point - 1, point, point + 1], axis=-1)
    m = forecast_metrics(actual, point, scale=2.0, quantiles=quantiles, levels=[0.1, 0.5, 0.9])
    assert m["mae"] == pytest.approx(3 / 4)
    assert m["rmse"] == pytest.approx(np.sqrt(5 / 4))
    assert m["smape"] == pytest.approx(100 * (2 / 3 + 0 + 0 + 4 / 6) / 4)
    assert m["mase"] == pytest.approx(3 / 8)
    assert m["mae_by_lead"] == pytest.approx([0.5, 1.0])
    # only (2, 1) = 4 lies outside [q0.1, q0.9] = [1, 3]
    assert m["coverage"] == pytest.approx(3 / 4) and m["interval"] == pytest.approx(0.8)
    residual = actual[..., None] - quantiles
    levels = np.array([0.1, 0.5, 0.9])
    expected = np.maximum(levels * residual, (levels - 1) * residual).mean()
    assert m["pinball"] == pytest.approx(expected)


def test_pinball_loss_by_hand():
    loss = pinball_loss([0.1, 0.5, 0.9])
    y_true = np.array([[2.0]], "float32")
    y_pred = np.array([[[1.0, 2.0, 4.0]]], "float32")
    # under-forecast by 1 at q=.1: .1; exact at .5: 0; over by 2 at q=.9: .1 * 2 = .2
    assert float(np.asarray(loss(y_true, y_pred))[0, 0]) == pytest.approx((0.1 + 0 + 0.2) / 3)


# -- the user's files -----------------------------------------------------------------------


def _replace_time(rows, hours):
    moment = datetime.datetime.fromisoformat(rows[0][0]) + datetime.timedelta(hours=hours)
    rows[1][0] = moment.isoformat(sep=" ")


BREAKAGES = {  # what is done to the second data row (line 3): the message expected
    "not a number": (lambda rows: rows[1].__setitem__(1, "x"), r"'load' holds 'x', not a"),
    "NaN": (lambda rows: rows[1].__setitem__(1, "nan"), r"column 'load' is 'nan'"),
    "empty": (lambda rows: rows[1].__setitem__(1, ""), r"column 'load' is empty"),
    "duplicate": (lambda rows: _replace_time(rows, 0), r"timestamp .* repeats"),
    "missing": (lambda rows: rows.pop(1), r"follows .*\(1 step\(s\) missing"),
    "irregular": (lambda rows: _replace_time(rows, 0.5), r"follows .*\(irregular spacing"),
    "bad time": (lambda rows: rows[1].__setitem__(0, "soon"), r"cannot read 'soon' in column"),
}


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_bad_csv_files_are_named_with_their_line(tmp_path, breakage):
    rows = [[t, 5.0 + i, 1] for i, t in enumerate(hourly(10))]
    breaks, message = BREAKAGES[breakage]
    breaks(rows)
    path = write_csv(tmp_path / "bad.csv", ["timestamp", "load", "flag"], rows)
    with pytest.raises(DataFileError, match=r"bad.csv, line 3: .*" + message):
        read_series_csv(path, target="load")


def test_the_target_column_must_be_named_when_ambiguous(tmp_path, load_csv):
    with pytest.raises(DataFileError, match=r"--set target=COLUMN"):
        read_series_csv(load_csv)
    with pytest.raises(DataFileError, match=r"no target column 'power'"):
        read_series_csv(load_csv, target="power")
    series, known = read_series_csv(load_csv, target="temperature")
    assert series.columns == ("temperature", "load", "workday") and known == len(series)


def test_a_series_too_short_for_its_windows_is_refused(tmp_path):
    path = write_csv(tmp_path / "short.csv", ["time", "y"], [[t, 1.0] for t in hourly(100)])
    with pytest.raises(
        DataFileError, match=r"100 rows, too short for lookback 33 \+ 3 x horizon 24"
    ):
        TASK.load_data(str(path), settings("lstm_forecaster", str(path)))


def test_a_recent_data_csv_gives_history_and_known_future(tmp_path, load_csv):
    series, _ = read_series_csv(load_csv, target="load")
    rows = [[t, *v] for t, v in zip(hourly(40), series.values[:40].tolist(), strict=True)]
    for row in rows[30:]:
        row[1] = ""  # the future: covariates given, target empty
    path = write_csv(tmp_path / "recent.csv", ["timestamp", "load", "workday", "temperature"], rows)
    layout = {"columns": ["load", "workday", "temperature"], "step": 3600, "lookback": 24}
    (window,) = csv_windows({**layout, "horizon": 12}, path)
    np.testing.assert_allclose(window["history"], series.values[6:30], rtol=1e-6)
    np.testing.assert_allclose(window["future"], series.values[30:40, 1:], rtol=1e-6)
    assert window["forecast_start"] == series.times[30]
    with pytest.raises(DataFileError, match="at most 8"):
        csv_windows({**layout, "horizon": 8}, path)
    with pytest.raises(DataFileError, match="reads the last 31"):
        csv_windows({**layout, "lookback": 31, "horizon": 12}, path)
    other = {**layout, "columns": ["load", "temperature", "workday"], "horizon": 12}
    with pytest.raises(DataFileError, match=r"the model takes \['load', 'temperature'"):
        csv_windows(other, path)
    with pytest.raises(DataFileError, match="trained on one every 0:30:00"):
        csv_windows({**layout, "step": 1800, "horizon": 12}, path)


# -- training, prediction and export --------------------------------------------------------


@pytest.fixture(scope="module")
def trained_run(load_csv, tmp_path_factory):
    return trained_once(tmp_path_factory, "forecasting", lambda runs: train(
        "lstm_attention_forecaster", str(load_csv), runs_root=runs, verbose=0, target="load", **TINY
    ))  # fmt: skip


def test_a_run_scores_the_model_beside_the_baselines(trained_run):
    metrics = json.loads((trained_run / "metrics.json").read_text())
    naive = {"last value", "same time yesterday", "same time last week"}
    assert set(metrics["baselines"]) == naive | {"LightGBM"}
    assert "coverage" in metrics["baselines"]["LightGBM"]  # its quantiles, calibrated too
    assert len(metrics["mae_by_lead"]) == 12 and metrics["interval"] == pytest.approx(0.8)
    assert 0 <= metrics["coverage"] <= 1
    # 60 days hourly; the last 144 rows are the test part, 12-hour forecasts from rolling
    # origins every 4 rows (every 12 would leave 11 forecasts; at least 30 are wanted).
    assert metrics["count"] == len(range(1296, 1440 - 12 + 1, 4)) == 34
    for name in ("forecasts.png", "mae_by_lead.png", "test_forecasts.csv", "series.json"):
        assert (trained_run / name).is_file(), name
    assert list((trained_run / "attention").glob("*.png"))
    rows = (trained_run / "test_forecasts.csv").read_text().splitlines()
    assert len(rows) == 1 + 12 * metrics["count"]
    history = (trained_run / "history.csv").read_text().splitlines()
    losses = [float(line.split(",")[1]) for line in history[1:]]
    assert losses[-1] < losses[0]


def test_evaluating_the_training_file_scores_only_what_the_run_never_read(
    trained_run, load_csv, capsys
):
    """The run trained and validated on the first 1,296 rows: `zoo evaluate` of its own file
    says so and scores the rest, which is the run's test part: the same metrics."""
    assert main(["evaluate", str(trained_run), "--data", str(load_csv)]) == 0
    out = capsys.readouterr().out
    assert "scored 34 examples" in out
    assert "rows up to 2024-02-23 23:00:00 (1296) are the series the run trained" in out
    recorded = json.loads((trained_run / "metrics.json").read_text())
    again = json.loads((trained_run / "evaluations" / "load" / "metrics.json").read_text())
    assert again["mae"] == pytest.approx(recorded["mae"], rel=1e-5)
    # The run's LightGBM baseline was kept with it: the same forecasts again.
    for key in ("mae", "rmse", "pinball", "coverage"):
        kept, fitted = again["baselines"]["LightGBM"][key], recorded["baselines"]["LightGBM"][key]
        assert kept == pytest.approx(fitted, rel=1e-6), key
    rows = (trained_run / "evaluations" / "load" / "test_forecasts.csv").read_text().splitlines()
    assert len(rows) == 1 + 12 * 34


def test_evaluate_scores_a_whole_file_when_asked_or_when_it_is_another_series(
    trained_run, load_csv, tmp_path, capsys
):
    # First origin after a week of history (the weekly baseline's); 106 origins 12 rows apart.
    whole = len(range(168, 1440 - 12 + 1, 12))
    assert main(["evaluate", str(trained_run), "--data", str(load_csv),
                 "--include-training-span"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert f"scored {whole} examples" in out and "not scored" not in out
    # Another meter over the same weeks: its times overlap, its values differ.
    lines = load_csv.read_text().splitlines()
    other = [lines[0]]
    for line in lines[1:]:
        time, load, *rest = line.split(",")
        other.append(",".join([time, f"{float(load) * 1.5 + 2:.4f}", *rest]))
    other_csv = tmp_path / "other_meter.csv"
    other_csv.write_text("\n".join(other) + "\n")
    assert main(["evaluate", str(trained_run), "--data", str(other_csv)]) == 0
    out = capsys.readouterr().out
    assert f"scored {whole} examples" in out and "not scored" not in out
    assert "LightGBM" in out  # beside the model on any file


def test_a_file_that_ends_inside_the_training_span_is_refused_with_the_fix(
    trained_run, load_csv, tmp_path
):
    early = tmp_path / "early.csv"
    early.write_text("\n".join(load_csv.read_text().splitlines()[:1001]) + "\n")
    with pytest.raises(DataFileError, match="--include-training-span"):
        zoo.evaluate(trained_run, str(early))


def test_predict_from_a_recent_csv_and_from_the_export(trained_run, load_csv, tmp_path, capsys):
    series, _ = read_series_csv(load_csv, target="load")
    rows = [[t, *v] for t, v in zip(hourly(34), series.values[:34].tolist(), strict=True)]
    for row in rows[24:]:
        row[1] = ""
    recent = write_csv(
        tmp_path / "recent.csv", ["timestamp", "load", "workday", "temperature"], rows
    )
    assert main(["predict", str(trained_run), "--csv", str(recent), "--json"]) == 0
    from_run = json.loads(capsys.readouterr().out)
    assert len(from_run) == 10 and from_run[0]["time"] == "2024-01-02 00:00:00"
    for row in from_run:
        low, median, high = row["quantiles"].values()
        assert low <= median <= high and median == pytest.approx(row["forecast"])
    assert main(["export", str(trained_run), "--root", str(tmp_path / "models")]) == 0
    capsys.readouterr()
    export_dir = tmp_path / "models" / "lstm_attention_forecaster"
    assert main(["predict", str(export_dir), "--csv", str(recent), "--json"]) == 0
    from_export = json.loads(capsys.readouterr().out)
    for a, b in zip(from_run, from_export, strict=True):
        assert a["time"] == b["time"]
        assert a["forecast"] == pytest.approx(b["forecast"], rel=1e-5, abs=1e-5)


FRESH = """
import json, sys
import numpy as np
import tensorflow as tf
loaded = tf.saved_model.load(sys.argv[1])
request = json.load(open(sys.argv[2]))
out = loaded.signatures["serving_default"](
    history=tf.constant(request["history"], tf.float32),
    future=tf.constant(request["future"], tf.float32),
    forecast_start=tf.constant(request["forecast_start"], tf.int64),
)
print(json.dumps({k: v.numpy().tolist() for k, v in out.items()}))
"""


def query_in_a_fresh_process(export_dir, raw, tmp_path):
    """The export's `serving_default` on `raw` windows, in a process importing only TF."""
    request = {key: raw[key].tolist() for key in ("history", "future", "forecast_start")}
    (tmp_path / "request.json").write_text(json.dumps(request))
    return subprocess.run(
        [sys.executable, "-c", FRESH, str(export_dir), str(tmp_path / "request.json")],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_export_answers_in_a_fresh_tensorflow_process_like_the_library(
    trained_run, load_csv, tmp_path
):
    from zoo.serving import export

    path = export(trained_run, root=tmp_path)
    predictor = TASK.load_predictor(trained_run)
    series, _ = read_series_csv(load_csv, target="load")
    raw = raw_windows(series, [30, 500, 1000], 24, 12)
    expected = predictor.forecast(raw["history"], raw["future"], raw["forecast_start"])
    result = query_in_a_fresh_process(path, raw, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    np.testing.assert_allclose(out["forecast"], expected["forecast"], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out["quantiles"], expected["quantiles"], rtol=1e-5, atol=1e-5)
    assert np.asarray(out["quantiles"]).shape == (3, 12, 3)


@pytest.mark.parametrize(
    "bad, message",
    [(float("nan"), "`history` holds NaN or infinite values"), (1e30, "standard deviations")],
)
def test_the_export_refuses_what_the_library_refuses(trained_run, load_csv, tmp_path, bad, message):
    from zoo.serving import export

    predictor = TASK.load_predictor(trained_run)
    series, _ = read_series_csv(load_csv, target="load")
    raw = raw_windows(series, [30, 500], 24, 12)
    raw["history"][1, 5, 0] = bad
    with pytest.raises(ValueError, match=message):
        predictor.forecast(raw["history"], raw["future"], raw["forecast_start"])
    path = export(trained_run, root=tmp_path)
    result = query_in_a_fresh_process(path, raw, tmp_path)
    assert result.returncode != 0 and "InvalidArgumentError" in result.stderr
    assert message in result.stderr  # a clear refusal, not NaN forecasts


def test_pipeline_round_trip(trained_run):
    pipeline = ForecastPipeline.load(trained_run)
    assert pipeline.columns == ["load", "workday", "temperature"]
    assert pipeline.lookback == 24 and pipeline.horizon == 12 and pipeline.step == 3600


def test_a_spike_far_outside_the_series_scale_is_named(load_csv, tmp_path, capsys):
    from zoo.data.timeseries import spikes

    series, _ = read_series_csv(load_csv, target="load")
    assert spikes(series) == []  # a daily cycle, weekends and temperature: its own variation
    lines = load_csv.read_text().splitlines()
    fields = lines[101].split(",")  # the row of 2024-01-05 04:00
    fields[1] = "1e38"
    lines[101] = ",".join(fields)
    spiked = tmp_path / "spiked.csv"
    spiked.write_text("\n".join(lines) + "\n")
    series, _ = read_series_csv(spiked, target="load")
    (warning,) = spikes(series)
    assert "column 'load' at 2024-01-05 04:00:00 is 1e+38" in warning
    TASK.load_data(str(spiked), {**TASK.settings, "target": "load", "stride": 4})
    assert f"Warning: {spiked}: column 'load' at 2024-01-05 04:00:00" in capsys.readouterr().err


def test_mase_says_what_it_was_scaled_by(trained_run):
    metrics = json.loads((trained_run / "metrics.json").read_text())
    scale = metrics["mase_scale"]["value"]
    assert scale > 0 and "seasonal naive" in metrics["mase_scale"]["is"]
    assert metrics["mase"] == pytest.approx(metrics["mae"] / scale, rel=1e-6)
    assert f"MASE divides by {scale:.6g}" in TASK.format_metrics(metrics)


def test_a_nan_in_a_forecasts_input_is_not_called_a_training_problem(load_csv, tmp_path):
    lines = load_csv.read_text().splitlines()
    lines[-2] = lines[-2].replace(lines[-2].split(",")[1], "nan", 1)
    recent = tmp_path / "recent.csv"
    recent.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataFileError, match=r"is 'nan'; fill or interpolate") as error:
        read_series_csv(recent, target="load", allow_future=True)
    assert "before training" not in str(error.value)


# -- defaults from the data, rolling origins, the naive-relative forecast, LightGBM ---------


def half_hourly_csv(path, weeks=12, seed=0):
    """A half-hourly load with a daily cycle, lower on weekends, and no covariate."""
    rng = np.random.default_rng(seed)
    t = np.arange(weeks * 336)
    load = (
        10 + 3 * np.sin(2 * np.pi * t / 48) - 2 * ((t // 48) % 7 >= 5) + rng.normal(0, 0.3, len(t))
    )
    first = datetime.datetime(2024, 1, 1)
    times = [(first + datetime.timedelta(minutes=30 * int(i))).isoformat(sep=" ") for i in t]
    rows = [[a, f"{b:.4f}"] for a, b in zip(times, load, strict=True)]
    return write_csv(path, ["timestamp", "demand"], rows)


def test_defaults_fit_a_half_hourly_series_and_rolling_origins_never_see_the_future(tmp_path):
    path = half_hourly_csv(tmp_path / "meter.csv")
    corpus = TASK.load_data(str(path), settings("lstm_forecaster", str(path)))
    assert [(p.name, p.rows) for p in corpus.periods] == [("day", 48), ("week", 336)]
    assert (corpus.lookback, corpus.horizon) == (336, 48)  # a week back, a day ahead
    assert TASK.settings_from_data(corpus) == {
        "lookback": 336, "horizon": 48, "periods": {"day": 48, "week": 336},
    }  # fmt: skip
    n, horizon = len(corpus.series), corpus.horizon
    validation_start = corpus.train_end
    test_start = min(corpus.test)
    assert len(corpus.validation) >= 30 and len(corpus.test) >= 30  # 403 rows each
    assert max(corpus.train) + horizon <= validation_start  # training targets end before
    assert min(corpus.validation) >= validation_start
    assert max(corpus.validation) + horizon <= test_start <= min(corpus.test)
    assert max(corpus.test) + horizon <= n
    assert np.all(np.diff(corpus.test) == np.diff(corpus.test)[0])  # evenly spaced
    # A test forecast's inputs end before its origin: changing every value from the origin
    # on changes nothing the model reads.
    origin = corpus.test[5]
    values = corpus.series.values.copy()
    values[origin:] += 50.0
    changed = Series("m", corpus.series.times, values, corpus.series.columns, 1800)
    before = raw_windows(corpus.series, [origin], corpus.lookback, horizon)
    after = raw_windows(changed, [origin], corpus.lookback, horizon)
    np.testing.assert_array_equal(before["history"], after["history"])


@pytest.mark.parametrize("name", ["lstm_forecaster", "lstm_attention_forecaster"])
def test_an_untrained_model_forecasts_the_best_seasonal_naive_forecast(tmp_path, name):
    """Through the whole pipeline (scaling, the naive input read from the history, the
    correction, unscaling): before any training the forecast is the seasonal naive one."""
    from zoo.registry import spec
    from zoo.tasks.forecasting.predictor import ForecastPredictor
    from zoo.training import build_compiled

    path = half_hourly_csv(tmp_path / "meter.csv")
    model_args, training = resolve_settings(name, str(path), {"units": 8, "head_units": 8})
    corpus = TASK.load_data(str(path), training)
    pipeline = TASK.fit_pipeline(corpus, training)
    assert pipeline.naive_period == 336  # weekends: last week beats yesterday
    model = build_compiled(spec(name), model_args, training, pipeline)
    predictor = ForecastPredictor(model, pipeline)
    origins = np.asarray(corpus.test)
    raw = raw_windows(corpus.series, origins, pipeline.lookback, pipeline.horizon)
    out = predictor.forecast(raw["history"], raw["future"], raw["forecast_start"])
    naive = seasonal_naive(corpus.series.values[:, 0], origins, pipeline.horizon, 336)
    np.testing.assert_allclose(out["forecast"], naive, rtol=1e-5, atol=1e-4)


def test_the_gradient_boosted_baseline_learns_what_the_naive_forecast_misses():
    """Load = a daily cycle + 2 x a known covariate: LightGBM, given the covariate over the
    horizon, beats yesterday's value by far, and its calibrated interval covers."""
    from zoo.tasks.forecasting.gradient_boosting import BoostedBaseline

    rng = np.random.default_rng(0)
    t = np.arange(24 * 7 * 16)
    heat = rng.normal(0, 1, len(t))
    load = 10 + 3 * np.sin(2 * np.pi * t / 24) + 2 * heat + rng.normal(0, 0.2, len(t))
    series = Series(
        "s", t.astype("int64") * 3600, np.stack([load, heat], -1), ("load", "heat"), 3600
    )
    origins = np.arange(48, len(t) - 24 + 1, 6)
    train, validation, test = origins[:-120], origins[-120:-60], origins[-60:]
    boosted = BoostedBaseline([0.1, 0.5, 0.9], 48, 24, [24], naive_period=24).fit(
        series, train, validation
    )
    quantiles = boosted.predict(series, test)
    actual = load[test[:, None] + np.arange(24)]
    naive = seasonal_naive(load, test, 24, 24)
    assert quantiles.shape == (60, 24, 3) and np.all(np.diff(quantiles, axis=-1) >= 0)
    model_error = np.mean(np.abs(quantiles[..., 1] - actual))
    assert model_error < 0.3 * np.mean(np.abs(naive - actual))
    coverage = np.mean((quantiles[..., 0] <= actual) & (actual <= quantiles[..., 2]))
    assert 0.7 <= coverage <= 0.92


class ScriptedCorrection(keras.layers.Layer):
    """A forecaster whose median is the naive input (the future's last column) plus
    `correction` scaled units, its other quantiles one unit either side."""

    def __init__(self, correction):
        super().__init__()
        self.correction = correction
        self.quantiles = (0.1, 0.5, 0.9)
        self.median_index = 1

    def forecast_with_attention(self, history, future, training=False):
        median = future[..., -1:] + self.correction
        quantiles = keras.ops.concatenate([median - 1.0, median, median + 1.0], axis=-1)
        zeros = keras.ops.zeros_like(history[:, :, :1])
        return quantiles, zeros, keras.ops.zeros_like(future[:, :, :1])


@pytest.mark.parametrize("correction, weight", [(0.0, 1.0), (3.0, 0.0)])
def test_a_correction_that_does_not_pay_on_validation_is_dropped(tmp_path, correction, weight):
    """A correction of 3 standard deviations makes every validation forecast worse: none of it
    is kept, and the forecast is the naive one. A zero correction changes nothing: all of it
    is kept (a tie goes to the model)."""
    from zoo.tasks.forecasting.calibration import calibrate_correction
    from zoo.tasks.forecasting.predictor import ForecastPredictor

    path = half_hourly_csv(tmp_path / "meter.csv")
    _, training = resolve_settings("lstm_forecaster", str(path), {})
    corpus = TASK.load_data(str(path), training)
    pipeline = TASK.fit_pipeline(corpus, training)
    model = ScriptedCorrection(correction)
    assert calibrate_correction(model, pipeline, corpus) == weight
    origins = np.asarray(corpus.test)
    raw = raw_windows(corpus.series, origins, pipeline.lookback, pipeline.horizon)
    out = ForecastPredictor(model, pipeline).forecast(
        raw["history"], raw["future"], raw["forecast_start"]
    )
    naive = seasonal_naive(corpus.series.values[:, 0], origins, pipeline.horizon, 336)
    np.testing.assert_allclose(out["forecast"], naive, rtol=1e-5, atol=1e-4)
    # The other quantiles moved with the median: still one scaled unit either side.
    np.testing.assert_allclose(
        out["quantiles"][..., 2] - out["forecast"], pipeline.std[0], rtol=1e-4
    )


@pytest.mark.parametrize(
    "errors, kept",
    [
        # Weights 0, 0.5, 1 over 4 blocks. Weight 1 is best (mean 1.0). Weight 0.5's paired
        # differences (0.4, -0.2, 0.4, -0.2): mean 0.1 within its standard error
        # 0.3464 / 2 = 0.1732, so the smaller weight is kept; weight 0's (1, 1, 1, 1.4): mean
        # 1.1 over its standard error 0.2 / 2 = 0.1, dropped.
        ([[2.0, 2.0, 2.0, 2.4], [1.4, 0.8, 1.4, 0.8], [1.0, 1.0, 1.0, 1.0]], 1),
        # The same mean gain, but in every block: no noise, the best weight stays.
        ([[2.0, 2.0, 2.0, 2.4], [1.1, 1.1, 1.1, 1.1], [1.0, 1.0, 1.0, 1.0]], 2),
        # One block: no standard error, the best weight.
        ([[2.0], [1.5], [1.0]], 2),
        # A correction that changes nothing: all of it (a tie goes to the model).
        ([[1.0, 2.0], [1.0, 2.0], [1.0, 2.0]], 2),
    ],
)
def test_the_correction_kept_is_the_smallest_within_one_standard_error_of_the_best(errors, kept):
    from zoo.tasks.forecasting.calibration import one_standard_error_weight

    assert one_standard_error_weight(np.asarray(errors)) == kept


def test_forecasts_that_overlap_in_time_share_a_block():
    """Blocks of validation origins for the standard error: origins a step apart with a
    horizon of 4 go 4 to a block; origins a horizon apart are a block each; a panel's series
    share the blocks of their common times."""
    from zoo.tasks.forecasting.calibration import origin_blocks

    hours = np.arange(100, dtype="int64") * 3600
    single = Series("s", hours, np.zeros((100, 1)), ("y",), 3600)
    blocks = origin_blocks(single, np.arange(10, 22), horizon=4)
    np.testing.assert_array_equal(blocks, [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2])
    np.testing.assert_array_equal(origin_blocks(single, [24, 48, 72], horizon=24), [0, 1, 2])
    panel = Series("p", np.concatenate([hours, hours]), np.zeros((200, 1)), ("y",), 3600,
                   starts=(0, 100), ids=("a", "b"))  # fmt: skip
    origins = np.array([10, 12, 14, 16, 110, 112, 114, 116])
    np.testing.assert_array_equal(
        origin_blocks(panel, origins, horizon=4), [0, 0, 1, 1, 0, 0, 1, 1]
    )


def test_the_interval_is_widened_lead_time_by_lead_time():
    """Conformal widening per lead, by hand: 4 origins, 2 leads, quantiles (-1, 0, 1) and 50 %
    coverage, so each lead takes the ceil(5 x 0.5) / 4 = 75 % 'higher' quantile of its scores
    (how far a value lies outside the interval): lead 0 (-1, -0.5, 1, 2) gives 2, lead 1
    (-1, -1, -1, 0.5) gives 0.5 (pooled, the eight scores would give 0.5 for both). The
    pipeline moves the outer quantiles by each lead's widening, steps past the horizon by the
    last lead's, and a run from before (one number) by that number at every step."""
    from zoo.tasks.forecasting.calibration import conformal_widening

    quantiles = np.broadcast_to(np.array([-1.0, 0.0, 1.0]), (4, 2, 3))
    actual = np.array([[0.0, 0.0], [0.5, 0.0], [2.0, 0.0], [3.0, -1.5]])
    widening = conformal_widening(quantiles, actual, coverage=0.5)
    np.testing.assert_array_equal(widening, [2.0, 0.5])

    pipeline = ForecastPipeline(columns=["y"], step=3600, lookback=4, horizon=2, mean=[0.0],
                                std=[1.0], mase_scale=1.0, season=1)  # fmt: skip
    levels = [0.1, 0.5, 0.9]
    pipeline.interval_widening = widening.tolist()
    widened = pipeline.widen(keras.ops.zeros((1, 3, 3)), levels).numpy()
    np.testing.assert_allclose(widened[0], [[-2.0, 0.0, 2.0], [-0.5, 0.0, 0.5], [-0.5, 0.0, 0.5]])
    pipeline.interval_widening = 0.7
    widened = pipeline.widen(keras.ops.zeros((1, 3, 3)), levels).numpy()
    np.testing.assert_allclose(widened[0], [[-0.7, 0.0, 0.7]] * 3, rtol=1e-6)
