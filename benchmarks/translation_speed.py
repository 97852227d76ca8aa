"""Training and decoding speed of the translation models, side by side on this machine.

    python benchmarks/translation_speed.py [--out benchmarks/results/translation_speed.json]

For each model (registry defaults, `dates` vocabularies, batch 64) it measures training
target tokens per second (compiled `train_on_batch` steps after a warm-up) and greedy and
beam-4 decoding sentences per second (the in-graph search under `tf.function`). Every model
is timed in one process, interleaved over several rounds and reported as the median, so the
numbers compare with each other; absolute values depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

import zoo  # noqa: E402
from zoo.data import load_translation  # noqa: E402
from zoo.tasks.translation import TextPipeline, Translator  # noqa: E402

BATCH = 64


def build(name: str, text: TextPipeline) -> keras.Model:
    model = zoo.get(
        name, source_vocab_size=len(text.source_vocab), target_vocab_size=len(text.target_vocab)
    )
    model.compile(
        optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    return model


def time_training(model, inputs, targets, weights, steps: int) -> float:
    model.train_on_batch(inputs, targets, sample_weight=weights)  # trace and compile
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(inputs, targets, sample_weight=weights)
    elapsed = time.perf_counter() - start
    return float(weights.numpy().sum()) * steps / elapsed


def time_decoding(translator: Translator, source_ids, repeats: int) -> float:
    translator._decode(source_ids)  # trace
    start = time.perf_counter()
    for _ in range(repeats):
        translator._decode(source_ids)["translation"].numpy()
    return BATCH * repeats / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="benchmarks/results/translation_speed.json")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()

    corpus = load_translation("dates")
    text = TextPipeline.fit(corpus.train, level="char")
    batch = next(iter(text.dataset(corpus.train[:BATCH], BATCH)))
    inputs, targets, weights = batch
    names = zoo.list_models(task="translation")
    models = {name: build(name, text) for name in names}
    searches = {
        name: {
            "greedy": Translator(models[name], text, beam_size=1),
            "beam4": Translator(models[name], text, beam_size=4),
        }
        for name in names
    }
    samples: dict[str, dict[str, list[float]]] = {
        n: {"train_tokens_per_s": [], "greedy_sentences_per_s": [], "beam4_sentences_per_s": []}
        for n in names
    }
    for _ in range(args.rounds):  # interleaved, so drifting machine load hits all alike
        for name in names:
            s = samples[name]
            s["train_tokens_per_s"].append(
                time_training(models[name], inputs, targets, weights, args.steps)
            )
            source_ids = inputs["source"]
            s["greedy_sentences_per_s"].append(
                time_decoding(searches[name]["greedy"], source_ids, 3)
            )
            s["beam4_sentences_per_s"].append(time_decoding(searches[name]["beam4"], source_ids, 3))
    results = {
        name: {key: round(statistics.median(values), 1) for key, values in s.items()}
        for name, s in samples.items()
    }
    baseline = results["lstm_nmt"]
    for name in names:
        results[name]["train_speed_vs_lstm_nmt"] = round(
            results[name]["train_tokens_per_s"] / baseline["train_tokens_per_s"], 3
        )
    report = {
        "benchmark": "translation_speed",
        "batch_size": BATCH,
        "rounds": args.rounds,
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor(),
            "cpus": os.cpu_count(),
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "backend": keras.backend.backend(),
        },
        "results": results,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
