"""The README's results: each recipe trained with several initialization seeds, mean and spread.

    python benchmarks/recipe_seeds.py                          # every registered model, seeds 0-2
    python benchmarks/recipe_seeds.py lstm_luong_nmt lstm_nmt --seeds 0 1 2

Each run is `python recipes/<model>.py --seed S --new` (the data split stays `split_seed` 0,
so every seed is scored on the same test set). Results go to
`benchmarks/results/recipe_seeds.json` (merged with what is there) and a Markdown table is
printed: the task's headline metric as mean, minimum and maximum over the seeds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

from recipe_runs import ROOT, RecipeRun

OUT = ROOT / "benchmarks" / "results" / "recipe_seeds.json"
HEADLINE = {  # task -> metrics.json keys shown, the first one ranked
    "translation": ["exact_match", "bleu", "chrf"],
    "classification": ["accuracy", "macro_f1"],
    "forecasting": ["mae", "rmse", "mase", "pinball", "coverage"],
    "speech": ["cer", "wer", "exact_match"],
}
LOWER_IS_BETTER = {"mae", "rmse", "mase", "pinball", "cer", "wer"}
PERCENT = {"exact_match", "accuracy", "coverage", "cer", "wer"}
LEAD_PLOT = ROOT / "benchmarks" / "results" / "forecast_mae_by_lead.png"


def train_once(name: str, seed: int, runs_root: Path) -> dict:
    result = RecipeRun(name, runs_root, seed=seed).result()
    # seconds: the whole recipe (data, training, test)
    return result["metrics"] | {"seconds": result["recipe_seconds"]}


def summary(values: list[float]) -> dict:
    return {
        "mean": statistics.mean(values),
        "min": min(values),
        "max": max(values),
        "values": values,
    }


def main() -> None:
    import zoo

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("models", nargs="*", help="registered names (default: all)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--keep-runs", help="folder to keep the runs in (default: deleted)")
    args = parser.parse_args()
    names = args.models or zoo.list_models()
    report = json.loads(OUT.read_text()) if OUT.is_file() else {}
    with tempfile.TemporaryDirectory() as scratch:
        runs_root = args.keep_runs or scratch
        for name in names:
            keys = HEADLINE[zoo.spec(name).task]
            runs = [train_once(name, seed, Path(runs_root)) for seed in args.seeds]
            report[name] = {
                "data": zoo.spec(name).default_data,
                "seeds": args.seeds,
                **{key: summary([run[key] for run in runs]) for key in [*keys, "seconds"]},
            }
            if "mae_by_lead" in runs[0]:  # forecasters: the curves and the baselines
                by_lead = zip(*[run["mae_by_lead"] for run in runs], strict=True)
                report[name]["mae_by_lead"] = [statistics.mean(v) for v in by_lead]
                report[name]["baselines"] = runs[0]["baselines"]
                # LightGBM's bagging follows the run's seed: its MAE over the seeds too.
                report[name]["baseline_mae"] = {
                    baseline: summary([run["baselines"][baseline]["mae"] for run in runs])
                    for baseline in runs[0]["baselines"]
                }
            print(f"{name}: {json.dumps(report[name][keys[0]])}", flush=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2) + "\n")
    print("\n| model | data | seeds | metric | mean | min-max |\n|---|---|---|---|---|---|")
    for name, row in report.items():
        for key in HEADLINE[zoo.spec(name).task][:1] + (
            ["coverage"] if zoo.spec(name).task == "forecasting" else []
        ):
            scale = 100 if key in PERCENT else 1
            digits = 1 if key in PERCENT else 3
            stat = row[key]
            print(
                f"| `{name}` | `{row['data']}` | {len(row['seeds'])} | {key} | "
                f"{scale * stat['mean']:.{digits}f} | "
                f"{scale * stat['min']:.{digits}f}-{scale * stat['max']:.{digits}f} |"
            )
    plot_lead_times(report)


def plot_lead_times(report: dict) -> None:
    """MAE by lead time of the forecasters (mean over seeds) and their baselines."""
    rows = {name: row for name, row in report.items() if "mae_by_lead" in row}
    if not rows:
        return
    from zoo import plots

    curves = {name: row["mae_by_lead"] for name, row in rows.items()}
    for baseline, metrics in next(iter(rows.values()))["baselines"].items():
        curves[baseline] = metrics["mae_by_lead"]
    hours = [0.5 * step for step in range(len(next(iter(curves.values()))))]
    plots.lead_time_errors(curves, hours, LEAD_PLOT, "GW")
    print(f"\nMAE by lead time: {LEAD_PLOT}")


if __name__ == "__main__":
    main()
