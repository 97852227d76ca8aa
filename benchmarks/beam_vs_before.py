"""Beam-search latency now against the search before its rewrite, side by side.

    python benchmarks/beam_vs_before.py [--before c7f4bdd] [--rounds 5] [--threads 1]

The rewrite (fairseq / tensor2tensor beam search: parent pointers traced back once, a
separate finished pool, early stop by bound, attention maps only when asked, keys prepared
once per sentence) came after commit `c7f4bdd`. This script trains each translation model
briefly on `dates` with the current code (so hypotheses end as a trained model's do), saves
its weights, and loads them into two worker processes (`beam_worker.py`): one running the
current tree, one running `c7f4bdd`'s (`git archive` into a temporary folder). The workers
check they hold the same model (equal teacher-forced logits), then decode the same batch of
test sentences in turns (old, new, new with attention maps, round after round), so drifting
load hits them alike. Results: `benchmarks/results/beam_vs_before.json`, medians and the
speed-up old / new.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

ROOT = Path(__file__).parents[1]
WORKER = Path(__file__).with_name("beam_worker.py")
BEFORE = "c7f4bdd"  # the last commit with the old beam search
MODELS = ["lstm_nmt", "lstm_luong_nmt", "lstm_bahdanau_nmt"]


class Worker:
    """A `beam_worker.py` process over one source tree, spoken to in JSON lines."""

    def __init__(self, tree: Path, threads: int):
        env = {**os.environ, "PYTHONPATH": str(tree), "BENCH_THREADS": str(threads)}
        self.process = subprocess.Popen(
            [sys.executable, str(WORKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=tree,
        )

    def ask(self, **command) -> dict:
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"beam worker exited (code {self.process.wait()})")
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(answer["error"])
        return answer

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()


def tree_at(commit: str, folder: Path) -> Path:
    """`commit`'s `zoo/` extracted into `folder` (`git archive`), for a worker to import."""
    folder.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", commit, "zoo"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


@contextlib.contextmanager
def workers_at(commit: str, threads: int) -> Iterator[tuple[Path, dict[str, Worker]]]:
    """A scratch folder and two workers, `"before"` on `commit`'s tree and `"now"` on this
    one; closed on leaving."""
    with tempfile.TemporaryDirectory() as tmp:
        before = tree_at(commit, Path(tmp, "before"))
        workers = {"before": Worker(before, threads), "now": Worker(ROOT, threads)}
        try:
            yield Path(tmp), workers
        finally:
            for worker in workers.values():
                worker.close()


def trained_weights(name: str, steps: int, path: Path) -> None:
    """Trains `name` on `dates` for `steps` batches of 64 and saves its weights to `path`."""
    import zoo
    from zoo.data import load_translation
    from zoo.tasks.translation.pipeline import TextPipeline
    from zoo.tasks.translation.task import TASK

    keras.utils.set_random_seed(0)
    corpus = load_translation("dates")
    text = TextPipeline.fit(corpus.train, level="char")
    model = zoo.get(name, **TASK.model_sizes(text))
    TASK.compile(model, {"learning_rate": 2e-3, "clipnorm": 1.0})
    data = text.dataset(corpus.train, 64, shuffle=True, seed=0).repeat().take(steps)
    model.fit(data, verbose=0)
    np.savez(path, **{f"w{i}": w for i, w in enumerate(model.get_weights())})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("models", nargs="*", default=MODELS)
    parser.add_argument("--before", default=BEFORE, help="commit of the old beam search")
    parser.add_argument("--batch", type=int, nargs="+", default=[64, 1])
    parser.add_argument("--beam", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--train-steps", type=int, default=600)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default="benchmarks/results/beam_vs_before.json")
    args = parser.parse_args()
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)

    results: dict = {}
    with workers_at(args.before, args.threads) as (tmp, workers):
        for name in args.models:
            weights = tmp / f"{name}.npz"
            trained_weights(name, args.train_steps, weights)
            for batch in args.batch:
                results[f"{name}:beam{args.beam}:batch{batch}"] = compare(
                    workers, name, weights, batch, args
                )
            # Long sources, where the old search's history rewriting cost the most.
            results[f"{name}:beam{args.beam}:batch64:long"] = compare(
                workers, name, weights, 64, args, long=True
            )

    report = {
        "benchmark": "beam_vs_before",
        "before": args.before,
        "beam_size": args.beam,
        "rounds": args.rounds,
        "threads": args.threads,
        "train_steps": args.train_steps,
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
        },
        "results": results,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


def compare(workers: dict, name: str, weights: Path, batch: int, args, long=False) -> dict:
    """Loads the weights into both workers, checks the models agree, times them in turns."""
    load = {"model": name, "weights": str(weights), "beam": args.beam, "batch": batch}
    sums = {side: worker.ask(cmd="load", long=long, **load) for side, worker in workers.items()}
    before_sum, now_sum = sums["before"]["checksum"], sums["now"]["checksum"]
    if abs(before_sum - now_sum) > 1e-4 * abs(now_sum):
        raise RuntimeError(f"{name}: the two versions compute different logits for the weights")
    runs = {"before": ("before", True), "now": ("now", False), "now_with_attention": ("now", True)}
    samples: dict[str, list[float]] = {key: [] for key in runs}
    outputs = {}
    for _ in range(args.rounds):
        for key, (side, attention) in runs.items():
            answer = workers[side].ask(cmd="time", repeats=args.repeats, attention=attention)
            samples[key].append(answer["seconds"])
            outputs[key] = answer["translations"]
    median = {key: statistics.median(values) for key, values in samples.items()}
    same = sum(a == b for a, b in zip(outputs["before"], outputs["now"], strict=True))
    row = {
        **{f"{key}_ms": round(1000 * value, 2) for key, value in median.items()},
        "speedup": round(median["before"] / median["now"], 2),
        "speedup_with_attention": round(median["before"] / median["now_with_attention"], 2),
        "same_output": f"{same}/{batch}",
    }
    print(f"{name} batch {batch}{' long' if long else ''}: {json.dumps(row)}", flush=True)
    return row


if __name__ == "__main__":
    main()
