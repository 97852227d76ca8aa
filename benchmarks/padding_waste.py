"""Padded steps per real step, and compiled shapes, of the batches `zoo train` makes.

    KERAS_BACKEND=jax python benchmarks/padding_waste.py [--time-steps 30]

For `dates` (characters, batch 64, as the main job) and `bible-es-en` (its preset: unigram
pieces, similar-length buckets, pairs of at most 40 pieces), one shuffled epoch of the
training batches is read twice: padded as before (lengths up to a multiple of 8 for a
compiled step; with buckets, both sides up to the bucket's bound) and with the padding plan
chosen from the data (`zoo.data.padding`). Per side it reports padded steps per real step of
each batch's longest row (the wasted work of a compiled loop), and the distinct (source,
target) shapes, each one compilation. With `--time-steps N` it also trains `lstm_luong_nmt`
on JAX (the compiled step `zoo train` runs there; `dates` only unless `--time-corpora` names
more) on the first N batches of each: the first pass over every shape (compilation
included) and the median step afterwards, one XLA thread.
Results: `benchmarks/results/padding_waste.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import zoo  # noqa: E402
from zoo.data import load_translation  # noqa: E402
from zoo.data.padding import BUCKET_BOUNDARIES, PaddingPlan  # noqa: E402
from zoo.tasks.translation.pipeline import TextPipeline, length_filter  # noqa: E402
from zoo.tasks.translation.task import TASK  # noqa: E402

# As the main job and the bible-es-en preset (zoo/presets.py) train them.
CORPORA = {
    "dates": {"level": "char", "vocab": 16_000, "bucket_by_length": False, "max_length": 0},
    "bible-es-en": {"level": "unigram", "vocab": 8000, "bucket_by_length": True, "max_length": 40},
}


def before_plan(text: TextPipeline, pairs, bucket_by_length: bool) -> PaddingPlan:
    """The padding before the plan: each side up to a multiple of 8 for a compiled step, or
    with buckets up to the next bucket bound."""
    if bucket_by_length:
        edges = BUCKET_BOUNDARIES
        return PaddingPlan(source_edges=edges, target_edges=edges, buckets=edges)
    top = int((text.lengths(pairs) + [0, 1]).max())
    edges = tuple(range(8, top + 8, 8))
    return PaddingPlan(source_edges=edges, target_edges=edges)


def measure(text: TextPipeline, pairs, plan: PaddingPlan, batch: int) -> dict:
    padded, longest, shapes = np.zeros(2), np.zeros(2), set()
    batches = 0
    for inputs, target_out, weights in text.dataset(pairs, batch, shuffle=True, padding=plan):
        widths = (inputs["source"].shape[1], target_out.shape[1])
        real = (int((inputs["source"] > 0).numpy().sum(1).max()), int(weights.numpy().sum(1).max()))
        padded += widths
        longest += real
        shapes.add(widths)
        batches += 1
    ratio = padded / longest
    return {
        "source_padded_per_real": round(float(ratio[0]), 3),
        "target_padded_per_real": round(float(ratio[1]), 3),
        "shapes": len(shapes),
        "batches": batches,
    }


def time_training(text, pairs, plan, batch, steps) -> dict:
    """Trains lstm_luong_nmt (JAX, compiled) on the first `steps` batches padded as `plan`."""
    batches = text.dataset(pairs, batch, shuffle=True, padding=plan).take(steps)
    data = [tuple(keras.tree.map_structure(np.asarray, item)) for item in batches]
    keras.utils.set_random_seed(0)
    model = zoo.get("lstm_luong_nmt", **TASK.model_sizes(text))
    TASK.compile(model, {"learning_rate": 1e-3, "clipnorm": 1.0, "jit_compile": True})
    start = time.perf_counter()
    for inputs, target_out, weights in data:
        model.train_on_batch(inputs, target_out, sample_weight=weights)
    first_pass = time.perf_counter() - start
    seconds, tokens = [], 0
    for inputs, target_out, weights in data:
        start = time.perf_counter()
        model.train_on_batch(inputs, target_out, sample_weight=weights)
        seconds.append(time.perf_counter() - start)
        tokens += int(weights.sum())
    return {
        "first_pass_s": round(first_pass, 1),
        "median_step_ms": round(1000 * statistics.median(seconds), 2),
        "target_tokens_per_s": round(tokens / sum(seconds)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--time-steps", type=int, default=0)
    parser.add_argument("--time-corpora", nargs="+", default=["dates"])
    parser.add_argument("--out", default="benchmarks/results/padding_waste.json")
    args = parser.parse_args()
    results = {}
    for name, setup in CORPORA.items():
        corpus = load_translation(name)
        text = TextPipeline.fit(corpus.train, level=setup["level"], max_vocab_size=setup["vocab"])
        pairs, _ = length_filter(text, corpus.train, setup["max_length"], setup["max_length"])
        bucketed = setup["bucket_by_length"]
        plans = {
            "before": before_plan(text, pairs, bucketed),
            "now": text.padding_plan(pairs, args.batch, bucketed, compiled=True),
        }
        row = {"plan": plans["now"].describe()}
        for key, plan in plans.items():
            row[key] = measure(text, pairs, plan, args.batch)
        # Timed after every batch is read: building a model on JAX clears the session, and
        # with it the TensorFlow resources of a SentencePiece tokenizer.
        for key, plan in plans.items():
            if args.time_steps and name in args.time_corpora:
                row[key]["training"] = time_training(text, pairs, plan, args.batch, args.time_steps)
            print(name, key, json.dumps(row[key]), flush=True)
        results[name] = row
    report = {
        "benchmark": "padding_waste",
        "backend": keras.backend.backend(),
        "batch_size": args.batch,
        "cpus": os.cpu_count(),
        "results": results,
    }
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
