"""`zoo train`'s own pipeline and step on JAX, beside PyTorch on the same batches.

    KERAS_BACKEND=jax python benchmarks/shipped_vs_pytorch.py --threads 1 [--rounds 9]

What a user runs, not a hand-made batch: for `dates` (characters, as the main job) and
`bible-es-en` (its preset's pieces, buckets and length limit), the first 8 training batches of
64 come from `TASK.datasets` (the shuffling, length filter and padding plan `zoo train`
uses), and each zoo model trains on them with `model.fit` after `TASK.compile`, the compiled
(XLA) step `zoo train` runs on JAX. Its PyTorch twin of the same architecture and sizes
(`torch_seq2seq.py`: the registry's default sizes, so on `bible-es-en` smaller than the
preset's) trains on the same batches cut to their longest row, its best case. Rounds are
interleaved, each 4 passes over the 8 batches per side; target tokens per second count real
tokens (padding excluded), medians. The first round of each zoo model (tracing and
compiling every shape), less a steady one, is its compile time. Results:
`benchmarks/results/shipped_vs_pytorch.json`.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
from timing import one_xla_core, threads_flag  # noqa: E402

THREADS = threads_flag(default=1)
CORE = one_xla_core(THREADS)

# PyTorch's CUDA wheels bring triton, whose import (by the optimizers, through torch._dynamo)
# crashed this process beside XLA and TensorFlow (a segmentation fault); training on a CPU
# does not use it, so it is kept out.
sys.modules.setdefault("triton", None)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import torch  # noqa: E402
from torch_seq2seq import TorchSeq2Seq, torch_train_step  # noqa: E402

import zoo  # noqa: E402
from zoo.data import load_translation  # noqa: E402
from zoo.tasks.translation.pipeline import TextPipeline  # noqa: E402
from zoo.tasks.translation.task import TASK  # noqa: E402

tf.config.set_visible_devices([], "GPU")
# zoo model: its PyTorch twin (attention, input feeding).
MODELS = {
    "lstm_luong_nmt": ("general", True),
    "lstm_luong_fast_nmt": ("general", False),
    "lstm_nmt": (None, False),
}
CORPORA = {  # as the main job and the bible-es-en preset (zoo/presets.py) train them
    "dates": {"token_level": "char", "max_vocab_size": 16_000, "bucket_by_length": False,
              "max_train_source_length": 0, "max_train_target_length": 0},
    "bible-es-en": {"token_level": "unigram", "max_vocab_size": 8000, "bucket_by_length": True,
                    "max_train_source_length": 40, "max_train_target_length": 40},
}  # fmt: skip


def shipped_batches(name: str, batches: int) -> tuple[TextPipeline, list, dict]:
    corpus = load_translation(name)
    setup = CORPORA[name]
    text = TextPipeline.fit(
        corpus.train, level=setup["token_level"], max_vocab_size=setup["max_vocab_size"]
    )
    training = {
        **TASK.settings,
        **setup,
        "batch_size": 64,
        "seed": 0,
        "jit_compile": True,
        "learning_rate": 3e-3,  # the main job's
        "clipnorm": 1.0,
    }
    train, _ = TASK.datasets(text, corpus, training)
    return text, list(train.take(batches)), training


def torch_batch(item) -> tuple:
    """The batch cut to its longest row on each side (no padding beyond it), as tensors."""
    inputs, target_out, weights = (keras.tree.map_structure(np.asarray, x) for x in item)
    source_len = int((inputs["source"] > 0).sum(1).max())
    target_len = int(weights.sum(1).max())
    return tuple(
        torch.from_numpy(x.astype("int64"))
        for x in (
            inputs["source"][:, :source_len],
            inputs["target_in"][:, :target_len],
            target_out[:, :target_len],
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--batches", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=4, help="passes over them per round")
    parser.add_argument("--out", default="benchmarks/results/shipped_vs_pytorch.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads or os.cpu_count())
    results = {}
    for corpus in CORPORA:
        text, batches, training = shipped_batches(corpus, args.batches)
        tokens = args.repeats * sum(float(np.asarray(w).sum()) for _, _, w in batches)
        shapes = sorted({(x["source"].shape[1], y.shape[1]) for x, y, _ in batches})
        # Each round trains `repeats` passes over the batches in one `fit` call, so that its
        # fixed cost per call (iterators, callbacks) weighs as little as in a real epoch.
        data = tf.data.Dataset.from_generator(
            lambda b=batches: itertools.chain.from_iterable([b] * args.repeats),
            output_signature=tuple(
                keras.tree.map_structure(lambda t: tf.TensorSpec([None, None], t.dtype), batches[0])
            ),
        )
        torch_data = [torch_batch(item) for item in batches]
        sizes = TASK.model_sizes(text)
        for name, (attention, feeding) in MODELS.items():
            keras.utils.set_random_seed(0)
            model = zoo.get(name, **sizes)
            TASK.compile(model, training)
            start = time.perf_counter()
            model.fit(data, epochs=1, verbose=0)  # traces and compiles every shape
            first_epoch = time.perf_counter() - start
            twin = TorchSeq2Seq(sizes["source_vocab_size"], sizes["target_vocab_size"],
                                attention, feeding)  # fmt: skip
            optimizer = torch.optim.Adam(twin.parameters(), 1e-3)
            steps = [torch_train_step(twin, optimizer, *b) for b in torch_data]
            for step in steps:  # warm-up
                step()
            times = {"zoo": [], "pytorch": []}
            for _ in range(args.rounds):
                start = time.perf_counter()
                model.fit(data, epochs=1, verbose=0)
                times["zoo"].append(time.perf_counter() - start)
                start = time.perf_counter()
                for step in steps * args.repeats:
                    step()
                times["pytorch"].append(time.perf_counter() - start)
            median = {side: statistics.median(values) for side, values in times.items()}
            row = {
                "zoo_tokens_per_s": round(tokens / median["zoo"]),
                "pytorch_tokens_per_s": round(tokens / median["pytorch"]),
                "zoo_over_pytorch": round(median["pytorch"] / median["zoo"], 2),
                "compile_s": round(first_epoch - median["zoo"], 1),
                "shapes": len(shapes),
            }
            print(corpus, name, json.dumps(row), flush=True)
            results[f"{corpus}:{name}"] = row
    report = {
        "benchmark": "shipped_vs_pytorch",
        "backend": keras.backend.backend(),
        "threads": args.threads,
        "pinned_core": CORE,
        "rounds": args.rounds,
        "batches": args.batches,
        "repeats": args.repeats,
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "versions": {"keras": keras.__version__, "torch": torch.__version__},
        "results": results,
    }
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
