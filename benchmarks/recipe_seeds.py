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
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).parents[1]
OUT = ROOT / "benchmarks" / "results" / "recipe_seeds.json"
HEADLINE = {  # task -> metrics.json keys shown, the first one ranked
    "translation": ["exact_match", "bleu", "chrf"],
    "classification": ["accuracy", "macro_f1"],
}


def train_once(name: str, seed: int, runs_root: Path) -> dict:
    subprocess.run(
        [sys.executable, str(ROOT / "recipes" / f"{name}.py"), "--seed", str(seed), "--new",
         "--runs-root", str(runs_root)],
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    run = max((runs_root / name).iterdir())  # the newest run
    return json.loads((run / "metrics.json").read_text())


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
    args = parser.parse_args()
    names = args.models or zoo.list_models()
    report = json.loads(OUT.read_text()) if OUT.is_file() else {}
    with tempfile.TemporaryDirectory() as runs_root:
        for name in names:
            keys = HEADLINE[zoo.spec(name).task]
            runs = [train_once(name, seed, Path(runs_root)) for seed in args.seeds]
            report[name] = {
                "data": zoo.spec(name).default_data,
                "seeds": args.seeds,
                **{key: summary([run[key] for run in runs]) for key in keys},
            }
            print(f"{name}: {json.dumps(report[name][keys[0]])}", flush=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2) + "\n")
    print("\n| model | data | seeds | metric | mean | min-max |\n|---|---|---|---|---|---|")
    for name, row in report.items():
        key = HEADLINE[zoo.spec(name).task][0]
        scale = 100 if key in ("exact_match", "accuracy") else 1
        stat = row[key]
        print(
            f"| `{name}` | `{row['data']}` | {len(row['seeds'])} | {key} | "
            f"{scale * stat['mean']:.1f} | {scale * stat['min']:.1f}-{scale * stat['max']:.1f} |"
        )


if __name__ == "__main__":
    main()
