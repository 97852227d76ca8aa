"""bfloat16 against float32 on this CPU, family by family: each recipe trained as users run it
(`python recipes/<model>.py`, seed 0) with `precision=float32` and `precision=mixed_bfloat16`,
its training speed and its test metric side by side.

    python benchmarks/precision_study.py                        # one model of each family
    python benchmarks/precision_study.py lstm_forecaster --precisions float32 mixed_bfloat16

Speed is what `zoo train` prints for every epoch (Keras' `ms/step`), the median over the
epochs after the first (which also compiles); the two precisions of a model run one after the
other on the same machine, so compare their ratio, not the absolute times. The metric is the
recipe's own test metric (`metrics.json`). Results go to
`benchmarks/results/precision_study.json` and a Markdown table is printed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from recipe_runs import ROOT, RecipeRun, run_study
from timing import chosen

OUT = ROOT / "benchmarks" / "results" / "precision_study.json"
# One model of each family (the twins: the same recurrent layers as the attention models, and
# the fastest recipes), with the headline metric of its task.
MODELS = {
    "lstm_nmt": "exact_match",
    "lstm_classifier": "accuracy",
    "lstm_forecaster": "mae",
    "lstm_ctc_asr": "cer",
}


def train_once(name: str, precision: str, runs_root: Path) -> dict:
    return RecipeRun(name, runs_root / precision, hparams={"precision": precision}).result()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="*", help=f"any of {', '.join(MODELS)} (default: all)")
    parser.add_argument("--precisions", nargs="+", default=["float32", "mixed_bfloat16"])
    args = parser.parse_args()
    args.models = chosen(parser, args.models, MODELS, "models")
    report = run_study(
        OUT,
        args.models,
        lambda name, scratch: {p: train_once(name, p, scratch) for p in args.precisions},
    )
    print("| model | metric | " + " | ".join(f"{p} ms/step, metric" for p in args.precisions)
          + " | speed-up |")  # fmt: skip
    print("|---|---|" + "---|" * len(args.precisions) + "---|")
    for name, metric in MODELS.items():
        if name not in report:
            continue
        runs = report[name]
        cells = [f"{r['ms_per_step']:.0f}, {r['metrics'][metric]:.4g}" for r in runs.values()]
        times = [r["ms_per_step"] for r in runs.values()]
        print(f"| `{name}` | {metric} | {' | '.join(cells)} | {times[0] / times[-1]:.2f}x |")


if __name__ == "__main__":
    main()
