"""Which Keras backend trains each family fastest on this CPU: one recipe of each family trained
as users run it (`KERAS_BACKEND=... python recipes/<model>.py`, seed 0) on TensorFlow and on
JAX, side by side, with its test metric.

    python benchmarks/backend_study.py                         # the attention model of each family
    python benchmarks/backend_study.py lstm_luong_nmt --backends tensorflow jax

The backends' runs of a model start at the same moment, each pinned to its own CPU core, so
both see the same machine (a 2-core CPU has one core for each); compare their ratio, not the
absolute times, which are one core's. Speed is what `zoo train` prints for every epoch
(Keras' `ms/step`), the median over the epochs after the first (which also traces or
compiles); the recipe's seconds include data preparation, compilation and the test. Results go
to `benchmarks/results/backend_study.json` and a Markdown table is printed.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from recipe_runs import ROOT, RecipeRun, run_study
from timing import chosen

OUT = ROOT / "benchmarks" / "results" / "backend_study.json"
# The attention model of each family, with its task's headline metric (the README's).
MODELS = {
    "lstm_luong_nmt": "exact_match",
    "lstm_attention_classifier": "accuracy",
    "lstm_attention_forecaster": "mae",
    "lstm_ctc_asr": "cer",  # the speech twin: the LAS recipe takes over an hour on one core
}
# Speed only: a speech recipe takes 15 minutes on two cores, so it trains a few epochs here
# (its metric is then not the recipe's).
SPEED_ONLY = {"lstm_ctc_asr": {"epochs": 3}}


def side_by_side(name: str, backends: list[str], runs_root: Path) -> dict:
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < len(backends):
        sys.exit(f"{len(backends)} backends side by side need as many CPU cores ({len(cores)})")
    runs = {
        backend: RecipeRun(
            name,
            runs_root / backend,
            hparams=SPEED_ONLY.get(name),
            env={"KERAS_BACKEND": backend},
            core=core,
        )  # fmt: skip
        for backend, core in zip(backends, cores, strict=False)
    }
    return {backend: run.result() for backend, run in runs.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="*", help=f"any of {', '.join(MODELS)} (default: all)")
    parser.add_argument("--backends", nargs="+", default=["tensorflow", "jax"])
    args = parser.parse_args()
    args.models = chosen(parser, args.models, MODELS, "models")
    report = run_study(
        OUT, args.models, lambda name, scratch: side_by_side(name, args.backends, scratch)
    )
    columns = [f"{backend}: ms/step, metric, recipe s" for backend in args.backends]
    ratio = f"{args.backends[0]} / {args.backends[-1]} time per step"
    print(f"| model | metric | {' | '.join(columns)} | {ratio} |")
    print("|---|---|" + "---|" * len(args.backends) + "---|")
    for name, metric in MODELS.items():
        if name not in report:
            continue
        runs = report[name]
        cells = [
            f"{r['ms_per_step']:.0f}, {r['metrics'][metric]:.4g}, {r['recipe_seconds']:.0f}"
            for r in runs.values()
        ]
        times = [r["ms_per_step"] for r in runs.values()]
        note = " (speed only: 3 epochs)" if name in SPEED_ONLY else ""
        print(f"| `{name}`{note} | {metric} | {' | '.join(cells)} | {times[0] / times[-1]:.2f}x |")


if __name__ == "__main__":
    main()
