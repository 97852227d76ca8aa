"""Training and decoding speed of the translation models now against an earlier commit.

    python benchmarks/train_vs_before.py --before df4fc7a [--rounds 7] [--threads 1]

Written for the rebuild of `Seq2Seq` on the public `AttentionCell` (after `df4fc7a`): the
blocks must cost nothing per step. Two worker processes (`beam_worker.py`), one on the
current tree and one on the earlier commit's (`git archive`), load the same trained weights
(checked: equal teacher-forced logits), then in turns, round after round, so drifting load
hits them alike: train on the same 20 `dates` batches of 64 through the task's own compile
and pipeline (what `zoo train` runs, one epoch of them per round) and beam-search the same
64 test sentences (as the export does, one trace for every shape). The training timings
continue from the same weights on both sides, so both sides run the same arithmetic.
Run it once per backend (`KERAS_BACKEND=jax` times JAX training; decoding is timed on
TensorFlow, whose graphs the export serves). Results: `benchmarks/results/
train_vs_before_<backend>.json`, medians and the ratio before / now (above 1: now is faster).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import keras  # noqa: E402
from beam_vs_before import ROOT, trained_weights, workers_at  # noqa: E402

MODELS = ["lstm_luong_nmt", "lstm_bahdanau_nmt", "lstm_luong_fast_nmt", "lstm_nmt"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("models", nargs="*", default=MODELS)
    parser.add_argument("--before", required=True, help="the commit to compare with")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=20, help="training batches per round")
    parser.add_argument("--beam", type=int, default=4)
    parser.add_argument("--train-steps", type=int, default=300, help="before the timing")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-decoding", action="store_true")
    args = parser.parse_args()
    backend = keras.backend.backend()
    results: dict = {}
    with workers_at(args.before, args.threads) as (tmp, workers):
        for name in args.models:
            weights = tmp / f"{name}.npz"
            trained_weights(name, args.train_steps, weights)
            results[name] = compare(workers, name, weights, args)
    report = {
        "benchmark": "train_vs_before",
        "backend": backend,
        "before": args.before,
        "now": subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
        ).stdout.strip(),
        "rounds": args.rounds,
        "train_batches_per_round": args.steps,
        "beam_size": args.beam,
        "threads": args.threads,
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "keras": keras.__version__,
        "results": results,
    }
    out = Path(f"benchmarks/results/train_vs_before_{backend}.json")
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


def compare(workers: dict, name: str, weights: Path, args) -> dict:
    load = {"model": name, "weights": str(weights), "beam": args.beam, "batch": 64}
    sums = {side: worker.ask(cmd="load", **load) for side, worker in workers.items()}
    if abs(sums["before"]["checksum"] - sums["now"]["checksum"]) > 1e-4 * sums["now"]["checksum"]:
        raise RuntimeError(f"{name}: the two versions compute different logits")
    samples: dict[str, dict[str, list[float]]] = {side: {} for side in workers}
    compile_seconds = {}
    losses: dict[str, list[float]] = {side: [] for side in workers}
    outputs = {}
    for _ in range(args.rounds):
        for side, worker in workers.items():
            if not args.no_decoding:
                answer = worker.ask(cmd="time", repeats=3, attention=False)
                samples[side].setdefault("beam", []).append(answer["seconds"])
                outputs[side] = answer["translations"]
            answer = worker.ask(cmd="train", steps=args.steps)
            samples[side].setdefault("train_step", []).append(answer["seconds"])
            compile_seconds[side] = round(answer["compile_seconds"], 2)
            losses[side].append(answer["loss"])
    row: dict = {"compile_s": compile_seconds}
    for kind in samples["now"]:
        median = {side: statistics.median(samples[side][kind]) for side in workers}
        row[f"{kind}_ms"] = {side: round(1000 * value, 2) for side, value in median.items()}
        row[f"{kind}_before_over_now"] = round(median["before"] / median["now"], 3)
    # Same arithmetic on both sides: the losses of each round agree (to float rounding).
    row["last_loss"] = {side: round(values[-1], 5) for side, values in losses.items()}
    if outputs:
        same = sum(a == b for a, b in zip(outputs["before"], outputs["now"], strict=True))
        row["same_beam_output"] = f"{same}/{len(outputs['now'])}"
    print(f"{name}: {json.dumps(row)}", flush=True)
    return row


if __name__ == "__main__":
    main()
