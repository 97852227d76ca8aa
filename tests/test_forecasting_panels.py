"""One forecaster for many series (a panel in a long CSV): training with every series weighing
alike, per-series scores, evaluation of the run's own file, forecasts per series from recent
data and from the export."""

import datetime
import json
from pathlib import Path

import numpy as np
import pytest
from made_once import made_once, trained_once
from test_forecasting import query_in_a_fresh_process

from zoo.cli import main
from zoo.data.panels import series_of_rows
from zoo.data.seasonality import seasonal_naive
from zoo.data.series_csv import read_panel_csv
from zoo.settings import resolve_settings
from zoo.tasks.forecasting.pipeline import raw_windows
from zoo.tasks.forecasting.task import TASK
from zoo.training import train

SCALES = {"corner": 1.0, "mall": 8.0, "station": 60.0}
DAYS = 150
TINY = {"units": 8, "head_units": 8, "batch_size": 32, "epochs": 2, "series_id": "shop"}


def shop_sales(path, days=DAYS, seed=0, start="2024-01-01"):
    """Daily sales of three shops of very different sizes: a weekly pattern (quiet Sundays)
    times the shop's size, and noise; the rows interleaved by date, as exports are."""
    rng = np.random.default_rng(seed)
    first = datetime.date.fromisoformat(start)
    lines = ["date,shop,sales,promotion"]
    for d in range(days):
        day = first + datetime.timedelta(days=d)
        promotion = int(day.day in (1, 15))
        for shop, size in SCALES.items():
            level = (10 - 6 * (day.weekday() == 6) + 4 * promotion) * size
            lines.append(f"{day},{shop},{level + rng.normal(0, 0.5 * size):.3f},{promotion}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def panel_run(tmp_path_factory):
    data = Path(
        made_once(tmp_path_factory, "shop-sales", lambda f: str(shop_sales(f / "shops.csv")))
    )
    run = trained_once(tmp_path_factory, "panel", lambda runs: train(
        "lstm_forecaster", str(data), runs_root=runs, verbose=0, target="sales", **TINY
    ))  # fmt: skip
    return run, data


def test_a_panel_run_scores_each_series_in_its_own_scale(panel_run):
    run, _ = panel_run
    metrics = json.loads((run / "metrics.json").read_text())
    config = json.loads((run / "config.json").read_text())
    assert config["training"]["periods"] == {"week": 7}  # every shop shows it
    assert set(metrics["by_series"]) == set(SCALES)
    for m in metrics["by_series"].values():
        assert m["best_naive"] in metrics["baselines"] and m["count"] == 9  # 15 test days
    # MASE per window in its series' scale: the overall MASE is the windows' mean of the
    # shops' MASEs, weighted by their counts, not the station's MAE over a mean scale.
    counts = np.array([m["count"] for m in metrics["by_series"].values()])
    mases = np.array([m["mase"] for m in metrics["by_series"].values()])
    assert metrics["mase"] == pytest.approx(float(counts @ mases / counts.sum()), rel=1e-6)
    assert "LightGBM" in metrics["baselines"]
    header, *rows = (run / "test_forecasts.csv").read_text().splitlines()
    assert header.startswith("series,origin,time,lead")
    assert {row.split(",")[0] for row in rows} == set(SCALES)
    pipeline = json.loads((run / "series.json").read_text())
    assert pipeline["series_id"] == "shop"
    assert {row[2] for row in pipeline["seen_sample"]} == set(SCALES)


def test_an_untrained_panel_model_forecasts_each_series_naive(tmp_path):
    """Whatever the series' size, the untrained model's forecast is its own seasonal naive one
    (the weights and the per-window scaling change nothing there)."""
    from zoo.registry import spec
    from zoo.tasks.forecasting.predictor import ForecastPredictor
    from zoo.training import build_compiled

    data = shop_sales(tmp_path / "shops.csv")
    model_args, training = resolve_settings(
        "lstm_attention_forecaster", str(data), {"series_id": "shop", "target": "sales"}
    )
    corpus = TASK.load_data(str(data), training)
    pipeline = TASK.fit_pipeline(corpus, training)
    assert pipeline.naive_period == 7
    model = build_compiled(spec("lstm_attention_forecaster"), model_args, training, pipeline)
    origins = np.asarray(corpus.test)
    assert set(series_of_rows(corpus.series)[origins]) == {0, 1, 2}
    raw = raw_windows(corpus.series, origins, pipeline.lookback, pipeline.horizon)
    out = ForecastPredictor(model, pipeline).forecast(
        raw["history"], raw["future"], raw["forecast_start"]
    )
    naive = seasonal_naive(corpus.series.values[:, 0], origins, pipeline.horizon, 7)
    np.testing.assert_allclose(out["forecast"], naive, rtol=1e-5, atol=1e-3)


def test_evaluating_the_run_s_own_panel_scores_only_what_it_never_read(panel_run, capsys):
    run, data = panel_run
    assert main(["evaluate", str(run), "--data", str(data)]) == 0
    out = capsys.readouterr().out
    assert "3 of 3 series are the run's own" in out
    recorded = json.loads((run / "metrics.json").read_text())
    again = json.loads((run / "evaluations" / "shops" / "metrics.json").read_text())
    assert again["count"] == recorded["count"]
    assert again["mae"] == pytest.approx(recorded["mae"], rel=1e-5)
    # New shops (other values over the same days) are scored whole.
    other = shop_sales(data.with_name("new_shops.csv"), seed=1)
    assert main(["evaluate", str(run), "--data", str(other)]) == 0
    assert "not scored" not in capsys.readouterr().out
    fresh = json.loads((run / "evaluations" / "new_shops" / "metrics.json").read_text())
    assert fresh["count"] > recorded["count"] and "LightGBM" in fresh["baselines"]


def test_predict_forecasts_every_series_of_a_recent_csv_and_the_export_agrees(
    panel_run, tmp_path, capsys
):
    from zoo.serving import export

    run, data = panel_run
    series, _ = read_panel_csv(data, "shop", "sales")
    lookback = json.loads((run / "series.json").read_text())["lookback"]
    lines = ["date,shop,sales,promotion"]
    for key, start, end in series.segments():
        for i in range(end - lookback, end):
            day = datetime.date(2024, 1, 1) + datetime.timedelta(days=i - start)
            lines.append(f"{day},{key},{series.values[i, 0]},{int(series.values[i, 1])}")
        for i in range(3):  # three days to forecast, the covariate known
            day = datetime.date(2024, 1, 1) + datetime.timedelta(days=DAYS + i)
            lines.append(f"{day},{key},,{int(day.day in (1, 15))}")
    recent = tmp_path / "recent.csv"
    recent.write_text("\n".join(lines) + "\n")
    assert main(["predict", str(run), str(recent)]) == 0
    printed = [line for line in capsys.readouterr().out.splitlines() if "quantiles" in line]
    assert [line.split("\t")[0] for line in printed] == [k for k in SCALES for _ in range(3)]
    # The export takes a window's history without its id and answers as the library does.
    path = export(run, root=tmp_path / "exports")
    predictor = TASK.load_predictor(run)
    origins = [series.starts[1] + 40, series.starts[2] + 60]
    raw = raw_windows(series, origins, lookback, 7)
    expected = predictor.forecast(raw["history"], raw["future"], raw["forecast_start"])
    result = query_in_a_fresh_process(path, raw, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    np.testing.assert_allclose(out["quantiles"], expected["quantiles"], rtol=1e-5, atol=1e-4)
